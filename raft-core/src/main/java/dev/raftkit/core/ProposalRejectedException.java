package dev.raftkit.core;

/**
 * A proposal, configuration change or transfer was refused. {@link #reason()} says why and
 * {@link #leaderHint()} names the known leader (0 if none), so a client can retry there.
 * Every reason is retryable except {@link Reason#INVALID}.
 */
public final class ProposalRejectedException extends RuntimeException {

    /** Why a proposal was refused. */
    public enum Reason {
        /** This node does not lead; retry at {@link #leaderHint()}. */
        NOT_LEADER,
        /** The leader is handing over leadership (§3.10); retry shortly at the new leader. */
        TRANSFERRING,
        /** Too many uncommitted bytes are in flight; retry after some commit. */
        TOO_MANY_UNCOMMITTED,
        /** Another configuration change has not been applied yet; retry after it is. */
        CONF_CHANGE_IN_PROGRESS,
        /** The request itself is invalid (for example a configuration change that breaks an invariant). */
        INVALID
    }

    private final Reason reason;
    private final long leaderHint;

    public ProposalRejectedException(Reason reason, long leaderHint, String message) {
        super(message, null, false, false);
        this.reason = reason;
        this.leaderHint = leaderHint;
    }

    public Reason reason() {
        return reason;
    }

    public long leaderHint() {
        return leaderHint;
    }

    public boolean retryable() {
        return reason != Reason.INVALID;
    }
}
