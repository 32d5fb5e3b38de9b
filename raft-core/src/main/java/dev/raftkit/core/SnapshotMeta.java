package dev.raftkit.core;

import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.EntryId;
import java.util.Objects;

/**
 * What the protocol knows of a snapshot (§5): the last entry it covers and the configuration as
 * of that entry. The bytes themselves never enter the core; the runtime streams them.
 */
public record SnapshotMeta(EntryId last, ConfState conf) {

    /** The empty snapshot every log starts after. */
    public static final SnapshotMeta EMPTY = new SnapshotMeta(EntryId.ZERO, ConfState.EMPTY);

    public SnapshotMeta {
        Objects.requireNonNull(last, "last");
        Objects.requireNonNull(conf, "conf");
    }

    public long index() {
        return last.index();
    }

    public long term() {
        return last.term();
    }
}
