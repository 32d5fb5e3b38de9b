package dev.raftkit.core.message;

/** The reply to {@link RequestVote}; a granted real vote is sent only once it is durable. */
public record RequestVoteResponse(long from, long to, long term, boolean preVote, boolean granted)
        implements Message {
    @Override
    public Kind kind() {
        return Kind.REQUEST_VOTE_RESPONSE;
    }
}
