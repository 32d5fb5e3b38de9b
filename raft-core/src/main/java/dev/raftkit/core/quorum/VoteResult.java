package dev.raftkit.core.quorum;

/** The outcome of a vote so far. */
public enum VoteResult {
    /** Neither won nor lost yet: outstanding votes could still decide it. */
    PENDING,
    /** A quorum can no longer be reached. */
    LOST,
    /** A quorum voted yes. */
    WON
}
