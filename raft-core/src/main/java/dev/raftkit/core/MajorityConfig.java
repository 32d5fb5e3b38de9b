package dev.raftkit.core;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A set of voters decided by simple majority (§3.4, §3.6).
 *
 * <p>By convention an empty configuration agrees to everything: its committed index is
 * {@link Long#MAX_VALUE} and every vote is won. This makes a {@link JointConfig} whose outgoing
 * half is empty behave exactly like its incoming half.
 */
record MajorityConfig(Set<Long> ids) {

    public MajorityConfig {
        ids = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(ids));
    }

    public int size() {
        return ids.size();
    }

    /** Votes needed to win. */
    public int quorum() {
        return ids.size() / 2 + 1;
    }

    /**
     * The largest index acknowledged by a majority: sort the acknowledgements in descending
     * order and take the {@link #quorum()}-th.
     */
    public long committedIndex(AckedIndexer acked) {
        int n = ids.size();
        if (n == 0) {
            return Long.MAX_VALUE;
        }
        long[] values = new long[n];
        int i = 0;
        for (long id : ids) {
            values[i++] = acked.acked(id);
        }
        Arrays.sort(values);
        // Ascending order: the quorum-th largest sits at n - quorum.
        return values[n - quorum()];
    }

    /** Tallies the votes cast so far; voters missing from {@code votes} have not answered. */
    public VoteResult voteResult(Map<Long, Boolean> votes) {
        if (ids.isEmpty()) {
            return VoteResult.WON;
        }
        int yes = 0;
        int missing = 0;
        for (long id : ids) {
            Boolean v = votes.get(id);
            if (v == null) {
                missing++;
            } else if (v) {
                yes++;
            }
        }
        int q = quorum();
        if (yes >= q) {
            return VoteResult.WON;
        }
        return yes + missing >= q ? VoteResult.PENDING : VoteResult.LOST;
    }

    @Override
    public String toString() {
        return ids.toString();
    }
}
