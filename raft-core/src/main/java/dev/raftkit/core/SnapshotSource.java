package dev.raftkit.core;

/**
 * Where a leader has a lagging follower get the snapshot it needs ({@link RaftConfig#snapshotSource()}).
 */
public enum SnapshotSource {
    /** The leader streams every snapshot itself (the thesis's InstallSnapshot, §5.3). */
    LEADER,
    /**
     * The leader asks an up-to-date follower or learner to stream its own snapshot instead, sparing
     * the leader's bandwidth; it falls back to sending itself when no peer qualifies or the peer's
     * transfer does not finish within {@link RaftConfig#peerSnapshotTimeoutTicks()}.
     */
    PEERS
}
