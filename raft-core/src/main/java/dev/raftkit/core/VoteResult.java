package dev.raftkit.core;

/** The outcome of a vote so far. */
enum VoteResult {
    /** Neither won nor lost yet: outstanding votes could still decide it. */
    PENDING,
    /** A quorum can no longer be reached. */
    LOST,
    /** A quorum voted yes. */
    WON
}
