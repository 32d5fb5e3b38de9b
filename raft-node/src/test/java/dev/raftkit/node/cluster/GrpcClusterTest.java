package dev.raftkit.node.cluster;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static dev.raftkit.testkit.runtime.MapStateMachine.string;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException.Reason;
import dev.raftkit.core.RaftException;
import dev.raftkit.core.ReadMode;
import dev.raftkit.core.log.Entry;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.testkit.runtime.MapStateMachine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real clusters on loopback, each node built by {@link dev.raftkit.node.RaftNode#builder}
 * (RaftServer + SegmentedLogStorage + FileSnapshotStore + GrpcTransport + client service), driven
 * through the gRPC client service and {@link RaftClient}.
 */
class GrpcClusterTest {

    @TempDir
    Path dir;

    private GrpcCluster cluster;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private GrpcCluster plain(Set<Long> founders) {
        cluster = new GrpcCluster(dir, "test", founders, id -> null, (id, b) -> { });
        return cluster.startAll();
    }

    /**
     * Submits {@code n} commands with up to {@code window} in flight; returns the keys acknowledged
     * and fills {@code latenciesNanos} if not null.
     */
    private static Set<Integer> submitMany(RaftClient client, int from, int n, int window, IntFunction<byte[]> command,
                                           long[] latenciesNanos) throws InterruptedException {
        Semaphore inFlight = new Semaphore(window);
        Set<Integer> acked = ConcurrentHashMap.newKeySet();
        List<CompletableFuture<byte[]>> all = new ArrayList<>(n);
        for (int i = from; i < from + n; i++) {
            inFlight.acquire();
            int k = i;
            long start = System.nanoTime();
            all.add(client.submitAsync(command.apply(i)).whenComplete((r, e) -> {
                inFlight.release();
                if (e == null) {
                    acked.add(k);
                    if (latenciesNanos != null) {
                        latenciesNanos[k - from] = System.nanoTime() - start;
                    }
                }
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).handle((v, e) -> null).join();
        return acked;
    }

    @Test
    void threeNodesElectALeaderAndApply10000CommandsIdentically() throws Exception {
        plain(Set.of(1L, 2L, 3L));
        cluster.awaitLeader();
        RaftClient client = cluster.client();
        int n = 10_000;
        long[] latencies = new long[n];

        long start = System.nanoTime();
        Set<Integer> acked = submitMany(client, 0, n, 64, i -> put("k" + i, "v" + i), latencies);
        long elapsed = System.nanoTime() - start;

        assertEquals(n, acked.size(), "every command is acknowledged on a healthy cluster");
        cluster.awaitSameState(Set.of(1L, 2L, 3L), n);
        Arrays.sort(latencies);
        System.out.printf("3-node loopback cluster (fsync'd segmented logs, gRPC): %d commands in %d ms = %.0f/s,"
                        + " p50 %.2f ms, p99 %.2f ms (64 in flight)%n", n, elapsed / 1_000_000, n * 1e9 / elapsed,
                latencies[n / 2] / 1e6, latencies[n * 99 / 100] / 1e6);
        assertEquals("v9999", string(client.read(MapStateMachine.bytes("k9999"), ReadMode.LINEARIZABLE)));
    }

    @Test
    void whenTheLeaderIsKilledANewOneTakesOverAndNoAcknowledgedCommandIsLost() throws Exception {
        plain(Set.of(1L, 2L, 3L));
        long oldLeader = cluster.awaitLeader().id;
        RaftClient client = cluster.client();
        Set<Integer> acked = ConcurrentHashMap.newKeySet();
        acked.addAll(submitMany(client, 0, 300, 16, i -> put("k" + i, "v" + i), null));

        CompletableFuture<Set<Integer>> during = CompletableFuture.supplyAsync(() -> {
            try {
                return submitMany(client, 300, 700, 16, i -> put("k" + i, "v" + i), null);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, r -> new Thread(r, "writer").start());
        await().atMost(GrpcCluster.PATIENCE).until(() -> cluster.node(oldLeader).machine.appliedCount() > 400);
        cluster.kill(oldLeader);
        acked.addAll(during.get(GrpcCluster.PATIENCE.toSeconds() * 2, TimeUnit.SECONDS));

        long newLeader = cluster.awaitLeader().id;
        assertNotEquals(oldLeader, newLeader);
        assertTrue(acked.size() >= 300, "acknowledged " + acked.size());
        for (int k : acked) {
            assertEquals("v" + k, string(client.read(MapStateMachine.bytes("k" + k), ReadMode.LINEARIZABLE)),
                    "acknowledged command k" + k + " was lost");
        }

        // The killed node comes back on its log and catches up.
        cluster.start(oldLeader);
        cluster.awaitSameState(Set.of(1L, 2L, 3L), acked.size());
        assertEquals(0, cluster.node(oldLeader).snapshotsInstalled.get(), "caught up from its own log, no snapshot needed");
    }

    @Test
    void aNodeBehindCompactionCatchesUpByInstallSnapshot() throws Exception {
        cluster = new GrpcCluster(dir, "test", Set.of(1L, 2L, 3L), id -> null,
                (id, b) -> b.snapshotThresholds(100, 1 << 20));
        cluster.segmentBytes(8 << 10).startAll();
        long leader = cluster.awaitLeader().id;
        long lagging = leader == 3 ? 2 : 3;
        RaftClient client = cluster.client();
        submitMany(client, 0, 50, 16, i -> put("k" + i, "v" + i), null);
        cluster.kill(lagging);

        Set<Integer> acked = submitMany(client, 50, 1000, 32, i -> put("k" + i, "v" + i), null);
        assertEquals(1000, acked.size());

        GrpcCluster.Node back = cluster.start(lagging);
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 1050);
        assertTrue(back.snapshotsInstalled.get() >= 1, "the lagging node caught up without InstallSnapshot");
    }

    @Test
    void aLearnerIsAddedPromotedAndLeadsAfterATransferWhileAVoterIsRemoved() throws Exception {
        plain(Set.of(1L, 2L, 3L));
        cluster.awaitLeader();
        RaftClient client = cluster.client();
        submitMany(client, 0, 100, 16, i -> put("k" + i, "v" + i), null);

        cluster.start(4); // not a founder: waits to be added
        client.setNode(4, cluster.hostPort(4));
        client.addLearner(4);
        cluster.awaitSameState(Set.of(1L, 2L, 3L, 4L), 100);
        List<Long> voters = await().atMost(GrpcCluster.PATIENCE).until(() -> {
            try {
                return client.promote(4);
            } catch (RaftException e) {
                return List.<Long>of(); // NOT_CAUGHT_UP outlasted the client's timeout: try again
            }
        }, v -> v.contains(4L));
        assertEquals(List.of(1L, 2L, 3L, 4L), voters);

        client.transferLeadership(4);
        assertEquals(4, cluster.awaitLeader().id);

        long removed = 1;
        assertEquals(List.of(2L, 3L, 4L), client.remove(removed));
        cluster.kill(removed);
        client.submit(put("after", "removal"));
        cluster.awaitSameState(Set.of(2L, 3L, 4L), 101);
    }

    /**
     * The findings: over the client port, voters that do not exist could be added (voters
     * [1, 3, 98, 99]: no quorum, for good), and members removed until no live quorum was left.
     * Node 3 is a founder that never runs, so the leader never hears from it.
     */
    @Test
    void addingNonExistentVotersOrRemovingTheLastLiveQuorumIsRefusedOverTheClientPortUnlessForced() throws Exception {
        cluster = new GrpcCluster(dir, "test", Set.of(1L, 2L, 3L), id -> null, (id, b) -> { });
        cluster.start(1);
        cluster.start(2);
        long leader = cluster.awaitLeader().id;
        long follower = leader == 1 ? 2 : 1;
        RaftClient client = cluster.client();
        client.submit(put("k", "v"));

        for (long ghost : new long[] {98, 99}) {
            RaftException e = assertThrows(RaftException.class, () -> client.addVoter(ghost));
            assertEquals(Reason.INVALID, e.reason(), e.getMessage());
            assertTrue(e.getMessage().contains("node " + ghost + " is not a learner"), e.getMessage());
        }
        RaftException lose = assertThrows(RaftException.class, () -> client.remove(follower));
        assertEquals(Reason.INVALID, lose.reason(), lose.getMessage());
        String voters = "[" + Math.min(leader, 3) + "," + Math.max(leader, 3) + "]";
        assertTrue(lose.getMessage().contains("removing node " + follower + " leaves voters " + voters
                + " of which 1 is live [" + leader + "]; a quorum needs 2"), lose.getMessage());
        assertEquals(Set.of(1L, 2L, 3L), cluster.node(leader).server.status().conf().voters());
        client.submit(put("still", "committing"));
        cluster.awaitSameState(Set.of(1L, 2L), 2);

        assertEquals(List.of(Math.min(leader, 3), Math.max(leader, 3)), client.remove(follower, true));
    }

    @Test
    void aRetriedCommandIsAppliedOnce() throws Exception {
        plain(Set.of(1L, 2L, 3L));
        cluster.awaitLeader();
        RaftClient client = cluster.client();
        client.submit(put("warm", "up"));
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 1);
        long before = cluster.node(1).machine.appliedCount();

        long seq = client.nextSequence();
        byte[] first = client.submit(seq, put("x", "1"));
        // The answer got lost, say: the client sends the same command again (even a different
        // payload under the same number must not be applied).
        byte[] retry = client.submit(seq, put("x", "2"));

        assertArrayEquals(first, retry, "a retry returns the first result");
        client.submit(put("marker", "m"));
        cluster.awaitSameState(Set.of(1L, 2L, 3L), before + 2);
        assertEquals(before + 2, cluster.node(1).machine.appliedCount(), "the retried command was applied twice");
        assertEquals("1", string(client.read(MapStateMachine.bytes("x"), ReadMode.LINEARIZABLE)));
    }

    @Test
    void aClientOfAnotherClusterIsRefusedClearly() {
        plain(Set.of(1L, 2L, 3L));
        cluster.awaitLeader();
        RaftClient stranger = cluster.client("other", Duration.ofSeconds(5));

        RaftException e = assertThrows(RaftException.class, () -> stranger.submit(put("a", "b")));

        assertEquals(Reason.WRONG_CLUSTER, e.reason());
        assertTrue(e.getMessage().contains("belongs to cluster 'test'"), e.getMessage());
    }

    @Test
    void aClientTimesOutWithAClearErrorWhenNoMajorityIsUp() {
        plain(Set.of(1L, 2L, 3L));
        cluster.awaitLeader();
        RaftClient client = cluster.client("test", Duration.ofSeconds(2));
        cluster.kill(2);
        cluster.kill(3);

        RaftException e = assertThrows(RaftException.class, () -> client.submit(put("a", "b")));

        assertEquals(Reason.TIMED_OUT, e.reason());
        assertTrue(e.getMessage().contains("within 2000 ms"), e.getMessage());
    }

    @Test
    void fiveNodesSurviveTheLossOfTheirLeader() throws Exception {
        plain(Set.of(1L, 2L, 3L, 4L, 5L));
        long leader = cluster.awaitLeader().id;
        RaftClient client = cluster.client();
        assertEquals(500, submitMany(client, 0, 500, 32, i -> put("k" + i, "v" + i), null).size());

        cluster.kill(leader);
        assertNotEquals(leader, cluster.awaitLeader().id);
        assertEquals(500, submitMany(client, 500, 500, 32, i -> put("k" + i, "v" + i), null).size());

        Set<Long> alive = new java.util.TreeSet<>(Set.of(1L, 2L, 3L, 4L, 5L));
        alive.remove(leader);
        cluster.awaitSameState(alive, 1000);
    }

    /**
     * Issue 12: a 63 MiB Submit killed the leader (the log writer's buffer overflowed, the process
     * exited) and the client was told "STOPPED, retryable", so a retrying client killed each new
     * leader in turn. Now the client port refuses it before anything is appended: for good
     * ({@code TOO_LARGE}, no retry at another node), naming the sizes; a command just over the
     * limit reaches the service and is refused the same way with both sizes; the leader keeps
     * leading and keeps what it acknowledged.
     */
    @Test
    void a63MiBSubmitIsRefusedAtTheClientPortAndTheLeaderKeepsRunning() throws Exception {
        plain(Set.of(1L, 2L, 3L));
        RaftClient client = cluster.client();
        client.submit(put("kept", "1"));
        GrpcCluster.Node leader = cluster.awaitLeader();
        long lastBefore = leader.server.status().lastIndex();
        long termBefore = leader.server.status().term();
        int max = leader.server.maxCommandBytes();

        long start = System.nanoTime();
        RaftException huge = assertThrows(RaftException.class, () -> client.submit(new byte[63 << 20]));
        assertEquals(Reason.TOO_LARGE, huge.reason(), huge.getMessage());
        assertTrue(huge.getMessage().contains("exceeds maximum size"), huge.getMessage());
        java.io.PrintStream stderr = System.err;
        java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(logged, true));
        try {
            for (int i = 0; i < 3; i++) {
                RaftException over = assertThrows(RaftException.class,
                        () -> client.submit(new byte[max + 1]));
                assertEquals(Reason.TOO_LARGE, over.reason(), over.getMessage());
                assertTrue(over.getMessage().contains((max + 1) + " bytes")
                        && over.getMessage().contains(max + " bytes"), over.getMessage());
            }
        } finally {
            System.setErr(stderr);
        }
        List<String> lines = logged.toString().lines().filter(l -> l.contains("refused a client command")).toList();
        assertEquals(1, lines.size(), "one log line for three refusals: " + lines);
        assertTrue(lines.get(0).contains("TOO_LARGE") && lines.get(0).length() < 600, lines.get(0));
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(10)) < 0,
                "refused at once, not retried until the timeout");

        if (leader.server.status().term() == termBefore) {
            assertTrue(leader.server.status().isLeader(), "the leader still leads");
            assertEquals(lastBefore, leader.server.status().lastIndex(), "nothing was appended");
        } // else an election came meanwhile (a GC pause on a loaded machine): its leader appended
          // its own empty entry, and what matters is checked below for any leader
        for (GrpcCluster.Node n : cluster.running()) {
            assertTrue(n.server.status().running(), "node " + n.id + " still runs");
        }
        client.submit(put("after", "2"));
        assertEquals("1", string(client.read(MapStateMachine.bytes("kept"), ReadMode.LINEARIZABLE)));
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 2);
        // No refused command reached the log: every entry since is at most the command limit.
        GrpcCluster.Node now = cluster.awaitLeader();
        List<Entry> since = now.server.readCommitted(lastBefore + 1, now.server.status().commit(), 256L << 20)
                .get(30, TimeUnit.SECONDS);
        assertFalse(since.isEmpty(), "the put after the refusals is committed");
        assertTrue(since.stream().allMatch(e -> e.data().length <= max),
                "a refused command was appended: " + since.stream().map(e -> e.data().length).toList());
    }

    /**
     * Issue 12: a 20 MiB Submit was appended (the client port took 64 MiB) but could never be
     * replicated (peers take 16 MiB): writes stalled until the leader changed. The limits now
     * derive from one place, so the largest command the client port accepts reaches every node.
     */
    @Test
    void aCommandOfTheLargestAcceptedSizeIsReplicatedToEveryNode() {
        plain(Set.of(1L, 2L, 3L));
        RaftClient client = cluster.client();
        int max = cluster.awaitLeader().server.maxCommandBytes();
        byte[] command = new byte[max];
        Arrays.fill(command, (byte) 'x');
        System.arraycopy(put("big", "").clone(), 0, command, 0, 4);
        client.submit(command);
        client.submit(put("next", "1"));
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 2);
        for (GrpcCluster.Node n : cluster.running()) {
            assertEquals(max - 4, string(n.machine.query(MapStateMachine.bytes("big"))).length(), "node " + n.id);
        }
    }

    /**
     * Issue 12: a leader whose disk filled stopped by design but kept its client port and still
     * reported LEADER of its term, answering every request with a retryable STOPPED and no leader
     * hint; RaftClient reset its leader guess only on NOT_LEADER, so a long-lived client
     * acknowledged nothing for about 40 s. Now the stopped node reports STOPPED (not LEADER) and
     * the client tries the other nodes at once: its next writes succeed within seconds, and every
     * acknowledged write is still there.
     */
    @Test
    void aStoppedLeaderDoesNotStrandALongLivedClient() {
        cluster = new GrpcCluster(dir, "test", Set.of(1L, 2L, 3L), id -> null, (id, b) -> { }).fillableDisks();
        cluster.startAll();
        RaftClient client = cluster.client();
        for (int i = 0; i < 10; i++) {
            client.submit(put("k" + i, "v" + i));
        }
        GrpcCluster.Node old = cluster.awaitLeader();
        client.submit(put("on-the-old-leader", "1")); // the client's guess is the leader now

        cluster.fillDisk(old.id);
        long start = System.nanoTime();
        client.submit(put("after-the-disk-filled", "1"));
        for (int i = 0; i < 5; i++) {
            client.submit(put("later" + i, "x"));
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(took.compareTo(Duration.ofSeconds(8)) < 0, "the client found the new leader in " + took);

        assertTrue(!old.server.status().running());
        assertTrue(!old.server.status().isLeader());
        assertEquals("STOPPED", old.server.status().state());
        assertEquals(0, old.server.status().leader());
        var reported = client.status(old.id);
        assertEquals("STOPPED", reported.state(), "the stopped node does not report LEADER");
        assertTrue(!reported.running());
        assertTrue(!reported.isLeader());
        assertEquals(old.id, reported.nodeId());

        GrpcCluster.Node leader = cluster.awaitLeader();
        assertNotEquals(old.id, leader.id);
        for (int i = 0; i < 10; i++) {
            assertEquals("v" + i, string(client.read(MapStateMachine.bytes("k" + i), ReadMode.LINEARIZABLE)));
        }
        assertEquals("1", string(client.read(MapStateMachine.bytes("after-the-disk-filled"), ReadMode.LINEARIZABLE)));
        assertEquals("x", string(client.read(MapStateMachine.bytes("later4"), ReadMode.LINEARIZABLE)));
    }
}
