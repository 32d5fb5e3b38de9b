package dev.raftkit.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.Role;
import dev.raftkit.runtime.RaftGauges;
import dev.raftkit.runtime.RaftMetrics;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.testkit.runtime.HangingLog;
import dev.raftkit.testkit.runtime.MapStateMachine;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The Micrometer binding on real in-process servers: what a leader and its followers record. */
class MicrometerRaftMetricsTest {

    private static final int WRITES = 25;

    private final Map<Long, SimpleMeterRegistry> registries = new ConcurrentHashMap<>();
    private final Map<Long, MicrometerRaftMetrics> bindings = new ConcurrentHashMap<>();

    private RuntimeCluster cluster(Set<Long> nodes) {
        return new RuntimeCluster(nodes, (id, b) -> {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            MicrometerRaftMetrics metrics = MicrometerRaftMetrics.builder("test", id).build();
            metrics.bindTo(registry);
            registries.put(id, registry);
            bindings.put(id, metrics);
            b.metrics(metrics);
        });
    }

    private static Throwable failure(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        return e.getCause();
    }

    private double refused(long node, RaftException.Reason reason) {
        Counter c = registries.get(node).find(MicrometerRaftMetrics.REQUESTS_REFUSED).tag("reason", reason.name())
                .counter();
        assertNotNull(c, "every reason has its counter from bind time on");
        return c.count();
    }

    private Gauge gauge(long node, String name) {
        Gauge g = registries.get(node).find(name).tag("cluster", "test").tag("node", Long.toString(node)).gauge();
        assertNotNull(g, name + " on node " + node);
        return g;
    }

    @Test
    void aThreeNodeClusterIsMeasured() throws Exception {
        try (RuntimeCluster c = cluster(Set.of(1L, 2L, 3L)).startAll()) {
            RaftServer leader = c.awaitLeader();
            long l = leader.id();
            for (int i = 0; i < WRITES; i++) {
                leader.submit(MapStateMachine.put("k" + i, "v" + i)).get(5, TimeUnit.SECONDS);
            }
            SimpleMeterRegistry reg = registries.get(l);
            assertTrue(reg.get(MicrometerRaftMetrics.LOG_SYNC).timer().count() > 0, "the leader synced its log");
            assertTrue(reg.get(MicrometerRaftMetrics.LOG_SYNC_ENTRIES).summary().totalAmount() >= WRITES,
                    "every write was in some sync");
            assertTrue(reg.get(MicrometerRaftMetrics.COMMIT_LATENCY).timer().count() >= WRITES,
                    "each of the leader's proposals was timed to its commit");
            assertTrue(reg.get(MicrometerRaftMetrics.COMMIT_LATENCY).timer().max(TimeUnit.SECONDS) < 5);
            assertTrue(reg.get(MicrometerRaftMetrics.LEADER_CHANGES).counter().count() >= 1);
            assertTrue(reg.get(MicrometerRaftMetrics.ELECTIONS).counter().count() >= 1, "the leader stood for election");
            assertEquals(1, gauge(l, MicrometerRaftMetrics.ROLE).value());
            assertTrue(gauge(l, MicrometerRaftMetrics.COMMIT_INDEX).value() >= WRITES);
            assertTrue(gauge(l, MicrometerRaftMetrics.LOG_LAST_INDEX).value() >= WRITES);
            assertTrue(gauge(l, MicrometerRaftMetrics.TERM).value() >= 1);
            assertEquals(-1, gauge(l, MicrometerRaftMetrics.LOG_SIZE).value(), "the in-memory log cannot tell its size");

            for (long f : Set.of(1L, 2L, 3L)) {
                if (f == l) {
                    continue;
                }
                // Every node applies, so every node times its apply batches.
                await().atMost(Duration.ofSeconds(10)).until(
                        () -> registries.get(f).get(MicrometerRaftMetrics.APPLY_LATENCY).timer().count() > 0
                                && registries.get(f).get(MicrometerRaftMetrics.APPLY_BATCH).timer().count() > 0);
                assertEquals(0, gauge(f, MicrometerRaftMetrics.ROLE).value());
                assertEquals(0, registries.get(f).get(MicrometerRaftMetrics.COMMIT_LATENCY).timer().count(),
                        "a follower proposed nothing");
                assertTrue(registries.get(f).get(MicrometerRaftMetrics.LEADER_CHANGES).counter().count() >= 1,
                        "a follower learnt of the leader");
                // The leader's gauge of this follower's lag exists and converges to 0.
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() -> {
                    Gauge lag = reg.find(MicrometerRaftMetrics.FOLLOWER_LAG_ENTRIES).tag("peer", Long.toString(f)).gauge();
                    return lag != null && lag.value() == 0;
                });
                Gauge seconds = reg.find(MicrometerRaftMetrics.FOLLOWER_LAG_SECONDS).tag("peer", Long.toString(f)).gauge();
                assertNotNull(seconds);
                // Heartbeats every 2 ticks of 20 ms: a live follower was heard from well within a second.
                await().atMost(Duration.ofSeconds(10)).until(() -> seconds.value() >= 0 && seconds.value() < 1);
                assertNull(registries.get(f).find(MicrometerRaftMetrics.FOLLOWER_LAG_ENTRIES).gauge(),
                        "a follower has no followers");

                // A submit to a follower is refused with NOT_LEADER, and counted there.
                double before = refused(f, RaftException.Reason.NOT_LEADER);
                Throwable t = failure(c.server(f).submit(MapStateMachine.put("x", "y")));
                assertEquals(RaftException.Reason.NOT_LEADER, assertInstanceOf(RaftException.class, t).reason());
                assertEquals(before + 1, refused(f, RaftException.Reason.NOT_LEADER));
            }
            assertEquals(2, reg.find(MicrometerRaftMetrics.FOLLOWER_LAG_ENTRIES).gauges().size());

            // A command over the limit is refused on the caller's thread, and counted.
            Throwable t = failure(leader.submit(new byte[leader.maxCommandBytes() + 1]));
            assertEquals(RaftException.Reason.TOO_LARGE, assertInstanceOf(RaftException.class, t).reason());
            assertEquals(1, refused(l, RaftException.Reason.TOO_LARGE));

            // A snapshot taken now is timed and sized.
            leader.snapshotNow().get(10, TimeUnit.SECONDS);
            assertEquals(1, reg.get(MicrometerRaftMetrics.SNAPSHOT_CREATE).timer().count());
            assertTrue(reg.get(MicrometerRaftMetrics.SNAPSHOT_BYTES).tag("op", "create").summary().totalAmount() > 0);

            // A follower removed from the membership loses its lag gauges.
            long gone = Set.of(1L, 2L, 3L).stream().filter(n -> n != l).findFirst().orElseThrow();
            leader.remove(gone).get(10, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(() -> reg.find(MicrometerRaftMetrics.FOLLOWER_LAG_ENTRIES)
                    .tag("peer", Long.toString(gone)).gauge() == null);
            assertEquals(1, reg.find(MicrometerRaftMetrics.FOLLOWER_LAG_ENTRIES).gauges().size());

            // Closing the binding removes every meter it registered.
            bindings.get(l).close();
            assertTrue(reg.getMeters().isEmpty(), "left behind: " + reg.getMeters());
        }
    }

    @Test
    void aStalledDiskIsCountedOncePerStall() throws Exception {
        HangingLog log = new HangingLog();
        CountDownLatch release = new CountDownLatch(1);
        try (RuntimeCluster c = new RuntimeCluster(Set.of(1L), (id, b) -> {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            MicrometerRaftMetrics metrics = MicrometerRaftMetrics.builder("test", id).build();
            metrics.bindTo(registry);
            registries.put(id, registry);
            b.metrics(metrics).logStorage(log).diskStallTicks(5);
        }).startAll()) {
            RaftServer leader = c.awaitLeader();
            leader.submit(MapStateMachine.put("a", "1")).get(5, TimeUnit.SECONDS);
            Counter stalls = registries.get(1L).get(MicrometerRaftMetrics.DISK_STALLS).counter();
            assertEquals(0, stalls.count());
            log.hang = release;
            leader.submit(MapStateMachine.put("b", "2"));
            await().atMost(Duration.ofSeconds(10)).until(() -> stalls.count() == 1);
            // Still stalled many ticks later: one stall, counted once.
            await().atMost(Duration.ofSeconds(10)).until(() -> leader.status().role() != Role.LEADER);
            log.hang = null;
            release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> leader.status().isLeader());
            assertEquals(1, stalls.count());
        } finally {
            release.countDown();
        }
    }

    /** Every method throws; {@code calls} counts the log syncs it was still asked to record. */
    private static final class Broken implements RaftMetrics {
        final AtomicInteger syncs = new AtomicInteger();

        private static RuntimeException boom() {
            return new IllegalStateException("a broken metrics sink");
        }

        @Override public void attach(Supplier<RaftGauges> gauges) { throw boom(); }
        @Override public void logSynced(long nanos, int entries, long bytes) { syncs.incrementAndGet(); throw boom(); }
        @Override public void committed(long nanos) { throw boom(); }
        @Override public void applied(long nanos, int entries) { throw boom(); }
        @Override public void applyBatch(long nanos, int commands) { throw boom(); }
        @Override public void electionStarted(long term) { throw boom(); }
        @Override public void leaderChanged(long leader, long term) { throw boom(); }
        @Override public void refused(RaftException.Reason reason) { throw boom(); }
        @Override public void snapshotCreated(long nanos, long bytes) { throw boom(); }
        @Override public void snapshotSent(long peer, long nanos, long bytes) { throw boom(); }
        @Override public void snapshotInstalled(long nanos, long bytes) { throw boom(); }
        @Override public void diskStalled() { throw boom(); }
        @Override public void followersChanged(Set<Long> followers) { throw boom(); }
    }

    @Test
    void metricsThatThrowDoNotStopTheNode() throws Exception {
        Broken broken = new Broken();
        try (RuntimeCluster c = new RuntimeCluster(Set.of(1L, 2L, 3L), (id, b) -> b.metrics(broken)).startAll()) {
            RaftServer leader = c.awaitLeader();
            for (int i = 0; i < WRITES; i++) {
                leader.submit(MapStateMachine.put("k" + i, "v")).get(5, TimeUnit.SECONDS);
            }
            Throwable t = failure(leader.submit(new byte[leader.maxCommandBytes() + 1]));
            assertEquals(RaftException.Reason.TOO_LARGE, assertInstanceOf(RaftException.class, t).reason());
            leader.snapshotNow().get(10, TimeUnit.SECONDS);
            c.awaitSameState(Set.of(1L, 2L, 3L), WRITES);
            for (RaftServer s : c.running()) {
                assertTrue(s.status().running(), "node " + s.id() + " still runs: " + s.status());
            }
            assertTrue(broken.syncs.get() > 1, "a throwing sink is still called after its first failure");
        }
    }

    @Test
    void bindingTwiceOrBadTagsIsRefusedClearly() {
        MicrometerRaftMetrics m = MicrometerRaftMetrics.builder("c", 1).build();
        m.bindTo(new SimpleMeterRegistry());
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> m.bindTo(new SimpleMeterRegistry()));
        assertTrue(twice.getMessage().contains("CompositeMeterRegistry"), twice.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MicrometerRaftMetrics.builder("c", 0))
                .getMessage().contains("node"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> MicrometerRaftMetrics.builder("c", 1).percentiles(99)).getMessage().contains("0.99"));
        // Unattached gauges read NaN rather than failing a scrape.
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        MicrometerRaftMetrics fresh = MicrometerRaftMetrics.builder("c", 2).build();
        fresh.bindTo(r);
        assertTrue(Double.isNaN(r.get(MicrometerRaftMetrics.TERM).gauge().value()));
        List.of(MicrometerRaftMetrics.COMMIT_LATENCY, MicrometerRaftMetrics.LOG_SYNC).forEach(name ->
                assertEquals(0, r.get(name).timer().count()));
    }
}
