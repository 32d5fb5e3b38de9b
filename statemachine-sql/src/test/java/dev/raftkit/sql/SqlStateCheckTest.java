package dev.raftkit.sql;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.ReadMode;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.BackupService;
import dev.raftkit.storage.backup.StateVerification;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backups of a replicated SQL cluster record the database's digest; deep verify and restore check it. */
class SqlStateCheckTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    @Test
    void manifestsRecordEveryReplicasDigestAndTheRebuiltDatabaseMatchesThem() throws Exception {
        List<BackupService.Result> backups = new ArrayList<>();
        List<String> replicaDigests = new ArrayList<>();
        try (RuntimeCluster cluster = new RuntimeCluster(Set.of(1L, 2L, 3L),
                (id, b) -> b.snapshotThresholds(1_000_000, 1L << 40).stateMachine(new SqlStateMachine()))) {
            cluster.startAll();
            ClientSession session = cluster.openSession();
            cluster.submit(session, SqlOps.execute("CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT)"));
            BackupService service = new BackupService(cluster.server(1), cluster.snapshots(1), "sql-digest",
                    tmp.resolve("backups"));
            for (int round = 0; round < 2; round++) {
                long last = 0;
                for (int i = 0; i < 20; i++) {
                    last = SqlOps.ok(cluster.submit(session, SqlOps.execute(SqlStatement.of(
                            "INSERT INTO example VALUES (?, ?, ?)", round * 100 + i, "n" + i, 20 + i)))).index();
                }
                long written = last;
                await().atMost(WAIT).until(() -> cluster.server(1).status().applied() >= written);
                backups.add(round == 0 ? service.full() : service.incremental());
            }
            long end = backups.get(1).manifest().lastIndex();
            for (RaftServer s : cluster.running()) {
                replicaDigests.add(SqlOps.digestOf(s.read(SqlOps.digest(), ReadMode.STALE, end)
                        .get(5, TimeUnit.SECONDS)));
            }
        }
        // Nothing was written after the incremental: every replica holds the state it recorded.
        for (String d : replicaDigests) {
            assertEquals("sha256:" + d, backups.get(1).manifest().stateDigest());
        }
        List<Path> chain = backups.stream().map(r -> r.backup().dir()).toList();
        List<StateVerification.Check> checks = StateVerification.deepVerify(chain, null, SqlStateMachine::new,
                tmp.resolve("scratch"));
        assertEquals(2, checks.size());
        assertTrue(checks.stream().allMatch(StateVerification.Check::compared), checks.toString());
        BackupRestore.Result r = BackupRestore.restore(chain, tmp.resolve("restored"), BackupRestore.LATEST, null,
                n -> { }, SqlStateMachine::new);
        assertEquals(backups.get(1).manifest().stateDigest(), r.checks().get(1).rebuilt());
    }
}
