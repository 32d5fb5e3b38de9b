package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.bytes;
import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static dev.raftkit.testkit.runtime.MapStateMachine.string;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.ReadMode;
import dev.raftkit.testkit.runtime.GatedExecutor;
import dev.raftkit.testkit.runtime.MutableClock;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Exactly-once sessions (§6.3), session expiry in log time, back-pressure and the three read modes. */
class ClientSemanticsTest {

    private static final Set<Long> NODES = Set.of(1L, 2L, 3L);
    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Throwable failure(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void aRetriedCommandIsAppliedOnceAndReturnsItsFirstResult() throws Exception {
        cluster = new RuntimeCluster(NODES, b -> { }).startAll();
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("x", "1"));
        cluster.awaitSameState(NODES, 1);

        long seq = session.nextSequence();
        RaftServer leader = cluster.awaitLeader();
        // The same command sent three times, two of them in the same batch.
        CompletableFuture<byte[]> a = session.submit(leader, seq, put("x", "2"));
        CompletableFuture<byte[]> b = session.submit(leader, seq, put("x", "2"));
        byte[] first = cluster.retry(l -> a);
        byte[] second = cluster.retry(l -> b);
        byte[] third = cluster.retry(l -> session.submit(l, seq, put("x", "2")));
        assertEquals("1", string(first));
        assertEquals("1", string(second), "a duplicate returns the first result");
        assertEquals("1", string(third), "a late retry returns the first result, not a fresh apply");

        cluster.submit(session, put("y", "1"));
        cluster.awaitSameState(NODES, 3);
        for (long id : NODES) {
            assertEquals(3, cluster.machine(id).appliedCount(), "node " + id + " applied the retried command again");
        }
    }

    @Test
    void sessionsExpireByLeaderStampedTimeInTheLog() throws Exception {
        MutableClock clock = new MutableClock(1_000_000);
        cluster = new RuntimeCluster(NODES, b -> b.clock(clock).sessionTimeout(Duration.ofMinutes(1))).startAll();
        ClientSession idle = cluster.openSession();
        ClientSession busy = cluster.openSession();
        cluster.submit(idle, put("i", "1"));

        clock.advance(Duration.ofSeconds(40));
        cluster.submit(busy, put("b", "1"));
        clock.advance(Duration.ofSeconds(30));
        // A plain command carries the leader's new time into the log: at it, the idle session has
        // been idle 70 s (> 60 s) and expires on every node; the busy one only 30 s.
        cluster.retry(l -> l.submit(put("tick", "1")));

        long seq = idle.nextSequence();
        Throwable t = failure(cluster.awaitLeader().submit(idle.clientId(), seq, put("i", "3")));
        RaftException e = assertInstanceOf(RaftException.class, t);
        assertEquals(RaftException.Reason.SESSION_EXPIRED, e.reason(), e.getMessage());
        assertEquals("1", string(cluster.submit(busy, put("b", "2"))), "the busy session is alive");

        // Every node applied the same leader-stamped times (they are part of the digest).
        cluster.awaitSameState(NODES, 4);
        long stamped = Long.parseLong(string(cluster.retry(l -> l.read(bytes("#time"), ReadMode.LINEARIZABLE))));
        assertEquals(clock.millis(), stamped);
    }

    @Test
    void aFullInboxRejectsWithARetryableErrorNamingTheLimit() throws Exception {
        try (GatedExecutor loop = new GatedExecutor("gated-raft-loop")) {
            cluster = new RuntimeCluster(Set.of(1L), b -> b.maxInboxRequests(8).raftLoopExecutor(loop)).startAll();
            RaftServer s = cluster.awaitLeader();
            loop.hold();
            List<CompletableFuture<byte[]>> accepted = new ArrayList<>();
            CompletableFuture<byte[]> rejected = null;
            for (int i = 0; i < 1000 && rejected == null; i++) {
                CompletableFuture<byte[]> f = s.submit(put("q" + i, "v"));
                if (f.isCompletedExceptionally()) {
                    rejected = f;
                } else {
                    accepted.add(f);
                }
            }
            assertTrue(rejected != null, "the inbox never filled");
            RaftException e = assertInstanceOf(RaftException.class, failure(rejected));
            assertEquals(RaftException.Reason.OVERLOADED, e.reason());
            assertTrue(e.retryable());
            assertTrue(e.getMessage().contains("maxInboxRequests"), e.getMessage());
            loop.open();
            for (CompletableFuture<byte[]> f : accepted) {
                f.get(10, TimeUnit.SECONDS);
            }
            cluster.close();
            cluster = null;
        }
    }

    @Test
    void staleLeaseAndLinearizableReads() throws Exception {
        cluster = new RuntimeCluster(NODES, b -> b.readTimeoutTicks(15)).startAll();
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("r", "1"));
        RaftServer leader = cluster.awaitLeader();
        RaftServer follower = cluster.running().stream().filter(s -> s != leader).findFirst().orElseThrow();
        long written = leader.status().applied();

        // LINEARIZABLE at a follower: asks the leader for the read index, waits to apply it.
        assertEquals("1", string(follower.read(bytes("r"), ReadMode.LINEARIZABLE).get(10, TimeUnit.SECONDS)));
        assertEquals("1", string(leader.read(bytes("r"), ReadMode.LEASE).get(10, TimeUnit.SECONDS)));
        assertEquals("1", string(follower.read(bytes("r"), ReadMode.LEASE).get(10, TimeUnit.SECONDS)));
        // STALE bounded by the index the client saw: never older than its own write.
        assertEquals("1", string(follower.read(bytes("r"), ReadMode.STALE, written).get(10, TimeUnit.SECONDS)));

        // A STALE read for an index this node will not reach in time fails, retryably.
        RaftException tooNew = assertInstanceOf(RaftException.class,
                failure(follower.read(bytes("r"), ReadMode.STALE, written + 1_000_000)));
        assertEquals(RaftException.Reason.TIMED_OUT, tooNew.reason());

        // A cut-off follower cannot confirm a linearizable read, but still serves stale ones.
        cluster.net.isolate(follower.id());
        RaftException cut = assertInstanceOf(RaftException.class,
                failure(follower.read(bytes("r"), ReadMode.LINEARIZABLE)));
        assertEquals(RaftException.Reason.TIMED_OUT, cut.reason());
        assertEquals("1", string(follower.read(bytes("r"), ReadMode.STALE).get(10, TimeUnit.SECONDS)));
        cluster.net.heal();
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> {
            try {
                return "1".equals(string(follower.read(bytes("r"), ReadMode.LINEARIZABLE).get(5, TimeUnit.SECONDS)));
            } catch (ExecutionException retry) {
                return false;
            }
        });
    }

    /**
     * Issue 12, "a 63 MiB Submit kills the leader", for embedders: RaftServer.submit itself refuses
     * a command over maxCommandBytes before proposing it — TOO_LARGE, not retryable, both sizes in
     * the message — with or without a session; the largest allowed command is applied everywhere.
     */
    @Test
    void aCommandOverMaxCommandBytesIsRefusedBeforeItIsProposed() throws Exception {
        cluster = new RuntimeCluster(NODES, b -> b.maxCommandBytes(4096)).startAll();
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("x", "1"));
        RaftServer leader = cluster.awaitLeader();
        long lastBefore = leader.status().lastIndex();
        byte[] tooLarge = new byte[4097];
        for (CompletableFuture<byte[]> f : List.of(leader.submit(tooLarge), leader.submit(7, 1, tooLarge),
                session.submit(leader, session.nextSequence(), tooLarge))) {
            RaftException e = assertInstanceOf(RaftException.class, failure(f));
            assertEquals(RaftException.Reason.TOO_LARGE, e.reason());
            assertTrue(!e.retryable());
            assertTrue(e.getMessage().contains("4097 bytes") && e.getMessage().contains("4096 bytes"), e.getMessage());
        }
        assertEquals(lastBefore, leader.status().lastIndex(), "nothing was proposed");
        assertEquals(4096, leader.maxCommandBytes());
        String largest = "y=" + "v".repeat(4094);
        cluster.submit(session, bytes(largest));
        cluster.awaitSameState(NODES, 2);
        assertTrue(leader.status().running());
    }

    /** The limits a deployment wires together must carry the largest command between peers. */
    @Test
    void aPeerLimitBelowTheLargestCommandIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SizeLimits.checkPeerLimit(20 << 20, 16 << 20));
        assertTrue(e.getMessage().contains(String.valueOf(16 << 20)) && e.getMessage().contains(String.valueOf(20 << 20)),
                e.getMessage());
        SizeLimits.checkPeerLimit(SizeLimits.DEFAULT_MAX_COMMAND_BYTES, SizeLimits.DEFAULT_PEER_MESSAGE_BYTES);
        assertTrue(SizeLimits.clientMessageBytes(SizeLimits.DEFAULT_MAX_COMMAND_BYTES)
                <= SizeLimits.DEFAULT_PEER_MESSAGE_BYTES, "the client port takes no more than peers carry");
        assertThrows(IllegalArgumentException.class, () -> RaftServer.builder(
                dev.raftkit.core.RaftConfig.builder(1).build()).maxCommandBytes(SizeLimits.MAX_COMMAND_BYTES_LIMIT + 1));
    }
}
