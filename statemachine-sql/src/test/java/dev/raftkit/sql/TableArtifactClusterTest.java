package dev.raftkit.sql;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.ReadMode;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A table artifact larger than the command limit, on three {@link RaftServer}s over the in-memory
 * transport with {@code maxCommandBytes} of 64 KiB: every node writes the same file, the restore
 * goes through the log in parts and switches the table on every node at the last one, and a part
 * over the limit is refused with the limit named while the table stays as it was.
 */
class TableArtifactClusterTest {

    private static final Set<Long> NODES = Set.of(1L, 2L, 3L);
    private static final int LIMIT = 64 << 10;

    @TempDir
    Path tmp;

    private final Map<Long, StateMachine> machines = new ConcurrentHashMap<>();
    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
        machines.values().forEach(StateMachine::close);
    }

    private Path file(long id, String name) {
        return tmp.resolve("n" + id).resolve(TableArtifact.fileName(name));
    }

    private String awaitSameDigest() {
        String[] digest = new String[1];
        await().atMost(RuntimeCluster.TIMEOUT).pollInterval(Duration.ofMillis(20)).ignoreExceptions().until(() -> {
            Set<String> seen = new HashSet<>();
            long index = cluster.awaitLeader().status().commit();
            for (long id : NODES) {
                seen.add(SqlOps.digestOf(cluster.server(id).read(SqlOps.digest(), ReadMode.STALE, index)
                        .get(5, TimeUnit.SECONDS)));
            }
            digest[0] = seen.iterator().next();
            return seen.size() == 1;
        });
        return digest[0];
    }

    private long count(ReadMode mode) {
        return ((Number) SqlOps.ok(cluster.retry(l -> l.read(SqlOps.query("SELECT count(*) FROM example"), mode)))
                .last().value(0, 0)).longValue();
    }

    @Test
    void anArtifactOverTheCommandLimitIsRestoredInPartsAndAPartOverItIsRefusedWithTheLimitNamed() throws Exception {
        cluster = new RuntimeCluster(NODES, (id, b) -> {
            StateMachine sm = new SqlStateMachine(null, new TableArtifactStore(tmp.resolve("n" + id), "c", null));
            StateMachine previous = machines.put(id, sm);
            if (previous != null) {
                previous.close();
            }
            b.stateMachine(sm).maxCommandBytes(LIMIT).snapshotThresholds(40, 1L << 30);
        });
        cluster.startAll();
        ClientSession session = cluster.openSession();
        SqlOps.ok(cluster.submit(session, SqlOps.execute("CREATE TABLE example (id INTEGER PRIMARY KEY, v TEXT)")));
        for (int batch = 0; batch < 10; batch++) {
            SqlOps.ok(cluster.submit(session, SqlOps.execute("INSERT INTO example (v) SELECT hex(randomblob(60)) FROM"
                    + " (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) SELECT i FROM n)")));
        }
        SqlOps.ok(cluster.submit(session, SqlOps.execute("BACKUP TABLE example TO 'big'")));
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> NODES.stream().allMatch(id -> Files.exists(file(id, "big"))));
        byte[] bytes = Files.readAllBytes(file(1, "big"));
        assertTrue(bytes.length > 3 * LIMIT, "the artifact is " + bytes.length + " bytes");
        assertArrayEquals(bytes, Files.readAllBytes(file(2, "big")));
        assertArrayEquals(bytes, Files.readAllBytes(file(3, "big")));

        SqlOps.ok(cluster.submit(session, SqlOps.execute("DELETE FROM example WHERE id % 3 = 0")));
        String before = awaitSameDigest();

        // Parts above the limit: the first is refused, named, and nothing changes.
        List<byte[]> tooBig = SqlOps.restoreTable("example", bytes, "big.rktable", null, 2 * LIMIT);
        AssertionError refused = assertThrows(AssertionError.class, () -> cluster.submit(session, tooBig.get(0)));
        RaftException cause = assertInstanceOf(RaftException.class, refused.getCause());
        assertEquals(RaftException.Reason.TOO_LARGE, cause.reason());
        assertTrue(cause.getMessage().contains("over the limit of " + LIMIT + " bytes (maxCommandBytes)"),
                cause.getMessage());
        assertEquals(before, awaitSameDigest());

        // Parts within the limit: the table switches at the last one, on every node.
        List<byte[]> parts = SqlOps.restoreTable("example", bytes, "big.rktable", null, LIMIT / 2);
        assertTrue(parts.size() > 6, "parts: " + parts.size());
        long deleted = count(ReadMode.LINEARIZABLE);
        SqlResult.Ok last = null;
        for (int i = 0; i < parts.size(); i++) {
            last = SqlOps.ok(cluster.submit(session, parts.get(i)));
            if (i < parts.size() - 1) {
                assertEquals(deleted, count(ReadMode.LINEARIZABLE), "the old rows until the last part");
            }
        }
        assertEquals(3000L, last.last().changes());
        assertEquals(3000L, count(ReadMode.LINEARIZABLE));
        awaitSameDigest();
    }
}
