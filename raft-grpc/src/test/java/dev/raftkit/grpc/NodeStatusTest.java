package dev.raftkit.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException.Reason;
import dev.raftkit.core.RaftException;
import dev.raftkit.core.Role;
import dev.raftkit.grpc.proto.FollowerStatus;
import dev.raftkit.grpc.proto.StatusResponse;
import java.time.Duration;
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
                "127.0.0.1:8002", true, false, null, Duration.ZERO, 0, -1, List.of()), s);
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
        NodeStatus s = new NodeStatus(1, Role.FOLLOWER, 1, 0, 0, 0, 0, voters, List.of(), null, true, false, null,
                Duration.ZERO, 0, -1, List.of());
        voters.add(3L);
        assertEquals(List.of(1L, 2L), s.voters());
        assertThrows(UnsupportedOperationException.class, () -> s.voters().add(5L));
    }

    @Test
    void decodesTheVersionUptimeSnapshotLogSizeAndFollowers() {
        NodeStatus s = NodeStatus.fromProto(leader().setVersion("1.2.3").setUptimeMillis(90_500).setSnapshotIndex(30)
                .setLogBytes(4096)
                .addFollowers(FollowerStatus.newBuilder().setNodeId(1).setMatchIndex(41).setLag(0).setLive(true))
                .addFollowers(FollowerStatus.newBuilder().setNodeId(3).setMatchIndex(11).setLag(30).setLive(false)
                        .setRecovering(true))
                .addFollowers(FollowerStatus.newBuilder().setNodeId(4).setMatchIndex(40).setLag(1).setLive(true)
                        .setLearner(true))
                .build());
        assertEquals("1.2.3", s.version());
        assertEquals(Duration.ofMillis(90_500), s.uptime());
        assertEquals(30, s.snapshotIndex());
        assertEquals(4096, s.logBytes());
        assertEquals(List.of(new NodeStatus.Follower(1, 41, 0, true, false, false),
                new NodeStatus.Follower(3, 11, 30, false, true, false),
                new NodeStatus.Follower(4, 40, 1, true, false, true)), s.followers());
        assertEquals(new NodeStatus.Follower(3, 11, 30, false, true, false), s.follower(3));
        assertNull(s.follower(2), "the leader has no view of itself");
    }

    @Test
    void anOlderServerThatSaysNothingOfItsVersionOrLogHasAnUnknownLogSize() {
        NodeStatus s = NodeStatus.fromProto(leader().build());
        assertNull(s.version());
        assertEquals(-1, s.logBytes(), "not a log of 0 bytes");
        assertTrue(s.followers().isEmpty());
        assertEquals(0, NodeStatus.fromProto(leader().setVersion("1.2.3").build()).logBytes(),
                "a server that names its version and says 0 means 0");
    }
}
