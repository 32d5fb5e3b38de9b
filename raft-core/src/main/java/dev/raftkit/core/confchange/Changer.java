package dev.raftkit.core.confchange;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Pure transitions between configurations (§4). Every method returns a new, checked
 * {@link ConfState} or throws {@link IllegalArgumentException} saying why the change is invalid;
 * it never returns a configuration that breaks an invariant.
 *
 * <p>The same function runs on every node when a configuration entry is applied, so all nodes
 * reach the same configuration from the same log, including for invalid changes (which every
 * node rejects alike and treats as no-ops).
 */
public final class Changer {

    private Changer() {
    }

    /**
     * Applies the committed configuration-change entry at {@code index}, encoded as
     * {@link ConfChangeCodec} writes it, to {@code conf}. Never throws for an invalid or undecodable
     * change: every node refuses it alike, so it is a no-op whose reason the result carries.
     */
    public static AppliedConfChange applyEntry(ConfState conf, long index, byte[] data) {
        try {
            return new AppliedConfChange(index, apply(conf, ConfChangeCodec.decode(data)), null);
        } catch (IllegalArgumentException invalid) {
            return new AppliedConfChange(index, conf, invalid.getMessage());
        }
    }

    /** Applies {@code change} as its shape says: leave joint, enter joint, or a simple change. */
    public static ConfState apply(ConfState conf, ConfChange change) {
        if (change.isLeaveJoint()) {
            return leaveJoint(conf);
        }
        if (change.entersJoint()) {
            return enterJoint(conf, change.autoLeave(), change.steps());
        }
        return simple(conf, change.steps());
    }

    /**
     * Enters a joint configuration (§4.3): the current voters become the outgoing half and the
     * steps are applied to the incoming half. Voters that become learners stay voters of the
     * outgoing half until the joint configuration is left ({@code learnersNext}).
     */
    public static ConfState enterJoint(ConfState conf, boolean autoLeave, List<ConfChange.Step> steps) {
        if (conf.isJoint()) {
            throw new IllegalArgumentException("configuration is already joint: " + conf);
        }
        if (conf.voters().isEmpty()) {
            throw new IllegalArgumentException("cannot make a configuration with no voters joint");
        }
        Mutable m = new Mutable(conf);
        m.outgoing.addAll(m.incoming);
        m.applySteps(steps);
        m.autoLeave = autoLeave;
        return m.build();
    }

    /** Leaves a joint configuration: the incoming half alone decides from now on. */
    public static ConfState leaveJoint(ConfState conf) {
        if (!conf.isJoint()) {
            throw new IllegalArgumentException("cannot leave a configuration that is not joint: " + conf);
        }
        Mutable m = new Mutable(conf);
        m.learners.addAll(m.learnersNext);
        m.learnersNext.clear();
        m.outgoing.clear();
        m.autoLeave = false;
        return m.build();
    }

    /**
     * A single-server change (§4.1): at most one voter added or removed, so any majority of the
     * old configuration overlaps any majority of the new one. Learner changes are free.
     */
    public static ConfState simple(ConfState conf, List<ConfChange.Step> steps) {
        if (conf.isJoint()) {
            throw new IllegalArgumentException("cannot apply a simple change to a joint configuration: " + conf);
        }
        Mutable m = new Mutable(conf);
        m.applySteps(steps);
        Set<Long> diff = new HashSet<>(conf.voters());
        diff.addAll(m.incoming);
        Set<Long> both = new HashSet<>(conf.voters());
        both.retainAll(m.incoming);
        diff.removeAll(both);
        if (diff.size() > 1) {
            throw new IllegalArgumentException("more than one voter changed without a joint configuration: "
                    + conf.voters() + " -> " + m.incoming);
        }
        return m.build();
    }

    /**
     * Checks a configuration's invariants: learners and voters are disjoint; learnersNext are
     * outgoing voters and not learners; autoLeave and learnersNext only while joint.
     *
     * @throws IllegalArgumentException naming the broken invariant
     */
    public static void checkInvariants(ConfState c) {
        for (long id : c.learners()) {
            if (c.voters().contains(id) || c.votersOutgoing().contains(id)) {
                throw new IllegalArgumentException("node " + id + " is both learner and voter in " + c);
            }
            if (c.learnersNext().contains(id)) {
                throw new IllegalArgumentException("node " + id + " is in learners and learnersNext in " + c);
            }
        }
        for (long id : c.learnersNext()) {
            if (!c.votersOutgoing().contains(id)) {
                throw new IllegalArgumentException("learnersNext " + id + " is not an outgoing voter in " + c);
            }
        }
        if (!c.isJoint() && (c.autoLeave() || !c.learnersNext().isEmpty())) {
            throw new IllegalArgumentException("autoLeave or learnersNext set outside a joint configuration: " + c);
        }
    }

    /**
     * The changes that rebuild {@code target} from an empty configuration, in order. Restoring a
     * configuration from snapshot metadata replays these, so a restored configuration went through
     * the same checked transitions as one built from the log.
     */
    public static List<ConfChange> restorePlan(ConfState target) {
        List<ConfChange> plan = new ArrayList<>();
        if (!target.isJoint()) {
            for (long id : target.voters()) {
                plan.add(ConfChange.addVoter(id));
            }
            for (long id : target.learners()) {
                plan.add(ConfChange.addLearner(id));
            }
            return plan;
        }
        // Build the outgoing half first as a simple configuration, then enter the joint
        // configuration with steps that turn a copy of it into the incoming half.
        for (long id : target.votersOutgoing()) {
            plan.add(ConfChange.addVoter(id));
        }
        List<ConfChange.Step> steps = new ArrayList<>();
        for (long id : target.votersOutgoing()) {
            steps.add(new ConfChange.Step(ConfChange.Type.REMOVE, id));
        }
        for (long id : target.voters()) {
            steps.add(new ConfChange.Step(ConfChange.Type.ADD_VOTER, id));
        }
        for (long id : target.learners()) {
            steps.add(new ConfChange.Step(ConfChange.Type.ADD_LEARNER, id));
        }
        for (long id : target.learnersNext()) {
            steps.add(new ConfChange.Step(ConfChange.Type.ADD_LEARNER, id));
        }
        plan.add(new ConfChange(steps, target.autoLeave()
                ? ConfChange.Transition.JOINT_IMPLICIT : ConfChange.Transition.JOINT_EXPLICIT));
        return plan;
    }

    /** Rebuilds {@code target} through {@link #restorePlan}; equal to it if it is valid. */
    public static ConfState restore(ConfState target) {
        ConfState conf = ConfState.EMPTY;
        for (ConfChange change : restorePlan(target)) {
            conf = change.entersJoint()
                    ? enterJoint(conf, change.autoLeave(), change.steps())
                    : simple(conf, change.steps());
        }
        return conf;
    }

    /** Working copy of a configuration while steps are applied. */
    private static final class Mutable {
        final Set<Long> incoming;
        final Set<Long> outgoing;
        final Set<Long> learners;
        final Set<Long> learnersNext;
        boolean autoLeave;

        Mutable(ConfState c) {
            incoming = new TreeSet<>(c.voters());
            outgoing = new TreeSet<>(c.votersOutgoing());
            learners = new TreeSet<>(c.learners());
            learnersNext = new TreeSet<>(c.learnersNext());
            autoLeave = c.autoLeave();
        }

        void applySteps(List<ConfChange.Step> steps) {
            for (ConfChange.Step step : steps) {
                long id = step.nodeId();
                switch (step.type()) {
                    case ADD_VOTER -> {
                        learners.remove(id);
                        learnersNext.remove(id);
                        incoming.add(id);
                    }
                    case ADD_LEARNER -> {
                        if (learners.contains(id) || learnersNext.contains(id)) {
                            break;
                        }
                        incoming.remove(id);
                        // A voter of the outgoing half keeps voting there until the joint
                        // configuration is left; only then does it become a learner.
                        if (outgoing.contains(id)) {
                            learnersNext.add(id);
                        } else {
                            learners.add(id);
                        }
                    }
                    case REMOVE -> {
                        incoming.remove(id);
                        learners.remove(id);
                        learnersNext.remove(id);
                    }
                }
            }
            if (incoming.isEmpty()) {
                throw new IllegalArgumentException("the change removes every voter");
            }
        }

        ConfState build() {
            ConfState c = new ConfState(incoming, outgoing, learners, learnersNext, autoLeave);
            checkInvariants(c);
            return c;
        }
    }
}
