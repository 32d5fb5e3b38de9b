package dev.raftkit.core.confchange;

import java.util.Set;
import java.util.TreeSet;

/**
 * A cluster configuration (§4): who votes, who only learns.
 *
 * <p>In a joint configuration (§4.3) both {@code voters} (the incoming set) and {@code votersOutgoing}
 * must agree for elections and commitment. {@code learnersNext} are voters of the outgoing set that
 * become learners when the joint configuration is left. With {@code autoLeave} the leader proposes
 * leaving the joint configuration by itself as soon as entering it is applied.
 *
 * <p>Invariants (checked by {@link Changer#checkInvariants}): learners and voters are disjoint;
 * {@code learnersNext} is a subset of {@code votersOutgoing} and disjoint from {@code learners};
 * {@code autoLeave} and {@code learnersNext} are empty unless joint.
 */
public record ConfState(Set<Long> voters, Set<Long> votersOutgoing, Set<Long> learners,
                        Set<Long> learnersNext, boolean autoLeave) {

    public static final ConfState EMPTY = new ConfState(Set.of(), Set.of(), Set.of(), Set.of(), false);

    public ConfState {
        voters = sorted(voters);
        votersOutgoing = sorted(votersOutgoing);
        learners = sorted(learners);
        learnersNext = sorted(learnersNext);
    }

    /** A simple (non-joint) configuration of the given voters. */
    public static ConfState ofVoters(Set<Long> voters) {
        return new ConfState(voters, Set.of(), Set.of(), Set.of(), false);
    }

    public boolean isJoint() {
        return !votersOutgoing.isEmpty();
    }

    public boolean isVoter(long id) {
        return voters.contains(id) || votersOutgoing.contains(id);
    }

    public boolean isLearner(long id) {
        return learners.contains(id) || learnersNext.contains(id);
    }

    public boolean contains(long id) {
        return isVoter(id) || isLearner(id);
    }

    /** Every member: voters of both halves and learners. */
    public Set<Long> members() {
        Set<Long> all = new TreeSet<>(voters);
        all.addAll(votersOutgoing);
        all.addAll(learners);
        all.addAll(learnersNext);
        return all;
    }

    private static Set<Long> sorted(Set<Long> ids) {
        return ids == null ? Set.of() : java.util.Collections.unmodifiableSortedSet(new TreeSet<>(ids));
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("voters=").append(voters);
        if (isJoint()) {
            sb.append("&&").append(votersOutgoing);
        }
        if (!learners.isEmpty()) {
            sb.append(" learners=").append(learners);
        }
        if (!learnersNext.isEmpty()) {
            sb.append(" learners_next=").append(learnersNext);
        }
        if (autoLeave) {
            sb.append(" autoleave");
        }
        return sb.toString();
    }
}
