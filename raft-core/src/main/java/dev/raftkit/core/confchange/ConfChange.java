package dev.raftkit.core.confchange;

import java.util.List;
import java.util.Objects;

/**
 * A requested membership change (§4): zero or more single-node steps and how to carry them out.
 *
 * <ul>
 *   <li>One step with {@link Transition#AUTO} is a single-server change (§4.1), applied directly.
 *   <li>Several steps, or any {@link Transition#JOINT_EXPLICIT}/{@link Transition#JOINT_IMPLICIT},
 *       enter a joint configuration (§4.3); with {@code JOINT_IMPLICIT} (and {@code AUTO} when joint
 *       is needed) the leader leaves it automatically once entering is applied.
 *   <li>No steps at all means: leave the current joint configuration.
 * </ul>
 */
public record ConfChange(List<Step> steps, Transition transition) {

    /** What a single step does to one node. */
    public enum Type { ADD_VOTER, ADD_LEARNER, REMOVE }

    /** How to apply several steps. */
    public enum Transition { AUTO, JOINT_IMPLICIT, JOINT_EXPLICIT }

    /** One node's change. */
    public record Step(Type type, long nodeId) {
        public Step {
            Objects.requireNonNull(type, "type");
            if (nodeId <= 0) {
                throw new IllegalArgumentException("node ids are positive, got " + nodeId);
            }
        }
    }

    public ConfChange {
        steps = List.copyOf(steps);
        Objects.requireNonNull(transition, "transition");
    }

    public static ConfChange addVoter(long id) {
        return new ConfChange(List.of(new Step(Type.ADD_VOTER, id)), Transition.AUTO);
    }

    public static ConfChange addLearner(long id) {
        return new ConfChange(List.of(new Step(Type.ADD_LEARNER, id)), Transition.AUTO);
    }

    public static ConfChange remove(long id) {
        return new ConfChange(List.of(new Step(Type.REMOVE, id)), Transition.AUTO);
    }

    /** Leave the current joint configuration. */
    public static ConfChange leaveJoint() {
        return new ConfChange(List.of(), Transition.AUTO);
    }

    public boolean isLeaveJoint() {
        return steps.isEmpty();
    }

    /** Whether this change goes through a joint configuration, and whether it leaves it by itself. */
    public boolean entersJoint() {
        return transition != Transition.AUTO || steps.size() > 1;
    }

    public boolean autoLeave() {
        return transition != Transition.JOINT_EXPLICIT;
    }
}
