package dev.raftkit.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException.Reason;
import dev.raftkit.core.RaftException;
import dev.raftkit.core.Role;
import dev.raftkit.grpc.proto.StatusResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link NodeStatus}: what a status answer decodes to, field by field. */
class NodeStatusTest {

    private static StatusResponse.Builder leader() {
        return StatusResponse.newBuilder().setNodeId(2).setTerm(7).setLeaderId(2).setRole("LEADER").setCommitIndex(40)
                .setAppliedIndex(39).setLastIndex(41).addAllVoters(List.of(1L, 2L, 3L)).addLearners(4)
                .setLeaderAddress("127.0.0.1:8002").setRunning(true);
    }

    @Test
    void decodesEveryField() {
        NodeStatus s = NodeStatus.fromProto(leader().build());
        assertEquals(new NodeStatus(2, Role.LEADER, 7, 2, 40, 39, 41, List.of(1L, 2L, 3L), List.of(4L),
                "127.0.0.1:8002", true, false), s);
        assertTrue(s.isLeader());
        assertEquals("LEADER", s.state());
    }

    @Test
    void aStoppedNodeIsAFollowerThatDoesNotRun() {
        NodeStatus s = NodeStatus.fromProto(leader().setRole("STOPPED").setRunning(false).setLeaderId(0)
                .clearLeaderAddress().build());
        assertEquals(Role.FOLLOWER, s.role());
        assertFalse(s.running());
        assertFalse(s.isLeader());
        assertEquals("STOPPED", s.state());
        assertNull(s.leaderAddress(), "no leader address known");
    }

    @Test
    void everyRoleDecodes() {
        for (Role r : Role.values()) {
            assertEquals(r, NodeStatus.fromProto(leader().setRole(r.name()).build()).role());
        }
    }

    @Test
    void recoveringIsCarried() {
        assertTrue(NodeStatus.fromProto(leader().setRole("FOLLOWER").setRecovering(true).build()).recovering());
    }

    @Test
    void anUnknownRoleIsRefusedByName() {
        RaftException e = assertThrows(RaftException.class,
                () -> NodeStatus.fromProto(leader().setRole("OBSERVER").build()));
        assertEquals(Reason.UNSUPPORTED, e.reason());
        assertTrue(e.getMessage().contains("OBSERVER"), e.getMessage());
    }

    @Test
    void theMembershipListsAreCopiesThatCannotChange() {
        List<Long> voters = new ArrayList<>(List.of(1L, 2L));
        NodeStatus s = new NodeStatus(1, Role.FOLLOWER, 1, 0, 0, 0, 0, voters, List.of(), null, true, false);
        voters.add(3L);
        assertEquals(List.of(1L, 2L), s.voters());
        assertThrows(UnsupportedOperationException.class, () -> s.voters().add(5L));
    }
}
