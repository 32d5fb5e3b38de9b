package dev.raftkit.kv;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.ReadMode;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.Status;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftListener;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.RaftServerBuilder;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link KvStateMachine} replicated by three real {@link RaftServer}s over the in-memory
 * transport: the store's operations, the three read modes, exactly-once retries, leader failover
 * and InstallSnapshot catch-up, each ending with equal digests on every node.
 */
class KvClusterTest {

    private static final Set<Long> NODES = Set.of(1L, 2L, 3L);
    private static final Duration WAIT = RuntimeCluster.TIMEOUT;

    private final Map<Long, KvStateMachine> machines = new ConcurrentHashMap<>();
    private final Map<Long, AtomicInteger> installs = new ConcurrentHashMap<>();
    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A cluster whose nodes run a fresh {@link KvStateMachine} on every start. */
    private RuntimeCluster start(BiConsumer<Long, RaftServerBuilder> more) {
        cluster = new RuntimeCluster(NODES, (id, b) -> {
            KvStateMachine sm = new KvStateMachine();
            machines.put(id, sm);
            b.stateMachine(sm).listener(new RaftListener() {
                @Override
                public void onSnapshotInstalled(SnapshotMeta snapshot) {
                    installs.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                }
            });
            more.accept(id, b);
        });
        return cluster.startAll();
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    /** Waits until every node in {@code ids} holds {@code size} keys and the same digest; returns it. */
    private String awaitSameDigest(Set<Long> ids, int size) {
        String[] digest = new String[1];
        await().atMost(WAIT).pollInterval(Duration.ofMillis(10)).until(() -> {
            Set<String> seen = ids.stream().map(machines::get).filter(m -> m.size() == size)
                    .map(m -> m.digest().hex()).collect(Collectors.toSet());
            long ready = ids.stream().map(machines::get).filter(m -> m.size() == size).count();
            digest[0] = seen.size() == 1 ? seen.iterator().next() : null;
            return ready == ids.size() && seen.size() == 1;
        });
        return digest[0];
    }

    @Test
    void putsCasScansAndDeletesReadBackInEveryReadModeOnEveryNode() throws Exception {
        start((id, b) -> { });
        ClientSession session = cluster.openSession();
        long ada = KvOps.written(cluster.submit(session, KvOps.put("user/1", "ada")));
        cluster.submit(session, KvOps.put("user/2", "grace"));
        cluster.submit(session, KvOps.put("user/3", "barbara"));
        cluster.submit(session, KvOps.put("config/x", "1"));

        long lovelace = KvOps.casWritten(cluster.submit(session, KvOps.casVersion("user/1", ada, "ada lovelace")))
                .orElseThrow();
        assertTrue(lovelace > ada);
        KvResult.CasFailed stale = assertInstanceOf(KvResult.CasFailed.class,
                KvOps.decode(cluster.submit(session, KvOps.casVersion("user/1", ada, "someone else"))));
        assertEquals(lovelace, stale.current().orElseThrow().version(), "a failed CAS shows the current version");
        assertTrue(KvOps.casWritten(cluster.submit(session, KvOps.casValue("user/2", "grace", "grace hopper")))
                .isPresent());
        assertTrue(KvOps.deleted(cluster.submit(session, KvOps.delete("config/x"))));

        RaftServer leader = cluster.awaitLeader();
        for (ReadMode mode : List.of(ReadMode.LINEARIZABLE, ReadMode.LEASE)) {
            KvEntry e = KvOps.found(cluster.retry(l -> l.read(KvOps.get("user/1"), mode))).orElseThrow();
            assertEquals("ada lovelace", e.valueString(), mode.toString());
            assertEquals(lovelace, e.version(), mode.toString());
        }
        long commit = leader.status().commit();
        for (RaftServer s : cluster.running()) {
            // A follower serves all three modes: LINEARIZABLE/LEASE ask the leader for the read index;
            // STALE with the index this client last saw is read-your-writes.
            for (ReadMode mode : ReadMode.values()) {
                byte[] scan = get(s.read(KvOps.scan("user/", 10), mode, mode == ReadMode.STALE ? commit : 0));
                assertEquals(List.of("user/1=ada lovelace", "user/2=grace hopper", "user/3=barbara"),
                        KvOps.scanned(scan).entries().stream().map(e -> e.keyString() + "=" + e.valueString())
                                .toList(), "node " + s.id() + " " + mode);
            }
            assertEquals(Optional.empty(), KvOps.found(get(s.read(KvOps.get("config/x"), ReadMode.STALE, commit))));
        }
        String digest = awaitSameDigest(NODES, 3);
        assertEquals(digest, KvOps.digestOf(get(leader.read(KvOps.digest(), ReadMode.LINEARIZABLE))).hex());
        KvResult.Rejected refused = assertInstanceOf(KvResult.Rejected.class,
                KvOps.decode(get(leader.read(KvOps.put("user/9", "x"), ReadMode.LINEARIZABLE))));
        assertTrue(refused.reason().contains("is a write"), refused.reason());
    }

    @Test
    void aRetriedCommandWithTheSameSessionAndSequenceIsAppliedOnce() throws Exception {
        start((id, b) -> { });
        ClientSession session = cluster.openSession();
        byte[] acquire = KvOps.casVersion("lock", KvCommand.ABSENT, "owner-1");
        long seq = session.nextSequence();
        RaftServer leader = cluster.awaitLeader();
        // The same command three times, two of them likely in one batch: if any ran twice, the
        // second run would fail its put-if-absent and answer CasFailed.
        CompletableFuture<byte[]> a = session.submit(leader, seq, acquire);
        CompletableFuture<byte[]> b = session.submit(leader, seq, acquire);
        byte[] first = cluster.retry(l -> a);
        byte[] second = cluster.retry(l -> b);
        byte[] third = cluster.retry(l -> session.submit(l, seq, acquire));
        long version = KvOps.written(first);
        assertArrayEquals(first, second);
        assertArrayEquals(first, third);
        assertEquals(version, KvOps.found(cluster.retry(l -> l.read(KvOps.get("lock"), ReadMode.LINEARIZABLE)))
                .orElseThrow().version(), "the key was written once, by the first copy");
        // A new sequence number is a new command: now the lock is taken.
        assertInstanceOf(KvResult.CasFailed.class, KvOps.decode(cluster.submit(session, acquire)));
        awaitSameDigest(NODES, 1);
    }

    @Test
    void noAcknowledgedWriteIsLostWhenTheLeaderFails() throws Exception {
        start((id, b) -> { });
        ClientSession session = cluster.openSession();
        Map<String, Long> acknowledged = new TreeMap<>();
        for (int i = 0; i < 40; i++) {
            acknowledged.put("k" + i, KvOps.written(cluster.submit(session, KvOps.put("k" + i, "v" + i))));
        }
        RaftServer old = cluster.awaitLeader();
        cluster.stop(old.id());
        RaftServer next = cluster.awaitLeader();
        assertNotEquals(old.id(), next.id());
        for (int i = 40; i < 80; i++) {
            acknowledged.put("k" + i, KvOps.written(cluster.submit(session, KvOps.put("k" + i, "v" + i))));
        }
        Map<String, Long> seen = new TreeMap<>();
        byte[] after = new byte[0];
        KvResult.Scanned page;
        do {
            byte[] from = after;
            page = KvOps.scanned(cluster.retry(l -> l.read(KvOps.scan(new byte[0], from, 25), ReadMode.LINEARIZABLE)));
            page.entries().forEach(e -> seen.put(e.keyString(), e.version()));
            after = page.entries().get(page.entries().size() - 1).key();
        } while (page.more());
        assertEquals(acknowledged, seen, "every acknowledged write, at the version it was acknowledged with");

        cluster.start(old.id());
        awaitSameDigest(NODES, 80);
    }

    @Test
    void aNodeBehindTheCompactedLogCatchesUpByInstallSnapshotAndKeepsItsStateAcrossARestart() throws Exception {
        start((id, b) -> b.snapshotThresholds(50, 1 << 30));
        RaftServer leader = cluster.awaitLeader();
        long lagging = leader.id() == 3 ? 2 : 3;
        cluster.net.isolate(lagging);
        ClientSession session = cluster.openSession();
        List<Long> versions = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            versions.add(KvOps.written(cluster.submit(session, KvOps.put("s" + (i % 200), "v" + i))));
        }
        // The majority snapshotted (while applying went on) and compacted past the lagging node.
        long laggingApplied = cluster.server(lagging).status().applied();
        await().atMost(WAIT).until(() -> {
            Status st = cluster.awaitLeader().detailedStatus().get();
            return st.firstIndex() > laggingApplied + 1;
        });

        cluster.net.heal();
        String digest = awaitSameDigest(NODES, 200);
        // Listeners hear of the install on the events thread, after the state is visible.
        await("node " + lagging + " caught up by InstallSnapshot").atMost(WAIT)
                .until(() -> installs.getOrDefault(lagging, new AtomicInteger()).get() > 0);
        assertEquals(versions.get(299), machines.get(lagging).get(Scripts.utf8("s99")).orElseThrow().version());

        // A restart resumes from the node's own snapshot and log, to the same state.
        cluster.stop(lagging);
        cluster.start(lagging);
        assertEquals(digest, awaitSameDigest(NODES, 200));
        cluster.submit(session, KvOps.put("after-restart", "1"));
        awaitSameDigest(NODES, 201);
    }

    /**
     * Issue 12: a put over the store's own 1 MiB value limit used to be replicated to every node
     * and refused only at apply. Now the leader refuses it before proposing: INVALID, not
     * retryable, with the reason; the log does not grow, and the store keeps working.
     */
    @Test
    void putsOverTheKvValueLimitAreRefusedBeforeTheyAreReplicated() throws Exception {
        start((id, b) -> { });
        ClientSession session = cluster.openSession();
        cluster.submit(session, KvOps.put("before", "1"));
        RaftServer leader = cluster.awaitLeader();
        long lastBefore = leader.status().lastIndex();
        // Encoded by hand: KvCommand.Put refuses to build it, a hostile client does not ask.
        byte[] tooBig = new Wire.Writer(KvCommand.MAX_VALUE_BYTES + 64).u8(KvCommand.FORMAT).u8(KvCodec.PUT)
                .bytes(Scripts.utf8("big")).bytes(new byte[KvCommand.MAX_VALUE_BYTES + 1]).toByteArray();

        for (CompletableFuture<byte[]> f : List.of(leader.submit(tooBig),
                session.submit(leader, session.nextSequence(), tooBig))) {
            java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
            dev.raftkit.core.RaftException refused = assertInstanceOf(
                    dev.raftkit.core.RaftException.class, e.getCause());
            assertEquals(dev.raftkit.core.RaftException.Reason.INVALID, refused.reason());
            assertTrue(!refused.retryable());
            assertTrue(refused.getMessage().contains("value") && refused.getMessage().contains("1048576"),
                    refused.getMessage());
            assertTrue(refused.getMessage().length() < 600, "a bounded reason: " + refused.getMessage());
        }
        byte[] garbage = {1, 99, 0};
        dev.raftkit.core.RaftException malformed = assertInstanceOf(
                dev.raftkit.core.RaftException.class, org.junit.jupiter.api.Assertions.assertThrows(
                        java.util.concurrent.ExecutionException.class,
                        () -> leader.submit(garbage).get(10, TimeUnit.SECONDS)).getCause());
        assertEquals(dev.raftkit.core.RaftException.Reason.INVALID, malformed.reason());

        assertEquals(lastBefore, leader.status().lastIndex(), "nothing was proposed");
        cluster.submit(session, KvOps.put("after", "2"));
        awaitSameDigest(NODES, 2);
        for (RaftServer s : cluster.running()) {
            assertTrue(s.status().running(), "node " + s.id() + " still runs");
        }
    }
}
