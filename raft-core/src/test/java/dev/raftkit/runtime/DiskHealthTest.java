package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.Role;
import dev.raftkit.testkit.runtime.ForwardingLogStorage;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The log writer's view of its disk: a single slow fsync makes a leader step down
 * ({@code diskSlowMillis}), a disk stuck past {@code diskStuckTicks} fails the node stop, and a
 * disk below {@code minFreeDiskBytes} makes a leader refuse new proposals with DISK_FULL until
 * space is freed, while followers go on appending.
 */
class DiskHealthTest {

    /**
     * A log over memory whose fsync can be made slow on the writer's clock (no real waiting: the
     * sync advances the fake monotonic clock the writer times it with), made to hang until
     * released, and whose free space is settable.
     */
    private static final class DiskLog extends ForwardingLogStorage {
        final AtomicLong clockOffset = new AtomicLong();
        volatile long slowSyncNanos;
        volatile CountDownLatch hang;
        volatile long usable = Long.MAX_VALUE;
        final AtomicLong polls = new AtomicLong();

        DiskLog() {
            super(new MemoryLogStorage());
        }

        long nanoTime() {
            return System.nanoTime() + clockOffset.get();
        }

        @Override
        public void sync() throws IOException {
            CountDownLatch h = hang;
            if (h != null) {
                try {
                    h.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted in a hung fsync", e);
                }
            }
            clockOffset.addAndGet(slowSyncNanos);
            super.sync();
        }

        @Override
        public long usableSpace() {
            polls.incrementAndGet();
            return usable;
        }

        @Override
        public String location() {
            return "/data/test-log";
        }
    }

    private record Traced(long node, String kind, String detail) {
    }

    private final Map<Long, DiskLog> logs = new ConcurrentHashMap<>();
    private final List<Traced> traced = new CopyOnWriteArrayList<>();
    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        logs.values().forEach(l -> {
            if (l.hang != null) {
                l.hang.countDown();
            }
        });
        if (cluster != null) {
            cluster.close();
        }
    }

    private RuntimeCluster start(java.util.function.Consumer<RaftServerBuilder> more) {
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), (id, b) -> {
            DiskLog log = logs.computeIfAbsent(id, k -> new DiskLog());
            b.logStorage(log).nanoTime(log::nanoTime)
                    .tracer((node, kind, detail) -> traced.add(new Traced(node, kind, detail)));
            more.accept(b);
        }).startAll();
        return cluster;
    }

    @Test
    void aLeaderWhoseFsyncIsSlowerThanTheBoundStepsDown() {
        start(b -> b.diskSlowMillis(200));
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("a", "1"));
        RaftServer slow = cluster.awaitLeader();
        // Each fsync now takes 2 s on the writer's clock, ten times the bound.
        logs.get(slow.id()).slowSyncNanos = TimeUnit.SECONDS.toNanos(2);
        session.submit(slow, session.nextSequence(), put("b", "2"));

        await().atMost(Duration.ofSeconds(10)).until(() -> slow.status().role() != Role.LEADER);
        Traced event = await().atMost(Duration.ofSeconds(5)).until(() -> traced.stream()
                .filter(t -> t.node() == slow.id() && t.kind().equals("disk-slow")).findFirst().orElse(null),
                e -> e != null);
        assertTrue(event.detail().contains("an fsync") && event.detail().contains("limit diskSlowMillis 200")
                && event.detail().contains("stepping down"), event.detail());
        logs.get(slow.id()).slowSyncNanos = 0;
        // Another node leads (the slow one may win a later election once its disk is fast again,
        // but not while each of its syncs takes 2 s), and writes commit.
        cluster.submit(session, put("c", "3"));
        assertTrue(slow.status().running(), "a slow disk is not a failure: the node keeps running");
    }

    @Test
    void aFastDiskNeverTriggersTheSlowBound() {
        start(b -> b.diskSlowMillis(200));
        ClientSession session = cluster.openSession();
        RaftServer leader = cluster.awaitLeader();
        for (int i = 0; i < 20; i++) {
            cluster.submit(session, put("k" + i, "v"));
        }
        assertEquals(leader.id(), cluster.awaitLeader().id());
        assertTrue(traced.stream().noneMatch(t -> t.kind().equals("disk-slow")), traced.toString());
    }

    @Test
    void aDiskStuckPastTheSecondBoundFailsTheNodeStop() throws Exception {
        start(b -> b.diskStallTicks(5).diskStuckTicks(25));
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("a", "1"));
        RaftServer stuck = cluster.awaitLeader();
        logs.get(stuck.id()).hang = new CountDownLatch(1);
        CompletableFuture<byte[]> write = session.submit(stuck, session.nextSequence(), put("b", "2"));

        await().atMost(Duration.ofSeconds(10)).until(() -> stuck.status().failure() != null);
        ServerStatus status = stuck.status();
        assertFalse(status.running());
        assertTrue(String.valueOf(status.failure().getMessage()).contains("limit diskStuckTicks 25"),
                String.valueOf(status.failure()));
        assertTrue(traced.stream().anyMatch(t -> t.node() == stuck.id() && t.kind().equals("disk-stuck")));
        ExecutionException e = assertThrows(ExecutionException.class, () -> write.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof RaftException r && r.reason() == RaftException.Reason.STOPPED,
                e.getCause().toString());
        // The others elect a leader and commit without it.
        RaftServer next = cluster.awaitLeader();
        assertNotEquals(stuck.id(), next.id());
        cluster.submit(session, put("c", "3"));
    }

    @Test
    void theStuckBoundMustExceedTheStallBound() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RaftServer.builder(
                dev.raftkit.core.RaftConfig.builder(1).build()).diskStallTicks(20).diskStuckTicks(20).settings());
        assertTrue(e.getMessage().contains("diskStuckTicks (20) must exceed diskStallTicks (20)"), e.getMessage());
    }

    @Test
    void aLeaderBelowTheWatermarkRefusesProposalsWithDiskFullUntilSpaceIsFreed() throws Exception {
        start(b -> b.minFreeDiskBytes(1000));
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("a", "1"));
        RaftServer leader = cluster.awaitLeader();
        logs.get(leader.id()).usable = 10;

        RaftException refused = await().atMost(Duration.ofSeconds(10)).until(() -> refusal(leader.submit(put("x", "1"))),
                r -> r != null);
        assertEquals(RaftException.Reason.DISK_FULL, refused.reason());
        assertTrue(refused.retryable());
        assertTrue(refused.getMessage().contains("/data/test-log has 10 bytes free")
                && refused.getMessage().contains("minFreeDiskBytes 1000")
                && refused.getMessage().contains("until 1250 bytes are free"), refused.getMessage());
        assertTrue(traced.stream().anyMatch(t -> t.node() == leader.id() && t.kind().equals("disk-full")));
        assertEquals(leader.id(), cluster.awaitLeader().id(), "a full disk keeps its leader: heartbeats go on");
        // Nothing refused reached the log.
        long last = leader.status().lastIndex();

        // Above the watermark but below the resume point (hysteresis): still refused after a
        // poll that saw it (two polls, so one ran wholly after the change).
        DiskLog disk = logs.get(leader.id());
        disk.usable = 1200;
        long polled = disk.polls.get();
        await().atMost(Duration.ofSeconds(10)).until(() -> disk.polls.get() >= polled + 2);
        assertEquals(RaftException.Reason.DISK_FULL, refusal(leader.submit(put("x", "2"))).reason());
        assertEquals(last, leader.status().lastIndex(), "a refused proposal must not reach the log");

        disk.usable = 5000;
        await().atMost(Duration.ofSeconds(10)).until(() -> succeeded(leader.submit(put("y", "3"))));
        assertTrue(traced.stream().anyMatch(t -> t.node() == leader.id() && t.kind().equals("disk-space-ok")));
        assertTrue(leader.status().lastIndex() > last);
    }

    @Test
    void aFollowerBelowTheWatermarkRefusesNothingAndKeepsAppending() {
        start(b -> b.minFreeDiskBytes(1000));
        ClientSession session = cluster.openSession();
        RaftServer leader = cluster.awaitLeader();
        long follower = leader.id() == 1 ? 2 : 1;
        logs.get(follower).usable = 0;
        await().atMost(Duration.ofSeconds(5)).until(() -> traced.stream()
                .anyMatch(t -> t.node() == follower && t.kind().equals("disk-full")));
        for (int i = 0; i < 10; i++) {
            cluster.submit(session, put("k" + i, "v"));
        }
        long commit = leader.status().commit();
        await().atMost(Duration.ofSeconds(10)).until(() -> cluster.server(follower).status().applied() >= commit);
    }

    private static boolean succeeded(CompletableFuture<byte[]> f) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RaftException r && r.retryable()) {
                return false;
            }
            throw e;
        }
    }

    /** The DISK_FULL refusal a submit failed with, or null if it failed otherwise (retryably) or succeeded. */
    private static RaftException refusal(CompletableFuture<byte[]> f) throws Exception {
        try {
            f.get(10, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RaftException r && r.reason() == RaftException.Reason.DISK_FULL) {
                return r;
            }
            if (e.getCause() instanceof RaftException r && r.retryable()) {
                return null;
            }
            throw e;
        }
    }
}
