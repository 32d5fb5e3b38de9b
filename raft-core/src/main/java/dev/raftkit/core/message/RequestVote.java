package dev.raftkit.core.message;

import dev.raftkit.core.log.EntryId;

/**
 * RequestVote (§3.4) or, with {@code preVote}, a PreVote request (§9.6) for term {@code term}
 * (which the sender has not entered yet). {@code transfer} marks an election started by a
 * leadership transfer (§3.10): voters then waive leader stickiness.
 */
public record RequestVote(long from, long to, long term, EntryId lastLog, boolean preVote, boolean transfer)
        implements Message {
    @Override
    public Kind kind() {
        return Kind.REQUEST_VOTE;
    }
}
