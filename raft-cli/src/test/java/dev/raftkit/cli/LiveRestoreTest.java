package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.kv.KvEntry;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvResult;
import dev.raftkit.node.RaftNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live restore (hot recovery) of a running three-node key-value cluster, through {@code raftkit
 * restore --live}: a client writes throughout; the cluster is rolled back to a full backup while
 * one follower is down; every write the backup holds is there after the switch and none made
 * between the backup and the switch; writes go on; a linearizable read right after the switch
 * sees the backup's state; a session's retry of a command applied before the switch is answered,
 * not applied again; the follower that was down catches up (fetching the staged state) and ends
 * with the same digest.
 */
class LiveRestoreTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private CliServers servers;
    private final AtomicBoolean stop = new AtomicBoolean();
    private Thread writer;

    @AfterEach
    void stopAll() throws InterruptedException {
        stop.set(true);
        if (writer != null) {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        }
        if (servers != null) {
            servers.close();
        }
    }

    private RaftClient client() {
        RaftClient.Builder b = RaftClient.builder(CliServers.CLUSTER).timeout(WAIT).attemptTimeout(Duration.ofSeconds(5));
        for (long id = 1; id <= 3; id++) {
            b.node(id, servers.client(id));
        }
        return b.build();
    }

    private static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "expected /" + regex + "/ in\n" + text);
        return Long.parseLong(m.group(1));
    }

    private static Map<String, Long> scan(RaftClient c, String prefix) {
        Map<String, Long> out = new HashMap<>();
        byte[] after = new byte[0];
        while (true) {
            KvResult.Scanned page = KvOps.scanned(c.read(KvOps.scan(prefix.getBytes(StandardCharsets.UTF_8), after,
                    10_000), ReadMode.LINEARIZABLE));
            for (KvEntry e : page.entries()) {
                out.put(new String(e.key(), StandardCharsets.UTF_8), e.version());
                after = e.key();
            }
            if (!page.more() || page.entries().isEmpty()) {
                return out;
            }
        }
    }

    @Test
    void aRunningClusterIsRolledBackToABackupAtOneIndex() throws Exception {
        servers = new CliServers(1, 2, 3);
        for (long id = 1; id <= 3; id++) {
            long[] others = id == 1 ? new long[] {2, 3} : id == 2 ? new long[] {1, 3} : new long[] {1, 2};
            servers.start(id, dir.resolve("n" + id), "1,2,3", List.of(), others);
        }
        // Acknowledged writes: key -> the version (log index) it was written at.
        Map<String, Long> acked = new ConcurrentHashMap<>();
        RaftClient writes = client();
        writer = new Thread(() -> {
            for (int n = 0; !stop.get(); n++) {
                String key = "w/" + n;
                try {
                    acked.put(key, KvOps.written(writes.submit(KvOps.put(key, "v" + n))));
                } catch (RuntimeException e) {
                    // A write refused while a node was down: not acknowledged, so not checked.
                }
            }
        }, "live-restore-writer");
        writer.setDaemon(true);
        writer.start();
        await().atMost(WAIT).until(() -> acked.size() >= 30);

        CliRun backup = CliServers.cliAt(servers.cluster(1, 2, 3), "backup", "full", "--dir", "live", "--node", "1",
                "--quiet");
        assertEquals(0, backup.exit(), backup.all());
        long backupIndex = number(backup.out(), "snapshot at index (\\d+)");
        int ackedAtBackup = acked.size();
        await().atMost(WAIT).until(() -> acked.size() >= ackedAtBackup + 30);

        try (RaftClient session = client()) {
            long seq = session.nextSequence();
            byte[] first = session.submit(seq, KvOps.put("dup", "before-the-switch"));
            long dupVersion = KvOps.written(first);
            assertTrue(dupVersion > backupIndex);

            servers.stop(3); // a follower (or the leader) down during the switch
            CliRun live = CliServers.cliAt(servers.cluster(1, 2), "restore", "--live", "--from", "live", "--node", "1",
                    "--quiet");
            assertEquals(0, live.exit(), live.all());
            long switchIndex = number(live.out(), "switched at index (\\d+)");
            assertTrue(live.out().contains("to the backup's state at index " + backupIndex), live.out());
            assertTrue(Pattern.compile("sha256 [0-9a-f]{64}").matcher(live.out()).find(), live.out());
            assertTrue(switchIndex > dupVersion);

            // A linearizable read after the switch sees the backup's state: the write made after the
            // backup is gone.
            try (RaftClient reader = client()) {
                assertTrue(KvOps.found(reader.read(KvOps.get("dup"), ReadMode.LINEARIZABLE)).isEmpty(),
                        "a write made between the backup and the switch is still visible after the switch");
            }
            // Sessions carry on: the retry is answered from the session table, not applied again.
            assertArrayEquals(first, session.submit(seq, KvOps.put("dup", "before-the-switch")));
            try (RaftClient reader = client()) {
                assertTrue(KvOps.found(reader.read(KvOps.get("dup"), ReadMode.LINEARIZABLE)).isEmpty(),
                        "the session's retry was applied again after the switch");
            }

            int ackedAtSwitch = acked.size();
            await().atMost(WAIT).until(() -> acked.size() >= ackedAtSwitch + 20);
            servers.start(3, dir.resolve("n3"), "1,2,3", List.of(), 1, 2);
            await().atMost(WAIT).until(() -> acked.size() >= ackedAtSwitch + 40);
            stop.set(true);
            writer.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(writer.isAlive());

            try (RaftClient reader = client()) {
                Map<String, Long> now = scan(reader, "w/");
                int before = 0;
                int rolledBack = 0;
                int after = 0;
                for (Map.Entry<String, Long> w : acked.entrySet()) {
                    long v = w.getValue();
                    if (v <= backupIndex) {
                        before++;
                        assertEquals(v, now.get(w.getKey()), w.getKey() + " is in the backup, so it is there after the switch");
                    } else if (v < switchIndex) {
                        rolledBack++;
                        assertFalse(now.containsKey(w.getKey()), w.getKey() + " (index " + v + ") was written after the"
                                + " backup and before the switch at " + switchIndex + ", yet it survived the switch");
                    } else {
                        after++;
                        assertEquals(v, now.get(w.getKey()), w.getKey() + " was written after the switch");
                    }
                }
                assertTrue(before >= 30 && rolledBack >= 30 && after >= 40, before + " " + rolledBack + " " + after);
                // Nothing but acknowledged writes (and retries that were lost answers) is there.
                for (Map.Entry<String, Long> k : now.entrySet()) {
                    long v = k.getValue();
                    assertTrue(v <= backupIndex || v > switchIndex, k + " is from between the backup and the switch");
                }
            }
        }
        // Every node, node 3 too (it was down for the switch and fetched the staged state), holds the same state.
        RaftNode[] nodes = new RaftNode[3];
        for (int i = 0; i < 3; i++) {
            nodes[i] = servers.running(i + 1).command().ready.get(10, TimeUnit.SECONDS);
        }
        await().atMost(WAIT).until(() -> {
            long applied = nodes[0].server().status().applied();
            return nodes[1].server().status().applied() == applied && nodes[2].server().status().applied() == applied
                    && nodes[0].server().status().commit() == applied;
        });
        String digest = StateMachineKind.KV.digest(nodes[0].server()).hex();
        for (RaftNode n : nodes) {
            assertEquals(digest, StateMachineKind.KV.digest(n.server()).hex(), "node " + n.id() + "'s state differs");
        }
        assertTrue(Files.list(dir.resolve("n3").resolve("staged")).anyMatch(p -> p.toString().endsWith(".state")),
                "node 3 was down during the switch, so it must have fetched the staged image");

        // The chain cannot continue across the switch (the state after it is not in the log): the
        // next incremental is a full backup, and says why.
        CliRun next = CliServers.cliAt(servers.cluster(1, 2, 3), "backup", "incremental", "--dir", "live", "--node", "1",
                "--quiet");
        assertEquals(0, next.exit(), next.all());
        assertTrue(next.all().contains("took a full backup instead of an incremental one") && next.all()
                .contains("is a live restore"), next.all());
    }
    private CliRun sql(String... statements) {
        List<String> args = new java.util.ArrayList<>(List.of("sql"));
        for (String st : statements) {
            args.add("-e");
            args.add(st);
        }
        CliRun r = CliServers.cliAt(servers.cluster(1, 2, 3), args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    /**
     * The same on replicated SQL, fewer cases: a table rolled back to a full backup on a running
     * cluster, every node left with the same database, and writes going on after the switch.
     */
    @Test
    void aRunningSqlClusterIsRolledBackToABackup() throws Exception {
        servers = new CliServers(1, 2, 3);
        for (long id = 1; id <= 3; id++) {
            long[] others = id == 1 ? new long[] {2, 3} : id == 2 ? new long[] {1, 3} : new long[] {1, 2};
            servers.start(id, dir.resolve("n" + id), "1,2,3", List.of("--sm", "sql"), others);
        }
        sql("CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT);",
                "INSERT INTO example VALUES (1, 'Alice', 30), (2, 'Bob', 25), (3, 'Carol', 41);");
        CliRun backup = CliServers.cliAt(servers.cluster(1, 2, 3), "backup", "full", "--dir", "sql-live", "--node", "2",
                "--quiet");
        assertEquals(0, backup.exit(), backup.all());
        sql("UPDATE example SET age = 31 WHERE id = 1;", "DELETE FROM example WHERE id = 2;",
                "INSERT INTO example VALUES (4, 'Dan', 52);", "CREATE TABLE later (x INT);");

        CliRun live = CliServers.cliAt(servers.cluster(1, 2, 3), "restore", "--live", "--from", "sql-live", "--node",
                "2", "--quiet");
        assertEquals(0, live.exit(), live.all());
        String rows = sql("SELECT id, name, age FROM example ORDER BY id;").out();
        assertTrue(rows.contains("Alice |  30") && rows.contains("Bob   |  25") && rows.contains("(3 rows)")
                && !rows.contains("Dan"), "the backed-up rows, exactly:\n" + rows);
        String tables = sql(".tables").out();
        assertFalse(tables.contains("later"), "a table created after the backup survived the switch:\n" + tables);

        sql("INSERT INTO example VALUES (5, 'Eve', 22);");
        assertTrue(sql("SELECT count(*) AS n FROM example;").out().contains("4"));
        RaftNode[] nodes = new RaftNode[3];
        for (int i = 0; i < 3; i++) {
            nodes[i] = servers.running(i + 1).command().ready.get(10, TimeUnit.SECONDS);
        }
        await().atMost(WAIT).until(() -> {
            long applied = nodes[0].server().status().applied();
            return nodes[1].server().status().applied() == applied && nodes[2].server().status().applied() == applied
                    && nodes[0].server().status().commit() == applied;
        });
        String digest = StateMachineKind.SQL.digest(nodes[0].server()).hex();
        for (RaftNode n : nodes) {
            assertEquals(digest, StateMachineKind.SQL.digest(n.server()).hex(), "node " + n.id() + "'s database differs");
        }
    }
}
