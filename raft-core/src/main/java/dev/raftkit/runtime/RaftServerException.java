package dev.raftkit.runtime;

/**
 * A request to a {@link RaftServer} failed for a runtime reason. {@link #reason()} says why,
 * {@link #retryable()} whether the same request may be sent again (to {@link #leaderHint()} if it
 * is not 0). Protocol refusals (not the leader, a configuration change in progress, …) arrive as
 * {@link dev.raftkit.core.ProposalRejectedException} instead, which carries its own reason and hint.
 */
public final class RaftServerException extends RuntimeException {

    /** Why a request failed. */
    public enum Reason {
        /** A bounded queue is full (the message names the limit); back off and retry. */
        OVERLOADED(true),
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
        /** The request is invalid (the message says how), e.g. the state machine refused the command. */
        INVALID(false),
        /** The command is larger than the server's {@code maxCommandBytes} (the message gives both sizes). */
        TOO_LARGE(false);

        private final boolean retryable;

        Reason(boolean retryable) {
            this.retryable = retryable;
        }
    }

    private final Reason reason;
    private final long leaderHint;

    public RaftServerException(Reason reason, long leaderHint, String message) {
        this(reason, leaderHint, message, null);
    }

    public RaftServerException(Reason reason, long leaderHint, String message, Throwable cause) {
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
