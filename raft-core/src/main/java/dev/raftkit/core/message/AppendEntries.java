package dev.raftkit.core.message;

import dev.raftkit.core.log.LogSlice;
import java.util.Objects;

/**
 * AppendEntries (§3.5): entries following {@code slice.prev()}, and the leader's commit index.
 * An empty slice is a probe.
 */
public record AppendEntries(long from, long to, long term, LogSlice slice, long commit) implements Message {
    @Override
    public Kind kind() {
        return Kind.APPEND_ENTRIES;
    }

    public AppendEntries {
        Objects.requireNonNull(slice, "slice");
    }

    @Override
    public long sizeBytes() {
        long size = 48;
        for (var e : slice.entries()) {
            size += e.sizeBytes();
        }
        return size;
    }
}
