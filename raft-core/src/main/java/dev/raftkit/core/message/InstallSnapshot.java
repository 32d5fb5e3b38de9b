package dev.raftkit.core.message;

import dev.raftkit.core.SnapshotMeta;
import java.util.Objects;

/**
 * InstallSnapshot (§5.3 of the thesis's chapter 5). The core sends only the metadata; the runtime
 * streams the snapshot's bytes alongside and hands the message to the follower's core once the
 * bytes are safely received. The follower answers with an {@link AppendEntriesResponse}.
 */
public record InstallSnapshot(long from, long to, long term, SnapshotMeta snapshot) implements Message {
    @Override
    public Kind kind() {
        return Kind.INSTALL_SNAPSHOT;
    }

    public InstallSnapshot {
        Objects.requireNonNull(snapshot, "snapshot");
    }
}
