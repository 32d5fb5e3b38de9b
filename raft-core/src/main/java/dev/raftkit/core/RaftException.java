package dev.raftkit.core;

/**
 * A request was refused or failed: the one exception a Raftkit caller catches, from the core
 * ({@code propose}, configuration changes, transfers) through the runtime's futures. {@link
 * #reason()} says why, {@link #retryable()} whether the same request may be sent again, and {@link
 * #leaderHint()} names the leader this node knows of (0 if none), so a client can retry there.
 *
 * <p>The gRPC client service sends the reason, the hint and the retry flag over the wire by name,
 * so a remote client sees the same vocabulary, and the remote clients fail with this exception too,
 * adding the reasons only a caller across the network meets ({@link Reason#UNAVAILABLE} and those
 * after it).
 */
public final class RaftException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Why a request was refused or failed. */
    public enum Reason {
        // Protocol refusals, decided by the core.

        /** This node does not lead; retry at {@link #leaderHint()}. */
        NOT_LEADER(true),
        /** The leader is handing over leadership (§3.10); retry shortly at the new leader. */
        TRANSFERRING(true),
        /** Too many uncommitted bytes are in flight; retry after some commit. */
        TOO_MANY_UNCOMMITTED(true),
        /** Another configuration change has not been applied yet; retry after it is. */
        CONF_CHANGE_IN_PROGRESS(true),

        // Runtime failures.

        /** A bounded queue is full (the message names the limit); back off and retry. */
        OVERLOADED(true),
        /**
         * The leader's disk has less free space than its watermark ({@code minFreeDiskBytes}; the
         * message names the directory, the free bytes and the watermark): new proposals are
         * refused, nothing accepted before is lost, and they are accepted again, without a
         * restart, once space is freed. Retry later; free space on that disk.
         */
        DISK_FULL(true),
        /** The server is stopping or stopped (gracefully or after a storage failure). */
        STOPPED(true),
        /**
         * The command's entry may or may not have been applied: it was overwritten by another
         * leader's entry, or the node replaced its log with a snapshot. Retry it with the same
         * session and sequence number to have it applied exactly once.
         */
        OUTCOME_UNKNOWN(true),
        /** No answer in time (no leader known, or leadership lost while waiting); retry. */
        TIMED_OUT(true),
        /** A learner cannot be promoted yet: it has not caught up with the leader's log. */
        NOT_CAUGHT_UP(true),
        /** The client session is unknown or expired (§6.3); open a new session. */
        SESSION_EXPIRED(false),
        /** The session already discarded the response for this sequence number (the client acknowledged it). */
        RESPONSE_DISCARDED(false),
        /**
         * The request is invalid (the message says how): a configuration change that breaks an
         * invariant, a command the state machine refused.
         */
        INVALID(false),
        /** The command is larger than the server's {@code maxCommandBytes} (the message gives both sizes). */
        TOO_LARGE(false),

        // Failures a remote caller sees (raft-grpc's RaftClient and AdminClient), decided there.

        /** No node could be reached or none answered (the message names the nodes tried and the last error). */
        UNAVAILABLE(true),
        /** The node refused the caller's certificate or its role (an admin call without the admin role, say). */
        UNAUTHORIZED(false),
        /** The node belongs to another cluster: check the cluster id and the addresses. */
        WRONG_CLUSTER(false),
        /**
         * The node does not support the request, or answered with something this client does not
         * know: a client and a server of different versions.
         */
        UNSUPPORTED(false),
        /** The node tried and failed (the message says why: a disk error, say); fix that first. */
        FAILED(false),
        /** The client was closed, or its caller interrupted, before an answer came. */
        CLOSED(false);

        private final boolean retryable;

        Reason(boolean retryable) {
            this.retryable = retryable;
        }

        /** Whether a request refused for this reason may be sent again unchanged. */
        public boolean retryable() {
            return retryable;
        }
    }

    private final Reason reason;
    private final long leaderHint;

    /**
     * A refusal with no stack trace: the core refuses proposals on hot paths (every follower asked
     * to propose), and the reason and message say all there is to say.
     */
    public RaftException(Reason reason, long leaderHint, String message) {
        super(message, null, false, false);
        this.reason = reason;
        this.leaderHint = leaderHint;
    }

    /** A failure caused by {@code cause} (a storage error that stopped the node, say), with its stack trace. */
    public RaftException(Reason reason, long leaderHint, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.leaderHint = leaderHint;
    }

    public Reason reason() {
        return reason;
    }

    /** The leader this node knows of, 0 if none. */
    public long leaderHint() {
        return leaderHint;
    }

    public boolean retryable() {
        return reason.retryable;
    }
}
