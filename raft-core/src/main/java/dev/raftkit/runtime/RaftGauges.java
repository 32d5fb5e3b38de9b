package dev.raftkit.runtime;

import dev.raftkit.core.Role;
import java.util.Map;

/**
 * A snapshot of a server's gauges ({@link RaftServer#gauges()}), made of values its stages
 * publish: cheap to take from any thread, immutable, and up to one tick (or one round of the stage
 * that publishes the value) stale. A value the log cannot tell is -1.
 *
 * @param role            this node's role ({@link Role#FOLLOWER} once stopped)
 * @param term            its current term
 * @param leader          the leader it knows of, 0 if none
 * @param commitIndex     the highest index it knows committed
 * @param appliedIndex    the highest index its state machine applied
 * @param inboxDepth      client requests waiting in the raft loop's inbox (bounded by {@code maxInboxRequests}),
 *                        as of the last tick
 * @param applyQueueDepth committed entries not yet applied ({@code commitIndex - appliedIndex}, at least 0)
 * @param openSessions    client sessions open in the replicated session table, as of the last apply round
 * @param logFirstIndex   the first index in the log, as of the last tick
 * @param logLastIndex    the last index in the log
 * @param logSizeBytes    bytes the log's segments hold ({@link dev.raftkit.spi.LogStorage#sizeBytes()}), -1 if unknown
 * @param logSegments     segment files of the log ({@link dev.raftkit.spi.LogStorage#segmentCount()}), -1 if unknown
 * @param followers       on a leader, each follower's (voters' and learners') lag as of the last tick; empty elsewhere
 */
public record RaftGauges(Role role, long term, long leader, long commitIndex, long appliedIndex, int inboxDepth,
                         long applyQueueDepth, int openSessions, long logFirstIndex, long logLastIndex,
                         long logSizeBytes, int logSegments, Map<Long, FollowerLag> followers) {

    /** An immutable snapshot: {@code followers} is copied. */
    public RaftGauges {
        followers = Map.copyOf(followers);
    }

    /** 1 on a leader, 0 elsewhere: what a {@code raft.role} gauge shows. */
    public int leaderFlag() {
        return role == Role.LEADER ? 1 : 0;
    }

    /**
     * How far one follower trails its leader.
     *
     * @param entries the leader's last index minus the follower's match index (0: caught up)
     * @param seconds time since the leader last heard from it, in ticks times the tick period
     *                ({@link RaftServerBuilder#tickMillis}); -1 if it never answered this leader
     */
    public record FollowerLag(long entries, double seconds) {
    }
}
