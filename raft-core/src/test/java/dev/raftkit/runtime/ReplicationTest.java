package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.bytes;
import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static dev.raftkit.testkit.runtime.MapStateMachine.string;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.ReadMode;
import dev.raftkit.core.Role;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Three real servers over the in-memory network: election, replication, failover, restart. */
class ReplicationTest {

    private static final Set<Long> NODES = Set.of(1L, 2L, 3L);
    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void threeNodesElectOneLeaderAndApplyAThousandCommandsIdentically() throws Exception {
        cluster = new RuntimeCluster(NODES, b -> { }).startAll();
        RaftServer leader = cluster.awaitLeader();
        long leaders = cluster.running().stream().filter(s -> s.status().role() == Role.LEADER).count();
        assertTrue(leaders <= 1, "election safety: at most one leader per term is visible here");

        ClientSession session = cluster.openSession();
        // Pipelined: many proposals per Ready, many entries per append, many Readys per fsync.
        int n = 1200;
        List<CompletableFuture<byte[]>> pending = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long seq = session.nextSequence();
            seqs.add(seq);
            pending.add(session.submit(leader, seq, put("k" + (i % 50), "v" + i)));
        }
        // The values k49 may end with: the last put if nothing had to be retried; a retried put
        // runs after every put that succeeded at once, so it may be the last one applied.
        Set<String> lastK49 = new TreeSet<>(Set.of("v" + (n - 1)));
        for (int i = 0; i < n; i++) {
            try {
                pending.get(i).get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                // A leader change during the run (a disk stall on a loaded machine, say): retry
                // with the same sequence number (exactly once).
                long seq = seqs.get(i);
                int k = i;
                cluster.retry(l -> session.submit(l, seq, put("k" + (k % 50), "v" + k)));
                if (k % 50 == 49) {
                    lastK49.add("v" + k);
                }
            }
        }
        cluster.awaitSameState(NODES, n);
        assertEquals(n, cluster.machine(1).appliedCount(), "every command applied exactly once");
        byte[] v = cluster.retry(l -> l.read(bytes("k49"), ReadMode.LINEARIZABLE));
        assertTrue(lastK49.contains(string(v)), "k49 is " + string(v) + ", not one of " + lastK49);
    }

    @Test
    void whenTheLeaderStopsANewOneIsElectedAndNoAcknowledgedCommandIsLost() {
        cluster = new RuntimeCluster(NODES, b -> { }).startAll();
        ClientSession session = cluster.openSession();
        for (int i = 0; i < 100; i++) {
            cluster.submit(session, put("a" + i, "x"));
        }
        RaftServer old = cluster.awaitLeader();
        long oldId = old.id();
        cluster.stop(oldId);

        RaftServer next = cluster.awaitLeader();
        assertTrue(next.id() != oldId);
        for (int i = 100; i < 200; i++) {
            cluster.submit(session, put("a" + i, "x"));
        }
        Set<Long> alive = new java.util.HashSet<>(NODES);
        alive.remove(oldId);
        cluster.awaitSameState(alive, 200);
        for (long id : alive) {
            assertEquals(200, cluster.machine(id).appliedCount(), "node " + id + " lost or repeated a command");
        }
        // Every acknowledged write is readable at the new leader.
        for (int i = 0; i < 200; i += 37) {
            String key = "a" + i;
            assertEquals("x", string(cluster.retry(l -> l.read(bytes(key), ReadMode.LINEARIZABLE))));
        }
    }

    @Test
    void aRestartedNodeResumesFromItsLogAndCatchesUp() {
        java.util.concurrent.atomic.AtomicInteger gracefulStops = new java.util.concurrent.atomic.AtomicInteger();
        cluster = new RuntimeCluster(NODES, b -> b.snapshotThresholds(150, 1 << 30).listener(new RaftListener() {
            @Override
            public void onStopped(Throwable cause) {
                if (cause == null) {
                    gracefulStops.incrementAndGet();
                }
            }
        })).startAll();
        ClientSession session = cluster.openSession();
        for (int i = 0; i < 200; i++) {
            cluster.submit(session, put("r" + i, "1"));
        }
        cluster.awaitSameState(NODES, 200);
        long victim = cluster.running().stream().filter(s -> !s.status().isLeader()).findFirst().orElseThrow().id();
        long before = cluster.machine(victim).digest();
        cluster.stop(victim);
        for (int i = 200; i < 300; i++) {
            cluster.submit(session, put("r" + i, "2"));
        }
        org.awaitility.Awaitility.await().atMost(RuntimeCluster.TIMEOUT).until(() -> gracefulStops.get() == 1);
        RaftServer back = cluster.start(victim);
        // Restored from its own snapshot and log before hearing from anyone: at least where it stopped.
        assertTrue(back.status().applied() >= 150, "restart restored the snapshot, applied " + back.status().applied());
        cluster.awaitSameState(NODES, 300);
        assertTrue(cluster.machine(victim).digest() != before);
    }
}
