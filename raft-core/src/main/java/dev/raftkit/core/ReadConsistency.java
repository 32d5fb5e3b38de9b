package dev.raftkit.core;

/** How a ReadIndex request confirms that this node still leads. */
public enum ReadConsistency {
    /** Confirm with a heartbeat round to a quorum (§6.4). Safe with any clocks. */
    SAFE,
    /**
     * Use the leader lease (§6.4.1): no round trip, but correct only if clocks tick at bounded
     * relative rates. Honoured only with CheckQuorum on; otherwise served as {@link #SAFE}.
     */
    LEASE
}
