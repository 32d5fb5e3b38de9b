package dev.raftkit.grpc;

/**
 * A {@link RaftClient} call failed for good: {@link #reason()} is the cluster's refusal reason
 * (for example {@code INVALID}, {@code SESSION_EXPIRED}), a gRPC status code, or
 * {@code TIMED_OUT} when no node answered in time. The message names the nodes tried and the last
 * error.
 */
public final class RaftClientException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String reason;

    public RaftClientException(String reason, String message) {
        this(reason, message, null);
    }

    public RaftClientException(String reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
