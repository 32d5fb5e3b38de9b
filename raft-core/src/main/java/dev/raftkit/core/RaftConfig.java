package dev.raftkit.core;

/**
 * How one node runs the protocol. Time is counted in ticks (the runtime decides how long a tick
 * is); randomness comes only from {@code randomSeed}, so a node is a pure function of its
 * configuration, its durable state and its inputs.
 *
 * @param id                       this node's id, positive
 * @param electionTicks            base election timeout; each term draws a timeout in
 *                                 [electionTicks, 2·electionTicks) (§3.4)
 * @param heartbeatTicks           ticks between leader heartbeats; must be below electionTicks
 * @param preVote                  run a PreVote round before a real election (§9.6)
 * @param checkQuorum              leader steps down without quorum contact for an election
 *                                 timeout; followers refuse votes while they hear from a leader
 *                                 (§6.2, §9.6 "leader stickiness")
 * @param maxMsgBytes              byte cap on the entries of one AppendEntries (at least one entry
 *                                 is always sent)
 * @param maxInflightMsgs          appends in flight per follower before the leader waits
 * @param maxInflightBytes         bytes in flight per follower before the leader waits (0: no cap)
 * @param maxUncommittedBytes      payload bytes the leader accepts beyond its commit index before
 *                                 refusing proposals (0: no cap)
 * @param maxCommittedBytesPerReady byte cap on the committed entries handed out for application and
 *     not yet reported applied ({@code onApplied}): one Ready carries at most this much, and no more
 *     is handed out while this much is pending, so a slow state machine holds back the driver
 *     instead of letting committed entries pile up in memory (a batch may cross the cap by one
 *     entry, so an entry larger than the cap still goes out)
 * @param applied                  the index the state machine has applied when the node starts
 * @param leaseDriftTicks          safety margin subtracted from the leader lease for clock drift
 * @param randomSeed               seed of the node's only source of randomness
 * @param snapshotSource           who streams a snapshot to a follower that needs one: the leader
 *                                 (default) or, when one qualifies, another up-to-date member
 * @param peerSnapshotTimeoutTicks with {@link SnapshotSource#PEERS}: ticks the leader waits for a
 *                                 peer-streamed snapshot to be acknowledged before it sends its own
 */
public record RaftConfig(long id, int electionTicks, int heartbeatTicks, boolean preVote, boolean checkQuorum,
                         long maxMsgBytes, int maxInflightMsgs, long maxInflightBytes, long maxUncommittedBytes,
                         long maxCommittedBytesPerReady, long applied, int leaseDriftTicks, long randomSeed,
                         SnapshotSource snapshotSource, int peerSnapshotTimeoutTicks) {

    public RaftConfig {
        require(id > 0, "id must be positive, got " + id);
        require(heartbeatTicks > 0, "heartbeatTicks must be positive, got " + heartbeatTicks);
        require(electionTicks > heartbeatTicks,
                "electionTicks (" + electionTicks + ") must exceed heartbeatTicks (" + heartbeatTicks + ")");
        require(maxMsgBytes > 0, "maxMsgBytes must be positive, got " + maxMsgBytes);
        require(maxInflightMsgs > 0, "maxInflightMsgs must be positive, got " + maxInflightMsgs);
        require(maxInflightBytes >= 0, "maxInflightBytes must not be negative");
        require(maxUncommittedBytes >= 0, "maxUncommittedBytes must not be negative");
        require(maxCommittedBytesPerReady > 0, "maxCommittedBytesPerReady must be positive");
        require(applied >= 0, "applied must not be negative");
        require(leaseDriftTicks >= 0 && leaseDriftTicks < electionTicks,
                "leaseDriftTicks must be in [0, electionTicks), got " + leaseDriftTicks);
        require(snapshotSource != null, "snapshotSource must be LEADER or PEERS, got null");
        require(peerSnapshotTimeoutTicks > 0,
                "peerSnapshotTimeoutTicks must be positive, got " + peerSnapshotTimeoutTicks);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("invalid RaftConfig: " + message);
        }
    }

    /** Defaults suited to a tick of about 100 ms: election timeout 1–2 s, heartbeat every tick. */
    public static Builder builder(long id) {
        return new Builder(id);
    }

    public Builder toBuilder() {
        return new Builder(id).electionTicks(electionTicks).heartbeatTicks(heartbeatTicks).preVote(preVote)
                .checkQuorum(checkQuorum).maxMsgBytes(maxMsgBytes).maxInflightMsgs(maxInflightMsgs)
                .maxInflightBytes(maxInflightBytes).maxUncommittedBytes(maxUncommittedBytes)
                .maxCommittedBytesPerReady(maxCommittedBytesPerReady).applied(applied)
                .leaseDriftTicks(leaseDriftTicks).randomSeed(randomSeed).snapshotSource(snapshotSource)
                .peerSnapshotTimeoutTicks(peerSnapshotTimeoutTicks);
    }

    /** Builds a {@link RaftConfig}; every setting has a sensible default. */
    public static final class Builder {
        private final long id;
        private int electionTicks = 10;
        private int heartbeatTicks = 1;
        private boolean preVote = true;
        private boolean checkQuorum = true;
        private long maxMsgBytes = 1 << 20;
        private int maxInflightMsgs = 256;
        private long maxInflightBytes = 32L << 20;
        private long maxUncommittedBytes = 64L << 20;
        private long maxCommittedBytesPerReady = 16L << 20;
        private long applied;
        private int leaseDriftTicks = 1;
        private long randomSeed;
        private SnapshotSource snapshotSource = SnapshotSource.LEADER;
        private int peerSnapshotTimeoutTicks = 100;

        private Builder(long id) {
            this.id = id;
            this.randomSeed = id;
        }

        public Builder electionTicks(int v) { electionTicks = v; return this; }
        public Builder heartbeatTicks(int v) { heartbeatTicks = v; return this; }
        public Builder preVote(boolean v) { preVote = v; return this; }
        public Builder checkQuorum(boolean v) { checkQuorum = v; return this; }
        public Builder maxMsgBytes(long v) { maxMsgBytes = v; return this; }
        public Builder maxInflightMsgs(int v) { maxInflightMsgs = v; return this; }
        public Builder maxInflightBytes(long v) { maxInflightBytes = v; return this; }
        public Builder maxUncommittedBytes(long v) { maxUncommittedBytes = v; return this; }
        public Builder maxCommittedBytesPerReady(long v) { maxCommittedBytesPerReady = v; return this; }
        public Builder applied(long v) { applied = v; return this; }
        public Builder leaseDriftTicks(int v) { leaseDriftTicks = v; return this; }
        public Builder randomSeed(long v) { randomSeed = v; return this; }
        public Builder snapshotSource(SnapshotSource v) { snapshotSource = v; return this; }
        public Builder peerSnapshotTimeoutTicks(int v) { peerSnapshotTimeoutTicks = v; return this; }

        public RaftConfig build() {
            return new RaftConfig(id, electionTicks, heartbeatTicks, preVote, checkQuorum, maxMsgBytes,
                    maxInflightMsgs, maxInflightBytes, maxUncommittedBytes, maxCommittedBytesPerReady, applied,
                    leaseDriftTicks, randomSeed, snapshotSource, peerSnapshotTimeoutTicks);
        }
    }
}
