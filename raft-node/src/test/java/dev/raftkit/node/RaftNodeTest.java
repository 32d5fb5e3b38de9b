package dev.raftkit.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.metrics.MicrometerRaftMetrics;
import dev.raftkit.spi.StorageException;
import dev.raftkit.testkit.docs.DocSnippets;
import dev.raftkit.testkit.net.FreePorts;
import dev.raftkit.spi.ForwardingStateMachine;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node an embedder builds: what it serves, what it owns, and what a failed start leaves behind. */
class RaftNodeTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T c) {
        open.add(c);
        return c;
    }

    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    @Test
    void threeNodesFromTheBuilderReplicateTheirOwnStateMachineAndRedirectClients() throws Exception {
        long[] ids = {1, 2, 3};
        int[] peerPorts = new int[3];
        int[] clientPorts = new int[3];
        for (int i = 0; i < 3; i++) {
            peerPorts[i] = FreePorts.next();
            clientPorts[i] = FreePorts.next();
        }
        List<RaftNode> nodes = new ArrayList<>();
        List<ClosingCounter> machines = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ClosingCounter machine = new ClosingCounter();
            RaftNode.Builder b = RaftNode.builder("counters", ids[i]).dataDir(dir.resolve("n" + ids[i]))
                    .peerListen(loopback(peerPorts[i])).clientListen(loopback(clientPorts[i]))
                    .bootstrap(Set.of(1L, 2L, 3L)).tickMillis(20).stateMachine(machine);
            for (int j = 0; j < 3; j++) {
                if (j != i) {
                    b.peer(ids[j], loopback(peerPorts[j]), "127.0.0.1:" + clientPorts[j]);
                }
            }
            machines.add(machine);
            nodes.add(closing(b.start()));
        }
        // A client that knows only node 1 still reaches the leader: node 1 redirects it.
        RaftClient client = closing(RaftClient.builder("counters").node(1, nodes.get(0).clientHostPort())
                .timeout(WAIT).build());
        long expected = 0;
        for (int k = 1; k <= 10; k++) {
            expected += k;
            assertEquals(expected, CounterStateMachine.valueOf(client.submit(CounterStateMachine.add(k))));
        }
        long total = expected;
        for (RaftNode n : nodes) {
            await().atMost(WAIT).until(() -> CounterStateMachine.valueOf(
                    n.server().read(CounterStateMachine.add(0), ReadMode.STALE).get(10, TimeUnit.SECONDS)) == total);
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(ids[i], nodes.get(i).id());
            assertEquals("counters", nodes.get(i).clusterId());
            assertEquals(machines.get(i), nodes.get(i).stateMachine());
        }
        nodes.forEach(RaftNode::close);
        machines.forEach(m -> assertTrue(m.closed, "closing the node closes its state machine"));
    }

    @Test
    void aMeterRegistryGetsTheNodesMetricsTaggedWithClusterAndNodeUntilItCloses() throws Exception {
        Path dataDir = dir.resolve("n1");
        CounterStateMachine sm = new CounterStateMachine();
        // metrics:start
        MeterRegistry registry = new SimpleMeterRegistry();   // or a PrometheusMeterRegistry, …
        RaftNode node = RaftNode.builder("orders", 1).dataDir(dataDir).bootstrap(Set.of(1L)).stateMachine(sm)
                .meterRegistry(registry)                       // tags cluster=orders, node=1
                .start();
        // metrics:end
        await().atMost(WAIT).until(() -> node.server().status().isLeader());
        for (int k = 1; k <= 5; k++) {
            node.server().submit(CounterStateMachine.add(k)).get(10, TimeUnit.SECONDS);
        }
        assertTrue(registry.get(MicrometerRaftMetrics.LOG_SYNC).tag("cluster", "orders").tag("node", "1").timer()
                .count() > 0, "the segmented log's syncs are timed");
        assertTrue(registry.get(MicrometerRaftMetrics.COMMIT_LATENCY).timer().count() >= 5);
        // The segmented log publishes its size: records and headers of at least the five commands.
        assertTrue(registry.get(MicrometerRaftMetrics.LOG_SIZE).gauge().value() > 5 * 8);
        assertEquals(1, registry.get(MicrometerRaftMetrics.LOG_SEGMENTS).gauge().value());
        assertEquals(1, registry.get(MicrometerRaftMetrics.ROLE).gauge().value());
        node.close();
        assertTrue(registry.getMeters().isEmpty(), "a closed node leaves no meters behind: " + registry.getMeters());
    }

    @Test
    void theUserGuideShowsTheTestedMetricsExample() throws IOException {
        DocSnippets.assertShown(Path.of("../docs/user-guide.md"),
                DocSnippets.between(Path.of("src/test/java/dev/raftkit/node/RaftNodeTest.java"), "metrics"));
    }

    @Test
    void aStartThatFailsReleasesTheDirectoryAndClosesItsStateMachine() throws Exception {
        Path data = dir.resolve("n1");
        RaftNode first = RaftNode.builder("c", 1).dataDir(data).bootstrap(Set.of(1L))
                .stateMachine(new CounterStateMachine()).start();
        ClosingCounter second = new ClosingCounter();
        StorageException refused = assertThrows(StorageException.class, () -> RaftNode.builder("c", 1).dataDir(data)
                .stateMachine(second).start());
        assertTrue(refused.getMessage().contains("is in use"), refused.getMessage());
        assertTrue(second.closed, "the node that could not start closes the state machine it was given");
        first.close();
        // Nothing of the failed start holds the directory: once the first node is gone a new one opens it.
        RaftNode again = closing(RaftNode.builder("c", 1).dataDir(data).stateMachine(new CounterStateMachine()).start());
        await().atMost(WAIT).until(() -> again.server().status().leader() == 1);
    }

    @Test
    void aClientPortThatCannotBeBoundReleasesTheDirectory() throws Exception {
        RaftNode holder = closing(RaftNode.builder("c", 9).dataDir(dir.resolve("n9"))
                .stateMachine(new CounterStateMachine()).start());
        InetSocketAddress taken = loopback(Integer.parseInt(
                holder.clientHostPort().substring(holder.clientHostPort().lastIndexOf(':') + 1)));
        Path data = dir.resolve("n1");
        ClosingCounter machine = new ClosingCounter();
        assertThrows(IOException.class, () -> RaftNode.builder("c", 1).dataDir(data).clientListen(taken)
                .bootstrap(Set.of(1L)).stateMachine(machine).start());
        assertTrue(machine.closed);
        closing(RaftNode.builder("c", 1).dataDir(data).bootstrap(Set.of(1L))
                .stateMachine(new CounterStateMachine()).start());
    }

    @Test
    void aPeerPortThatCannotBeBoundReleasesTheDirectory() throws Exception {
        RaftNode holder = closing(RaftNode.builder("c", 9).dataDir(dir.resolve("n9"))
                .stateMachine(new CounterStateMachine()).start());
        Path data = dir.resolve("n1");
        ClosingCounter machine = new ClosingCounter();
        assertThrows(IOException.class, () -> RaftNode.builder("c", 1).dataDir(data).peerListen(holder.peerAddress())
                .bootstrap(Set.of(1L)).stateMachine(machine).start());
        assertTrue(machine.closed, "the node that could not bind its peer port closes its state machine");
        closing(RaftNode.builder("c", 1).dataDir(data).bootstrap(Set.of(1L))
                .stateMachine(new CounterStateMachine()).start());
    }

    @Test
    void aBackupInsideTheDataDirectoryIsRefusedAndAnIncrementalFollowsTheFull() throws Exception {
        Path data = dir.resolve("n1");
        RaftNode node = closing(RaftNode.builder("c", 1).dataDir(data).bootstrap(Set.of(1L))
                .stateMachine(new CounterStateMachine()).start());
        IllegalArgumentException inside = assertThrows(IllegalArgumentException.class,
                () -> node.backup(data.resolve("backups")));
        assertTrue(inside.getMessage().contains("is inside the node's data directory"), inside.getMessage());
        await().atMost(Duration.ofSeconds(10)).until(() -> node.server().status().isLeader());
        node.server().submit(CounterStateMachine.add(1)).get(10, TimeUnit.SECONDS);
        Path backups = dir.resolve("backups");
        assertFalse(node.backup(backups).fellBackToFull());
        node.server().submit(CounterStateMachine.add(2)).get(10, TimeUnit.SECONDS);
        var incremental = node.incrementalBackup(backups);
        assertFalse(incremental.fellBackToFull(), String.valueOf(incremental.fallbackReason()));
        assertEquals(node.server().status().applied(), incremental.manifest().lastIndex());
    }

    @Test
    void theBuilderRefusesWhatCannotMakeANode() {
        assertThrows(IllegalArgumentException.class, () -> RaftNode.builder("c", 0));
        assertThrows(IllegalArgumentException.class, () -> RaftNode.builder(" ", 1));
        RaftNode.Builder b = RaftNode.builder("c", 1);
        IllegalArgumentException notAFounder = assertThrows(IllegalArgumentException.class,
                () -> b.bootstrap(Set.of(2L, 3L)));
        assertTrue(notAFounder.getMessage().contains("do not include this node"), notAFounder.getMessage());
        assertThrows(IllegalArgumentException.class, () -> b.peer(1, loopback(7000)));
        assertThrows(IllegalArgumentException.class, () -> b.peer(-2, loopback(7000)));
        assertThrows(IllegalArgumentException.class, () -> b.tickMillis(0));
        IllegalStateException noDir = assertThrows(IllegalStateException.class, b::start);
        assertTrue(noDir.getMessage().contains("dataDir is required"), noDir.getMessage());
        b.dataDir(dir.resolve("x"));
        IllegalStateException noMachine = assertThrows(IllegalStateException.class, b::start);
        assertTrue(noMachine.getMessage().contains("stateMachine is required"), noMachine.getMessage());
    }

    @Test
    void aBuilderStartsOneNodeOnly() throws Exception {
        RaftNode.Builder b = RaftNode.builder("c", 1).dataDir(dir.resolve("n1")).bootstrap(Set.of(1L))
                .stateMachine(new CounterStateMachine());
        closing(b.start());
        assertThrows(IllegalStateException.class, b::start);
    }

    @Test
    void adminCallsOnPlaintextNeedInsecureAdmin() throws Exception {
        RaftNode strict = closing(RaftNode.builder("c", 1).dataDir(dir.resolve("n1")).bootstrap(Set.of(1L))
                .stateMachine(new CounterStateMachine()).start());
        RaftNode open = closing(RaftNode.builder("c", 1).dataDir(dir.resolve("n2")).bootstrap(Set.of(1L))
                .insecureAdmin(true).stateMachine(new CounterStateMachine()).start());
        await().atMost(WAIT).until(() -> strict.server().status().leader() == 1 && open.server().status().leader() == 1);

        ExecutionException refused = assertThrows(ExecutionException.class, () -> snapshot(strict));
        RaftException status = assertInstanceOf(RaftException.class, refused.getCause());
        assertEquals(RaftException.Reason.UNAUTHORIZED, status.reason(), status.toString());
        assertTrue(status.getMessage().contains("PERMISSION_DENIED"), status.getMessage());

        AdminClient.SnapshotTaken taken = snapshot(open);
        assertEquals(1, taken.node());
        assertTrue(taken.index() >= 1, "the snapshot covers at least the founding entries: " + taken);
        assertEquals(taken.index(), open.snapshotStore().latest().orElseThrow().meta().index());

        // How far a backup has got is an admin call too; a node taking none says so (null).
        try (AdminClient strictAdmin = admin(strict); AdminClient openAdmin = admin(open)) {
            ExecutionException progressRefused = assertThrows(ExecutionException.class,
                    () -> strictAdmin.backupProgress("c", WAIT).get(WAIT.toSeconds() + 5, TimeUnit.SECONDS));
            assertEquals(RaftException.Reason.UNAUTHORIZED,
                    assertInstanceOf(RaftException.class, progressRefused.getCause()).reason());
            assertNull(openAdmin.backupProgress("c", WAIT).get(WAIT.toSeconds() + 5, TimeUnit.SECONDS));
            assertNull(open.backupProgress());
        }
    }

    @Test
    void theTransportIsConfiguredThroughTheBuilderAndItsPortsAreTheNodes() throws Exception {
        List<String> calls = new ArrayList<>();
        RaftNode node = closing(RaftNode.builder("c", 1).dataDir(dir.resolve("n1")).bootstrap(Set.of(1L))
                .peer(2, loopback(FreePorts.next()))
                .configureTransport(t -> calls.add("first"))
                .configureTransport(t -> t.backoff(Duration.ofMillis(20), Duration.ofMillis(500)).peer(3, loopback(7003)))
                .configureTransport(t -> calls.add("second"))
                .stateMachine(new CounterStateMachine()).start());
        assertEquals(List.of("first", "second"), calls, "every adjustment, once each, in the order given");
        await().atMost(WAIT).until(() -> node.server().status().leader() == 1);
        assertEquals(Set.of(2L, 3L), node.transport().peers(), "the builder's peers and the adjustment's");
        assertEquals(node.peerAddress(), node.transport().localAddress());
        assertEquals(node.clientHostPort(), node.clientEndpoint().hostPort());
    }

    @Test
    void aTransportSettingThatCannotCarryTheLargestCommandIsRefusedAndReleasesEverything() throws Exception {
        Path data = dir.resolve("n1");
        ClosingCounter machine = new ClosingCounter();
        IllegalArgumentException tooSmall = assertThrows(IllegalArgumentException.class, () -> RaftNode.builder("c", 1)
                .dataDir(data).bootstrap(Set.of(1L)).configureTransport(t -> t.maxMessageBytes(1 << 20))
                .stateMachine(machine).start());
        assertTrue(tooSmall.getMessage().contains("the peer message limit (1048576 bytes)"), tooSmall.getMessage());
        assertTrue(machine.closed, "the node that refused its settings closes its state machine");

        ClosingCounter invalid = new ClosingCounter();
        assertThrows(IllegalArgumentException.class, () -> RaftNode.builder("c", 1).dataDir(data)
                .configureTransport(t -> t.backoff(Duration.ofSeconds(1), Duration.ofMillis(1)))
                .stateMachine(invalid).start());
        assertTrue(invalid.closed, "a transport setting refused before anything opened still closes the state machine");

        RaftNode again = closing(RaftNode.builder("c", 1).dataDir(data).bootstrap(Set.of(1L))
                .stateMachine(new CounterStateMachine()).start());
        await().atMost(WAIT).until(() -> again.server().status().leader() == 1);
    }

    /** A counter that remembers being closed: what these tests give a node to own. */
    private static final class ClosingCounter extends ForwardingStateMachine {
        volatile boolean closed;

        ClosingCounter() {
            super(new CounterStateMachine());
        }

        @Override
        public void close() {
            closed = true;
            super.close();
        }
    }

    private static AdminClient.SnapshotTaken snapshot(RaftNode node) throws Exception {
        try (AdminClient admin = admin(node)) {
            return admin.snapshot(node.clusterId(), WAIT).get(WAIT.toSeconds() + 5, TimeUnit.SECONDS);
        }
    }

    /** A plaintext admin client of {@code node}'s client port. */
    private static AdminClient admin(RaftNode node) {
        String hostPort = node.clientHostPort();
        return new AdminClient(loopback(Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1))), null);
    }
}
