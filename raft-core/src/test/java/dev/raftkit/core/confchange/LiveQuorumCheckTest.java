package dev.raftkit.core.confchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Set;
import org.junit.jupiter.api.Test;

class LiveQuorumCheckTest {

    private static final ConfState THREE = ConfState.ofVoters(Set.of(1L, 2L, 3L));

    @Test
    void removingALiveNodeWhileAnotherIsDownIsRefusedWithTheArithmetic() {
        assertEquals("removing node 2 leaves voters [1,3] of which 1 is live [1]; a quorum needs 2, so the cluster"
                        + " could not commit anything more. Bring the missing nodes back first, or force the change"
                        + " if you accept that risk",
                LiveQuorumCheck.refusal(THREE, ConfChange.remove(2), Set.of(1L, 2L)));
    }

    @Test
    void removingTheDeadNodeIsAllowed() {
        assertNull(LiveQuorumCheck.refusal(THREE, ConfChange.remove(3), Set.of(1L, 2L)));
    }

    @Test
    void addingVotersThatDoNotAnswerIsRefusedOnceTheyOutnumberTheLive() {
        ConfState withGhost = ConfState.ofVoters(Set.of(1L, 3L, 98L));
        assertEquals("adding voter 99 leaves voters [1,3,98,99] of which 2 are live [1,3]; a quorum needs 3",
                LiveQuorumCheck.refusal(withGhost, ConfChange.addVoter(99), Set.of(1L, 3L)).split(", so")[0]);
    }

    @Test
    void everyHalfOfAJointConfigurationNeedsALiveQuorum() {
        ConfChange replaceTwo = new ConfChange(java.util.List.of(new ConfChange.Step(ConfChange.Type.REMOVE, 2),
                new ConfChange.Step(ConfChange.Type.REMOVE, 3), new ConfChange.Step(ConfChange.Type.ADD_VOTER, 4),
                new ConfChange.Step(ConfChange.Type.ADD_VOTER, 5)), ConfChange.Transition.AUTO);
        String refusal = LiveQuorumCheck.refusal(THREE, replaceTwo, Set.of(1L, 2L, 3L));
        assertEquals("the change", refusal.substring(0, 10));
        assertNull(LiveQuorumCheck.refusal(THREE, replaceTwo, Set.of(1L, 2L, 4L)));
    }

    @Test
    void aLearnerChangeIsNeverRefusedForQuorum() {
        ConfState withLearner = new ConfState(Set.of(1L, 2L, 3L), Set.of(), Set.of(4L), Set.of(), false);
        assertNull(LiveQuorumCheck.refusal(THREE, ConfChange.addLearner(4), Set.of(1L)));
        assertNull(LiveQuorumCheck.refusal(withLearner, ConfChange.remove(4), Set.of(1L)));
    }

    @Test
    void anInvalidChangeIsLeftToTheCoreToRefuse() {
        assertNull(LiveQuorumCheck.refusal(ConfState.ofVoters(Set.of(1L)), ConfChange.remove(1), Set.of(1L)));
    }
}
