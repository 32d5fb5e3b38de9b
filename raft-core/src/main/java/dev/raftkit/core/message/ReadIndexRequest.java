package dev.raftkit.core.message;

import dev.raftkit.core.ReadMode;

/** A follower forwards a local read request to the leader (§6.4). */
public record ReadIndexRequest(long from, long to, long term, long requestId, ReadMode mode)
        implements Message {

    public ReadIndexRequest {
        if (mode == ReadMode.STALE) {
            throw new IllegalArgumentException("a STALE read runs on local state and needs no read index");
        }
    }

    @Override
    public Kind kind() {
        return Kind.READ_INDEX_REQUEST;
    }
}
