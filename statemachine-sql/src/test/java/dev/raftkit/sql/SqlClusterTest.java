package dev.raftkit.sql;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.ReadMode;
import dev.raftkit.core.Status;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.RaftServerBuilder;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.spi.ForwardingStateMachine;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SqlStateMachine} replicated by three real {@link RaftServer}s over the in-memory
 * transport: a bank-transfer workload through a leader failure, and a node that crashes while
 * installing a snapshot; each ends with the same content digest on every node.
 */
class SqlClusterTest {

    private static final Set<Long> NODES = Set.of(1L, 2L, 3L);
    private static final Duration WAIT = RuntimeCluster.TIMEOUT;
    private static final int ACCOUNTS = 10;
    private static final long OPENING_BALANCE = 1_000;

    private final Map<Long, StateMachine> machines = new ConcurrentHashMap<>();
    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
        machines.values().forEach(StateMachine::close);
    }

    private RuntimeCluster start(BiConsumer<Long, RaftServerBuilder> more) {
        cluster = new RuntimeCluster(NODES, (id, b) -> {
            StateMachine sm = new SqlStateMachine();
            StateMachine previous = machines.put(id, sm);
            if (previous != null) {
                previous.close();
            }
            b.stateMachine(sm);
            more.accept(id, b);
        });
        return cluster.startAll();
    }

    private static SqlResult.Ok ok(byte[] result) {
        return SqlOps.ok(result);
    }

    /** Waits until every running node in {@code ids} has applied {@code index} and all show one digest. */
    private String awaitSameDigest(Set<Long> ids, long index) {
        String[] digest = new String[1];
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).ignoreExceptions().until(() -> {
            Set<String> seen = new HashSet<>();
            for (long id : ids) {
                RaftServer s = cluster.server(id);
                seen.add(SqlOps.digestOf(s.read(SqlOps.digest(), ReadMode.STALE, index).get(5, TimeUnit.SECONDS)));
            }
            digest[0] = seen.iterator().next();
            return seen.size() == 1;
        });
        return digest[0];
    }

    private long total(ReadMode mode) {
        SqlResult.Rows rows = ok(cluster.retry(l -> l.read(SqlOps.query("SELECT sum(balance), count(*) FROM accounts"),
                mode))).last();
        assertEquals(ACCOUNTS, ((Number) rows.value(0, 1)).longValue());
        return ((Number) rows.value(0, 0)).longValue();
    }

    @Test
    void bankTransfersNeverChangeTheTotalAndSurviveTheLeaderStopping() {
        start((id, b) -> { });
        ClientSession session = cluster.openSession();
        cluster.submit(session, SqlOps.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY,"
                + " balance INTEGER NOT NULL CHECK (balance >= 0));"
                + " CREATE TABLE transfers (seq INTEGER PRIMARY KEY, src INT, dst INT, amount INT, at TEXT)"));
        StringBuilder open = new StringBuilder();
        for (int i = 1; i <= ACCOUNTS; i++) {
            open.append("INSERT INTO accounts VALUES (").append(i).append(", ").append(OPENING_BALANCE).append(");");
        }
        ok(cluster.submit(session, SqlOps.execute(open.toString())));

        java.util.Random rnd = new java.util.Random(7);
        int applied = 0;
        int refused = 0;
        long stoppedLeader = 0;
        for (int seq = 1; seq <= 120; seq++) {
            if (seq == 50) {
                stoppedLeader = cluster.awaitLeader().id();
                cluster.stop(stoppedLeader);
            }
            int src = 1 + rnd.nextInt(ACCOUNTS);
            int dst = 1 + (src + rnd.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
            long amount = 1 + rnd.nextInt(600); // large enough that some transfers overdraw and fail whole
            byte[] transfer = SqlOps.execute(
                    SqlStatement.of("UPDATE accounts SET balance = balance - ? WHERE id = ?", amount, src),
                    SqlStatement.of("UPDATE accounts SET balance = balance + ? WHERE id = ?", amount, dst),
                    SqlStatement.of("INSERT INTO transfers VALUES (?, ?, ?, ?, datetime('now'))", seq, src, dst, amount));
            SqlResult r = SqlOps.decode(cluster.submit(session, transfer));
            if (r instanceof SqlResult.Ok) {
                applied++;
            } else {
                SqlResult.Error e = (SqlResult.Error) r;
                assertEquals(1, e.statement(), e.message());
                assertTrue(e.message().contains("CHECK constraint failed"), e.message());
                refused++;
            }
            ReadMode mode = ReadMode.values()[seq % 2]; // LINEARIZABLE and LEASE
            assertEquals(ACCOUNTS * OPENING_BALANCE, total(mode), "total after transfer " + seq + " (" + mode + ")");
        }
        assertTrue(applied > 0 && refused > 0, applied + " applied, " + refused + " refused");
        SqlResult.Rows logged = ok(cluster.retry(l -> l.read(SqlOps.query("SELECT count(*) FROM transfers"),
                ReadMode.LINEARIZABLE))).last();
        assertEquals((long) applied, logged.value(0, 0), "each acknowledged transfer applied exactly once");

        RaftServer leader = cluster.awaitLeader();
        assertNotEquals(stoppedLeader, leader.id());
        cluster.start(stoppedLeader);
        long commit = leader.status().commit();
        awaitSameDigest(NODES, commit);
        for (RaftServer s : cluster.running()) {
            SqlResult.Rows stale = ok(await().atMost(WAIT).ignoreExceptions().until(() -> s.read(SqlOps.query(
                    "SELECT sum(balance) FROM accounts"), ReadMode.STALE, commit).get(5, TimeUnit.SECONDS), r -> true))
                    .last();
            assertEquals(ACCOUNTS * OPENING_BALANCE, stale.value(0, 0), "node " + s.id());
        }
    }

    /** Fails the first snapshot install half-way through reading it, like a crash during install. */
    private static final class CrashOnInstall extends ForwardingStateMachine {
        private final AtomicBoolean armed = new AtomicBoolean(true);
        final AtomicBoolean crashed = new AtomicBoolean();

        CrashOnInstall() {
            super(new SqlStateMachine());
        }

        @Override
        public void restore(long index, InputStream in) throws IOException {
            if (armed.getAndSet(false)) {
                in.readNBytes(512);
                crashed.set(true);
                throw new IOException("simulated crash while installing snapshot " + index);
            }
            delegate.restore(index, in);
        }
    }

    @Test
    void aNodeThatCrashesWhileInstallingASnapshotRestartsAndConvergesToTheSameDigest() throws Exception {
        long[] lagging = new long[1];
        CrashOnInstall[] crashing = new CrashOnInstall[1];
        AtomicInteger lives = new AtomicInteger();
        cluster = new RuntimeCluster(NODES, (id, b) -> {
            b.snapshotThresholds(40, 1L << 30);
            StateMachine sm;
            if (id == lagging[0] && lives.getAndIncrement() == 0) {
                crashing[0] = new CrashOnInstall();
                sm = crashing[0];
            } else {
                sm = new SqlStateMachine();
            }
            StateMachine previous = machines.put(id, sm);
            if (previous != null) {
                previous.close();
            }
            b.stateMachine(sm);
        });
        // Node 3 will lag; it is the one that crashes. Start the others first so 3 gets the wrapper.
        lagging[0] = 3;
        cluster.startAll();
        RaftServer leader = cluster.awaitLeader();
        if (leader.id() == 3) {
            leader.transferLeadership(1).get(10, TimeUnit.SECONDS);
        }
        ClientSession session = cluster.openSession();
        cluster.submit(session, SqlOps.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, r INT)"));
        cluster.net.isolate(3);
        for (int i = 0; i < 150; i++) {
            cluster.submit(session, SqlOps.execute("INSERT INTO t (v, r) VALUES ('" + i + "', random());"
                    + " UPDATE t SET r = r + 1 WHERE id % 7 = " + (i % 7)));
        }
        long laggingApplied = cluster.server(3).status().applied();
        await().atMost(WAIT).until(() -> {
            Status st = cluster.awaitLeader().detailedStatus().get();
            return st.firstIndex() > laggingApplied + 1;
        });
        cluster.net.heal();
        await().atMost(WAIT).until(() -> crashing[0].crashed.get() && !cluster.server(3).status().running());

        cluster.stop(3);
        cluster.start(3);
        long commit = cluster.awaitLeader().status().commit();
        String digest = awaitSameDigest(NODES, commit);
        assertTrue(cluster.server(3).status().applied() >= commit, "node 3 caught up after its crash");
        ok(cluster.submit(session, SqlOps.execute("INSERT INTO t (v) VALUES ('after')")));
        String after = awaitSameDigest(NODES, cluster.awaitLeader().status().commit());
        assertNotEquals(digest, after);
        SqlResult.Rows rows = ok(cluster.server(3).read(SqlOps.query("SELECT count(*) FROM t"), ReadMode.LINEARIZABLE)
                .get(10, TimeUnit.SECONDS)).last();
        assertEquals(151L, rows.value(0, 0));
        assertInstanceOf(SqlResult.Ok.class, SqlOps.decode(cluster.server(3).read(SqlOps.digest(), ReadMode.STALE)
                .get(5, TimeUnit.SECONDS)));
    }

    /**
     * Issue 12 (the KV finding, for SQL): a request the SQL store refuses whatever its data (here a
     * clock function, an ATTACH, a read sent as a write, and bytes that are no request) is refused
     * by the leader before it is proposed — INVALID, not retryable, with the store's reason —
     * instead of being replicated to every node and refused only at apply.
     */
    @Test
    void requestsTheSqlStoreWouldRefuseAreRefusedBeforeTheyAreReplicated() throws Exception {
        start((id, b) -> { });
        ClientSession session = cluster.openSession();
        cluster.submit(session, SqlOps.execute("CREATE TABLE t (v TEXT)"));
        RaftServer leader = cluster.awaitLeader();
        long lastBefore = leader.status().lastIndex();
        // Encoded past SqlOps, which checks on the client side: a hostile client does not.
        Map<byte[], String> hostile = Map.of(
                new SqlRequest.Execute(List.of(new SqlStatement("INSERT INTO t VALUES (CURRENT_TIMESTAMP)",
                        List.of()))).encode(), "CURRENT_TIMESTAMP",
                new SqlRequest.Execute(List.of(new SqlStatement("ATTACH 'x.db' AS x", List.of()))).encode(), "ATTACH",
                SqlOps.query("SELECT 1"), "read",
                new byte[] {7, 7, 7}, "not a valid SQL request");
        for (Map.Entry<byte[], String> h : hostile.entrySet()) {
            java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class,
                    () -> session.submit(leader, session.nextSequence(), h.getKey()).get(10, TimeUnit.SECONDS));
            dev.raftkit.core.RaftException refused = assertInstanceOf(
                    dev.raftkit.core.RaftException.class, e.getCause());
            assertEquals(dev.raftkit.core.RaftException.Reason.INVALID, refused.reason(), h.getValue());
            assertTrue(!refused.retryable());
            assertTrue(refused.getMessage().contains(h.getValue()), refused.getMessage());
        }
        assertEquals(lastBefore, leader.status().lastIndex(), "nothing was proposed");
        ok(cluster.submit(session, SqlOps.execute("INSERT INTO t VALUES ('after')")));
    }
}
