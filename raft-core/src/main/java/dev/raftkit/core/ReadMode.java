package dev.raftkit.core;

/**
 * How a read makes sure it sees fresh enough state: the one read-mode type, from the client's
 * request through the runtime ({@code RaftServer.read}) to the core's ReadIndex and the wire.
 *
 * <p>The core serves {@link #LINEARIZABLE} and {@link #LEASE} through ReadIndex; a {@link #STALE}
 * read never reaches it (the runtime runs it on local state), so the core refuses one.
 */
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
     * shortened by {@code leaseDriftTicks}); honoured only with CheckQuorum on, otherwise served
     * as {@link #LINEARIZABLE}.
     */
    LEASE,
    /**
     * Local state, possibly stale: runs on this node once it has applied at least the given
     * minimum index (for read-your-writes, the index a client saw last). Never contacts the leader,
     * so it is not linearizable.
     */
    STALE
}
