package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.grpc.RaftClient;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlStatement;
import dev.raftkit.sql.TableArtifact;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Table artifacts on three {@code raftkit server --sm sql} nodes in this JVM over loopback gRPC,
 * each with its own {@code --backup-root}: {@code BACKUP TABLE} while clients write leaves the
 * same file on every node; the table comes back by name, from the file, on a cluster restored
 * from an older backup, and on another cluster given the file; a damaged file is refused by name.
 */
class SqlTableArtifactCliTest {

    @TempDir
    Path dir;

    private final List<CliServers> clusters = new ArrayList<>();

    @AfterEach
    void stopAll() {
        clusters.forEach(CliServers::close);
    }

    private Path root(String cluster, long id) {
        return dir.resolve(cluster + "-backups-" + id);
    }

    private Path artifact(String cluster, long id, String name) {
        return root(cluster, id).resolve("sql-tables").resolve(name + ".rktable");
    }

    /** Three SQL nodes of cluster {@code name}, on {@code dataPrefix}1..3, founding it if {@code bootstrap}. */
    private CliServers start(String name, String dataPrefix, boolean bootstrap, CliServers reuse) throws Exception {
        CliServers s = reuse != null ? reuse : new CliServers(1, 2, 3);
        if (reuse == null) {
            clusters.add(s);
        }
        for (long id = 1; id <= 3; id++) {
            long[] peers = id == 1 ? new long[] {2, 3} : id == 2 ? new long[] {1, 3} : new long[] {1, 2};
            s.start(id, dir.resolve(dataPrefix + id), bootstrap ? "1,2,3" : null,
                    List.of("--sm", "sql", "--backup-root", root(name, id).toString()), peers);
        }
        await().atMost(CliServers.WAIT).until(() -> sql(s, "-e", "SELECT 1;").exit() == 0);
        return s;
    }

    private static CliRun sql(CliServers s, String... args) {
        List<String> all = new ArrayList<>(List.of("sql"));
        all.addAll(List.of(args));
        return CliServers.cliAt(s.cluster(1, 2, 3), all.toArray(String[]::new));
    }

    /** What node {@code id} alone holds (a stale read there, after its own applied state). */
    private static String onNode(CliServers s, long id, String query) {
        return ok(CliServers.cliAt(s.client(id), "sql", "--read", "stale", "-e", query)).out();
    }

    private static CliRun ok(CliRun r) {
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    private static final String CREATE = "CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT);"
            + " CREATE INDEX example_age ON example (age);"
            + " INSERT INTO example VALUES (1, 'Alice', 30), (2, 'Bob', 25), (3, 'Carol', 41);";

    @Test
    void everyNodeWritesTheSameArtifactUnderConcurrentWritesAndTheTableComesBackByNameFromTheFileAndElsewhere()
            throws Exception {
        CliServers a = start("a", "a", true, null);
        ok(sql(a, "-e", CREATE));

        // Writers insert while the backup is taken: the artifact holds the rows of its log index,
        // whatever each node was doing, and every node writes the same bytes.
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger inserted = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            Thread t = new Thread(() -> {
                try (RaftClient c = RaftClient.builder(CliServers.CLUSTER).node(1, a.client(1)).node(2, a.client(2))
                        .node(3, a.client(3)).timeout(Duration.ofSeconds(20)).build()) {
                    for (int i = 0; !stop.get(); i++) {
                        SqlOps.ok(c.submit(SqlOps.execute(SqlStatement.of("INSERT INTO example VALUES (?, ?, ?)",
                                1_000 + writer * 100_000 + i, "w" + writer, i % 90))));
                        inserted.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            }, "writer-" + w);
            t.start();
            writers.add(t);
        }
        await().atMost(CliServers.WAIT).until(() -> inserted.get() >= 20 || failure.get() != null);
        CliRun backup = ok(sql(a, "-e", "BACKUP TABLE example TO 'example_backup';"));
        String backedUp = backup.out();
        await().atMost(CliServers.WAIT).until(() -> inserted.get() >= 60 || failure.get() != null);
        stop.set(true);
        for (Thread t : writers) {
            t.join(CliServers.WAIT.toMillis());
        }
        assertEquals(null, failure.get());

        await().atMost(CliServers.WAIT).until(() -> Files.exists(artifact("a", 2, "example_backup"))
                && Files.exists(artifact("a", 3, "example_backup")) && Files.exists(artifact("a", 1, "example_backup")));
        byte[] one = Files.readAllBytes(artifact("a", 1, "example_backup"));
        assertArrayEquals(one, Files.readAllBytes(artifact("a", 2, "example_backup")), "node 2's file is node 1's");
        assertArrayEquals(one, Files.readAllBytes(artifact("a", 3, "example_backup")), "node 3's file is node 1's");
        TableArtifact art = TableArtifact.read(artifact("a", 1, "example_backup"), null);
        assertEquals(CliServers.CLUSTER, art.clusterId());
        assertTrue(backedUp.matches("(?s)backup +\\| table +\\| rows +\\| log_index\n[-+]+\nexample_backup \\| example \\| +"
                + art.rows().size() + " \\| +" + art.logIndex() + "\n\\(1 row\\)\n"), backup.all());
        assertTrue(art.rows().size() > 3, "rows inserted before the backup are in it: " + art.rows().size());
        String shown = ok(sql(a, "-e", "SHOW BACKUPS;")).out();
        assertTrue(shown.contains(art.sha256()) && shown.contains(String.valueOf(one.length)), shown);
        assertEquals(HexFormat.of().formatHex(one, one.length - 32, one.length), art.sha256());

        // (a) the same cluster, after changes: by name, and from the file.
        ok(sql(a, "-e", "DELETE FROM example WHERE id > 2; UPDATE example SET name = 'x';"));
        ok(sql(a, "-e", "RESTORE TABLE example FROM 'example_backup';"));
        String count = "SELECT count(*) AS n, sum(age) AS s FROM example;";
        String expected = ok(sql(a, "-e", count)).out();
        assertTrue(expected.matches("(?s).*\\n *" + art.rows().size() + " \\|.*"), expected);
        ok(sql(a, "-e", "DROP TABLE example;"));
        String fromFile = ok(sql(a, "-e", "RESTORE TABLE example FROM FILE '" + artifact("a", 2, "example_backup")
                + "';")).out();
        assertTrue(fromFile.contains("restored from " + artifact("a", 2, "example_backup") + ": backup 'example_backup'"
                + " of table example"), fromFile);
        for (long id = 1; id <= 3; id++) {
            long node = id;
            await().atMost(CliServers.WAIT).until(() -> onNode(a, node, count).equals(expected));
        }
        assertTrue(ok(sql(a, "-e", ".schema example")).out().contains("CREATE INDEX example_age"), "its index too");

        // A damaged copy is refused by name, and the table is left as it is.
        Path damaged = dir.resolve("damaged.rktable");
        byte[] bad = one.clone();
        bad[bad.length / 2] ^= 1;
        Files.write(damaged, bad);
        ok(sql(a, "-e", "DELETE FROM example WHERE id = 1;"));
        String before = ok(sql(a, "-e", count)).out();
        CliRun refused = sql(a, "-e", ".restore example FROM FILE " + damaged);
        assertEquals(1, refused.exit(), refused.all());
        assertTrue(refused.err().contains("table artifact " + damaged + " is damaged: its SHA-256 checksum does not"
                + " match"), refused.all());
        assertEquals(before, ok(sql(a, "-e", count)).out());

        // (c) another cluster, given the file: it never saw the backup.
        Path copied = dir.resolve("copied.rktable");
        Files.copy(artifact("a", 3, "example_backup"), copied);
        CliServers b = start("b", "b", true, null);
        CliRun byName = sql(b, "-e", "RESTORE TABLE example FROM 'example_backup';");
        assertEquals(1, byName.exit(), byName.all());
        assertTrue(byName.err().contains("FROM FILE"), byName.all());
        ok(sql(b, "-e", "RESTORE TABLE example FROM FILE '" + copied + "';"));
        for (long id = 1; id <= 3; id++) {
            long node = id;
            await().atMost(CliServers.WAIT).until(() -> onNode(b, node, count).equals(expected));
        }
        assertEquals(ok(sql(a, "-e", "SELECT * FROM example WHERE id > 1 ORDER BY id;")).out(),
                ok(sql(b, "-e", "SELECT * FROM example WHERE id > 1 ORDER BY id;")).out());
    }

    @Test
    void aTableComesBackFromItsFileOnAClusterRestoredFromAnOlderBackup() throws Exception {
        CliServers a = start("a", "a", true, null);
        ok(sql(a, "-e", CREATE));
        ok(CliServers.cliAt(a.client(1), "backup", "full", "--dir", "chain"));
        ok(sql(a, "-e", "INSERT INTO example VALUES (4, 'Dave', 52); UPDATE example SET age = age + 1;"));
        ok(sql(a, "-e", "BACKUP TABLE example TO 'later';"));
        await().atMost(CliServers.WAIT).until(() -> Files.exists(artifact("a", 1, "later")));
        String expected = ok(sql(a, "-e", "SELECT * FROM example ORDER BY id;")).out();
        ok(sql(a, "-e", "DELETE FROM example;"));
        for (long id = 1; id <= 3; id++) {
            a.stop(id);
        }

        // The whole cluster rolled back to the older backup, on new directories: the catalog there
        // has never heard of 'later', but each node's backup root still holds its file.
        Path chain = root("a", 1).resolve("chain");
        for (long id = 1; id <= 3; id++) {
            ok(CliRun.of("restore", "--from", chain.toString(), "--data", dir.resolve("r" + id).toString(), "--sm", "sql"));
        }
        start("a", "r", false, a);
        assertEquals("id | name  | age\n---+-------+----\n 1 | Alice |  30\n 2 | Bob   |  25\n 3 | Carol |  41\n(3 rows)\n",
                ok(sql(a, "-e", "SELECT * FROM example ORDER BY id;")).out(), "the state of the older backup");
        CliRun byName = sql(a, "-e", "RESTORE TABLE example FROM 'later';");
        assertEquals(1, byName.exit(), byName.all());
        assertTrue(byName.err().contains("there is no table backup named 'later' in this database"), byName.all());
        assertTrue(Files.exists(artifact("a", 2, "later")), "the restored node kept its artifact");
        ok(sql(a, "-e", ".restore example FROM FILE " + artifact("a", 2, "later")));
        assertEquals(expected, ok(sql(a, "-e", "SELECT * FROM example ORDER BY id;")).out());
        assertFalse(ok(sql(a, "-e", "SHOW BACKUPS;")).out().contains("later"), "restoring records no backup");
    }

    @Test
    void aNodeWithABackupKeyEncryptsItsArtifactsAndTheShellOpensThemWithTheKey() throws Exception {
        Path key = dir.resolve("backup.key");
        ok(CliRun.of("backup", "keygen", "--out", key.toString()));
        CliServers s = new CliServers(1);
        clusters.add(s);
        s.start(1, dir.resolve("k1"), "1", List.of("--sm", "sql", "--backup-root", root("k", 1).toString(),
                "--backup-key", key.toString()));
        await().atMost(CliServers.WAIT).until(() -> CliServers.cliAt(s.client(1), "sql", "-e", "SELECT 1;").exit() == 0);
        ok(CliServers.cliAt(s.client(1), "sql", "-e", CREATE, "-e", "BACKUP TABLE example TO 'sealed';",
                "-e", "DROP TABLE example;"));
        Path file = artifact("k", 1, "sealed");
        byte[] bytes = Files.readAllBytes(file);
        assertEquals("RKTBLGCM", new String(bytes, 0, 8, StandardCharsets.US_ASCII));

        String restore = "RESTORE TABLE example FROM FILE '" + file + "';";
        CliRun noKey = CliServers.cliAt(s.client(1), "sql", "-e", restore);
        assertEquals(1, noKey.exit(), noKey.all());
        assertTrue(noKey.err().contains("table artifact " + file + " is an encrypted table artifact"), noKey.all());
        Path other = dir.resolve("other.key");
        ok(CliRun.of("backup", "keygen", "--out", other.toString()));
        CliRun wrongKey = CliServers.cliAt(s.client(1), "sql", "--backup-key", other.toString(), "-e", restore);
        assertEquals(1, wrongKey.exit(), wrongKey.all());
        assertTrue(wrongKey.err().contains("was encrypted with a different key"), wrongKey.all());
        ok(CliServers.cliAt(s.client(1), "sql", "--backup-key", key.toString(), "-e", restore));
        assertEquals("n\n-\n3\n(1 row)\n", ok(CliServers.cliAt(s.client(1), "sql", "-e",
                "SELECT count(*) AS n FROM example;")).out());
    }
}
