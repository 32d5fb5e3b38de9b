package dev.raftkit.core.message;

import dev.raftkit.core.ReadConsistency;

/** A follower forwards a local read request to the leader (§6.4). */
public record ReadIndexRequest(long from, long to, long term, long requestId, ReadConsistency consistency)
        implements Message {
    @Override
    public Kind kind() {
        return Kind.READ_INDEX_REQUEST;
    }
}
