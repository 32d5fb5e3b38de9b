package dev.raftkit.runtime;

/** How {@link RaftServer#read} makes sure a query sees fresh enough state. */
public enum ReadMode {
    /**
     * ReadIndex (§6.4): the leader records its commit index, confirms with a heartbeat round that
     * it still leads, and the query runs once this node has applied that index. Linearizable with
     * any clocks; costs one round trip (shared by every read in the same round).
     */
    LINEARIZABLE,
    /**
     * Leader lease (§6.4.1): like {@link #LINEARIZABLE} but without the round trip while the
     * leader's lease holds. Correct only if clocks tick at bounded relative rates (the lease is
     * shortened by {@code leaseDriftTicks}); the core falls back to ReadIndex without CheckQuorum.
     */
    LEASE,
    /**
     * Local state, possibly stale: runs on this node once it has applied at least the given
     * minimum index (for read-your-writes, the index a client saw last). Never contacts the leader.
     */
    STALE
}
