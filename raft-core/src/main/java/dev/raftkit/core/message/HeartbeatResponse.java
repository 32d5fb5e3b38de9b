package dev.raftkit.core.message;

/**
 * The reply to a {@link Heartbeat}, echoing its round number. {@code recovering}: the follower is
 * recovering lost state, so its answer does not confirm leadership for reads (see
 * {@link dev.raftkit.core.HardState}).
 */
public record HeartbeatResponse(long from, long to, long term, long context, boolean recovering) implements Message {
    @Override
    public Kind kind() {
        return Kind.HEARTBEAT_RESPONSE;
    }


    /** A response from a follower that is not recovering. */
    public HeartbeatResponse(long from, long to, long term, long context) {
        this(from, to, term, context, false);
    }
}
