package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.PushSnapshot;
import dev.raftkit.testkit.cluster.TestCluster;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Snapshot source PEERS: a leader that would send a lagging follower its snapshot asks an
 * up-to-date peer to stream that peer's own snapshot instead, and falls back to its own when the
 * peer declines, crashes or does not finish within the timeout.
 */
class PeerSnapshotTest {

    private static final int TIMEOUT = 15;

    /** Node 3 falls behind a compacted log; {@code compactPeer} decides whether node 2 has a snapshot too. */
    private static TestCluster lagging(SnapshotSource source, boolean compactPeer, List<Message> sent, List<String> events) {
        TestCluster c = TestCluster.of(3, b -> b.snapshotSource(source).peerSnapshotTimeoutTicks(TIMEOUT));
        c.setTracer((node, kind, detail) -> events.add(node + " " + kind + " " + detail));
        c.node(1).raft().campaign();
        c.stabilize();
        c.isolate(3);
        for (int i = 0; i < 5; i++) {
            c.node(1).raft().propose(("v" + i).getBytes(StandardCharsets.UTF_8));
        }
        c.stabilize();
        c.compact(1);
        if (compactPeer) {
            c.compact(2);
        }
        c.observeReadys((id, r) -> {
            sent.addAll(r.messages());
            sent.addAll(r.snapshotsToSend());
        });
        c.heal();
        return c;
    }

    private static void run(TestCluster c, int heartbeats) {
        for (int i = 0; i < heartbeats; i++) {
            c.tickHeartbeat(1);
            c.stabilize();
        }
    }

    /** {@link #run}, but the peer's snapshot to node 3 is held on the way (a slow link) each round. */
    private static void runHoldingPeerSnapshot(TestCluster c, int heartbeats) {
        for (int i = 0; i < heartbeats; i++) {
            c.tickHeartbeat(1);
            for (int round = 0; round < 1000; round++) {
                for (var n : c.nodes()) {
                    while (!n.crashed() && n.raft().hasReady()) {
                        c.processReady(n.id());
                    }
                }
                c.hold(m -> m instanceof InstallSnapshot s && s.fromPeer());
                if (c.inFlight().isEmpty()) {
                    break;
                }
                c.deliver(m -> true);
            }
        }
    }

    @Test
    void aFollowerGetsItsSnapshotFromAnUpToDatePeerAndTheLeaderSendsNone() {
        List<Message> sent = Collections.synchronizedList(new ArrayList<>());
        List<String> events = new ArrayList<>();
        TestCluster c = lagging(SnapshotSource.PEERS, true, sent, events);
        run(c, 4);

        assertTrue(sent.stream().anyMatch(m -> m instanceof PushSnapshot p && p.from() == 1 && p.to() == 2
                && p.target() == 3 && p.minIndex() == c.node(1).raft().status().firstIndex() - 1),
                "the leader asks node 2 to stream node 3 a snapshot at its compacted index: " + sent);
        assertFalse(sent.stream().anyMatch(m -> m instanceof InstallSnapshot s && s.from() == 1),
                "the leader streams no snapshot itself: " + sent);
        assertTrue(sent.stream().anyMatch(m -> m instanceof InstallSnapshot s && s.from() == 2 && s.to() == 3
                && s.leader() == 1 && s.fromPeer()), "node 2 streams its own, naming the leader: " + sent);
        assertTrue(events.stream().anyMatch(e -> e.startsWith("3 snapshot-from-peer from 2 for leader 1")), events.toString());
        assertEquals(TestCluster.describe(c.node(1).applied()), TestCluster.describe(c.node(3).applied()));
        assertTrue(c.node(1).raft().status().progress().get(3L).startsWith("REPLICATE"),
                "the leader replicates to node 3 again: " + c.node(1).raft().status().progress());
        // Replication goes on past the snapshot as after the leader's own.
        c.node(1).raft().propose("after".getBytes(StandardCharsets.UTF_8));
        c.stabilize();
        assertEquals(TestCluster.describe(c.node(1).applied()), TestCluster.describe(c.node(3).applied()));
    }

    @Test
    void byDefaultTheLeaderSendsItsOwnSnapshot() {
        List<Message> sent = Collections.synchronizedList(new ArrayList<>());
        TestCluster c = lagging(SnapshotSource.LEADER, true, sent, new ArrayList<>());
        run(c, 4);
        assertFalse(sent.stream().anyMatch(m -> m instanceof PushSnapshot), sent.toString());
        assertTrue(sent.stream().anyMatch(m -> m instanceof InstallSnapshot s && s.from() == 1 && s.to() == 3));
        assertEquals(TestCluster.describe(c.node(1).applied()), TestCluster.describe(c.node(3).applied()));
    }

    @Test
    void aPeerWithoutASnapshotThatFarDeclinesAndTheLeaderSendsItsOwnAfterTheTimeout() {
        List<Message> sent = Collections.synchronizedList(new ArrayList<>());
        List<String> events = new ArrayList<>();
        TestCluster c = lagging(SnapshotSource.PEERS, false, sent, events);
        run(c, 4);
        assertTrue(sent.stream().anyMatch(m -> m instanceof PushSnapshot p && p.to() == 2 && p.target() == 3));
        assertTrue(events.stream().anyMatch(e -> e.startsWith("2 snapshot-push-refused to 3")), events.toString());
        assertFalse(sent.stream().anyMatch(m -> m instanceof InstallSnapshot), "nothing streamed yet: " + sent);
        assertTrue(c.node(1).raft().status().progress().get(3L).startsWith("SNAPSHOT"));

        run(c, TIMEOUT + 4);
        assertTrue(events.stream().anyMatch(e -> e.startsWith("1 snapshot-peer-timeout to 3 from 2")), events.toString());
        assertTrue(sent.stream().anyMatch(m -> m instanceof InstallSnapshot s && s.from() == 1 && s.to() == 3
                && !s.fromPeer()), "the leader falls back to its own: " + sent);
        assertEquals(TestCluster.describe(c.node(1).applied()), TestCluster.describe(c.node(3).applied()));
        assertTrue(c.node(1).raft().status().progress().get(3L).startsWith("REPLICATE"));
    }

    @Test
    void aPeerCrashingMidTransferMakesTheLeaderSendItsOwn() {
        List<Message> sent = Collections.synchronizedList(new ArrayList<>());
        List<String> events = new ArrayList<>();
        TestCluster c = lagging(SnapshotSource.PEERS, true, sent, events);
        runHoldingPeerSnapshot(c, 2);
        assertTrue(sent.stream().anyMatch(m -> m instanceof InstallSnapshot s && s.from() == 2), sent.toString());
        c.crash(2);
        c.drop(m -> m.from() == 2); // its snapshot to node 3 is lost with it
        run(c, TIMEOUT + 4);
        assertTrue(sent.stream().anyMatch(m -> m instanceof InstallSnapshot s && s.from() == 1 && s.to() == 3));
        assertFalse(events.stream().anyMatch(e -> e.startsWith("3 snapshot-from-peer")), events.toString());
        assertEquals(TestCluster.describe(c.node(1).applied()), TestCluster.describe(c.node(3).applied()));
    }

    @Test
    void aStalePeerSnapshotArrivingAfterTheLeadersIsRefused() {
        List<Message> sent = Collections.synchronizedList(new ArrayList<>());
        List<String> events = new ArrayList<>();
        TestCluster c = lagging(SnapshotSource.PEERS, true, sent, events);
        runHoldingPeerSnapshot(c, TIMEOUT + 4); // the peer's transfer is held past the timeout: the leader sends its own
        assertEquals(TestCluster.describe(c.node(1).applied()), TestCluster.describe(c.node(3).applied()));
        long applied = c.node(3).appliedIndex();
        c.release(m -> m instanceof InstallSnapshot s && s.from() == 2);
        c.stabilize();
        assertFalse(events.stream().anyMatch(e -> e.startsWith("3 snapshot-from-peer")),
                "a snapshot not past the committed index is not installed: " + events);
        assertEquals(applied, c.node(3).appliedIndex());
    }
}
