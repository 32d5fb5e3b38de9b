package dev.raftkit.core.confchange;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Would a membership change leave the cluster able to commit? A pure check a leader runs before it
 * proposes a change: every voter half of the resulting configuration must hold a quorum of nodes
 * that are live now (the leader itself and the members it heard from recently; the caller decides
 * what "recently" means, the check owns no clock).
 *
 * <p>Raft itself accepts any valid change, including one that can never commit another entry: adding
 * voters that do not exist, or removing the one live member that a quorum still needed. Such a
 * change commits (the old majority is still there) and then the cluster is stuck for good, restarts
 * included. This check refuses it up front, with the arithmetic, unless the operator forces it.
 */
public final class LiveQuorumCheck {

    private LiveQuorumCheck() {
    }

    /**
     * Returns why {@code change} applied to {@code conf} would leave a voter half without a live
     * quorum, or {@code null} if it would not (or if the change is invalid anyway: then the core
     * refuses it with its own reason when it is proposed).
     *
     * @param conf   the current configuration
     * @param change the proposed change
     * @param live   the members known to be live now, the leader included
     */
    public static String refusal(ConfState conf, ConfChange change, Set<Long> live) {
        ConfState after;
        try {
            after = Changer.apply(conf, change);
        } catch (IllegalArgumentException invalid) {
            return null;
        }
        if (after.voters().equals(conf.voters()) && after.votersOutgoing().equals(conf.votersOutgoing())) {
            return null; // learners only: the quorum is what it was
        }
        for (Set<Long> half : List.of(after.voters(), after.votersOutgoing())) {
            if (half.isEmpty()) {
                continue;
            }
            Set<Long> liveVoters = new TreeSet<>(half);
            liveVoters.retainAll(live);
            int quorum = half.size() / 2 + 1;
            if (liveVoters.size() < quorum) {
                return describe(change) + " leaves voters " + list(half) + " of which " + liveVoters.size()
                        + (liveVoters.size() == 1 ? " is" : " are") + " live " + list(liveVoters)
                        + "; a quorum needs " + quorum + ", so the cluster could not commit anything more."
                        + " Bring the missing nodes back first, or force the change if you accept that risk";
            }
        }
        return null;
    }

    private static String describe(ConfChange change) {
        if (change.steps().size() == 1) {
            ConfChange.Step s = change.steps().get(0);
            return switch (s.type()) {
                case ADD_VOTER -> "adding voter " + s.nodeId();
                case ADD_LEARNER -> "adding learner " + s.nodeId();
                case REMOVE -> "removing node " + s.nodeId();
            };
        }
        return change.isLeaveJoint() ? "leaving the joint configuration" : "the change " + change.steps();
    }

    private static String list(Set<Long> ids) {
        return ids.toString().replace(" ", "");
    }
}
