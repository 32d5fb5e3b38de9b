package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code raftkit sql} against three {@code raftkit server --sm sql} nodes in this JVM over
 * loopback gRPC: statements through the log, aligned tables, refusals and SQL errors with their
 * exit codes, dot-commands, transactions, scripts, standard input, and a shell that outlives the
 * loss of its quorum.
 */
class SqlCommandTest {

    private static final String TABLE = """
            id | name  | age
            ---+-------+----
             1 | Alice |  30
             2 | Bob   |  25
             3 | Carol |  41
            (3 rows)
            """;

    @TempDir
    Path dir;

    private CliServers servers;

    @AfterEach
    void stopAll() {
        if (servers != null) {
            servers.close();
        }
    }

    private void startSqlCluster() throws Exception {
        servers = new CliServers(1, 2, 3);
        servers.start(1, dir.resolve("n1"), "1,2,3", List.of("--sm", "sql"), 2, 3);
        servers.start(2, dir.resolve("n2"), "1,2,3", List.of("--sm", "sql"), 1, 3);
        servers.start(3, dir.resolve("n3"), "1,2,3", List.of("--sm", "sql"), 1, 2);
        await().atMost(CliServers.WAIT).until(() -> sql("-e", "SELECT 1;").exit() == 0);
    }

    /** {@code raftkit sql} against nodes 1-3 with {@code args}. */
    private CliRun sql(String... args) {
        List<String> all = new ArrayList<>(List.of("sql"));
        all.addAll(List.of(args));
        return CliServers.cliAt(servers.cluster(1, 2, 3), all.toArray(String[]::new));
    }

    /** {@code raftkit sql} reading {@code input} as its standard input, typed at a console or piped. */
    private CliRun sqlWithInput(String input, boolean console, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new SqlCommand(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)),
                console));
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--cluster-id", CliServers.CLUSTER));
        int exit = cl.execute(all.toArray(String[]::new));
        return new CliRun(exit, out.toString(), err.toString());
    }

    private static CliRun ok(CliRun r) {
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    private static CliRun failed(CliRun r, String expectedError) {
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().contains(expectedError), "expected '" + expectedError + "' in\n" + r.all());
        return r;
    }

    @Test
    void statementsGoThroughTheLogAndQueriesPrintAlignedTables() throws Exception {
        startSqlCluster();
        CliRun created = ok(sql("-e", "CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT);"
                + " INSERT INTO example VALUES (1, 'Alice', 30); INSERT INTO example VALUES (2, 'Bob', 25), (3, 'Carol', 41);",
                "-e", "SELECT * FROM example ORDER BY id;"));
        assertEquals("ok\n1 row changed\n2 rows changed\n" + TABLE, created.out());

        // Every read mode answers the same rows (stale reads wait for this shell's own writes).
        for (String mode : new String[] {"linearizable", "lease", "stale"}) {
            assertEquals(TABLE, ok(sql("--read", mode, "-e", "SELECT * FROM example ORDER BY id")).out(), mode);
        }
        assertEquals("consistency: stale\n" + TABLE, ok(sql("-e", ".consistency stale",
                "-e", "SELECT * FROM example ORDER BY id;")).out());
        assertEquals("example\n", ok(sql("-e", ".tables")).out());
        assertEquals("CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT);\n",
                ok(sql("-e", ".schema example")).out());
        assertEquals("3 rows changed\n", ok(sql("-e", "UPDATE example SET age = age + 1 WHERE id > 0;")).out());
        ok(sql("-e", "UPDATE example SET age = age - 1;"));

        // A refused statement never reaches the log; the run stops there with exit code 1.
        CliRun refused = failed(sql("-e", "SELECT 'before';", "-e", "INSERT INTO example VALUES (9, CURRENT_TIMESTAMP, 1);",
                "-e", "SELECT 'after';"), "is refused: CURRENT_TIMESTAMP reads the node's own clock");
        assertTrue(refused.out().contains("before") && !refused.out().contains("after"), refused.all());
        failed(sql("-e", "INSERT INTO example VALUES (1, 'Dup', 1);"), "UNIQUE constraint failed: example.id");
        failed(sql("-e", "SELECT * FROM nowhere;"), "no such table: nowhere");
        failed(sql("-e", ".consistency sometimes"), "unknown consistency 'sometimes'");
        failed(sql("-e", ".schema nowhere"), "no table named nowhere");
        failed(sql("-e", ".frobnicate"), "unknown command .frobnicate");

        // BEGIN … COMMIT is one request: all or nothing.
        failed(sql("-e", "BEGIN; INSERT INTO example VALUES (4, 'Dave', 52); INSERT INTO example VALUES (1, 'Dup', 1);"
                + " COMMIT;"), "UNIQUE constraint failed");
        assertEquals("n\n-\n3\n(1 row)\n", ok(sql("-e", "SELECT count(*) AS n FROM example;")).out());
        String committed = ok(sql("-e", "BEGIN;\nINSERT INTO example VALUES (4, 'Dave', 52);\n"
                + "DELETE FROM example WHERE id = 4;\nCOMMIT;")).out();
        assertTrue(Pattern.compile("1 row changed\n1 row changed\ncommitted: 2 statement\\(s\\) as one transaction at log"
                + " index \\d+\n").matcher(committed).matches(), committed);
        failed(sql("-e", "BEGIN; INSERT INTO example VALUES (5, 'Eve', 1);"), "was never committed");
        assertEquals(TABLE, ok(sql("-e", "SELECT * FROM example ORDER BY id")).out());

        // A script file: statements over several lines, comments, dot-commands.
        Path script = dir.resolve("script.sql");
        Files.writeString(script, "-- a table backup, changes, and the backup restored\n"
                + "BACKUP TABLE example\n  TO 'example_backup';\n"
                + "DELETE FROM example WHERE id = 2;\nINSERT INTO example VALUES (7, 'Grace', 45);\n"
                + ".restore example example_backup\n"
                + "SELECT * FROM example ORDER BY id;\n");
        String restored = ok(sql(script.toString())).out();
        assertTrue(restored.startsWith("backup         | table   | rows | log_index\n"), restored);
        assertTrue(restored.endsWith("1 row changed\n1 row changed\nbackup         | table   | rows\n"
                + "---------------+---------+-----\nexample_backup | example |    3\n(1 row)\n" + TABLE), restored);
        assertTrue(ok(sql("-e", ".restore")).out().contains("raftkit restore --from DIR"));

        // Cluster status and both kinds of backup.
        String status = ok(sql("-e", ".status")).out();
        assertEquals(1, Pattern.compile("(?m)^\\d+ +LEADER ").matcher(status).results().count(), status);
        String full = ok(sql("-e", ".backup full " + dir.resolve("backups"))).out();
        assertTrue(full.startsWith("full backup by node "), full);
        ok(sql("-e", ".backup database nightly"));
        for (int n = 1; n <= 3; n++) {
            Path image = dir.resolve("n" + n).resolve("sql-backups/nightly.sqlite");
            await().atMost(CliServers.WAIT).until(() -> Files.exists(image));
        }
        assertTrue(ok(sql("-e", "SHOW BACKUPS;")).out().contains("nightly        | DATABASE"));
    }

    @Test
    void aPersonAtTheConsoleGoesOnAfterErrorsWhilePipedInputStopsAtTheFirst() throws Exception {
        startSqlCluster();
        String c = servers.cluster(1, 2, 3);
        String typed = "CREATE TABLE t (a INT PRIMARY KEY);\nINSERT INTO t\n  VALUES (1);\nINSERT INTO t VALUES (1);\n"
                + ".consistency\nSELECT a FROM t;\n.quit\nSELECT 'never';\n";
        CliRun console = sqlWithInput(typed, true, "-c", c);
        assertEquals(0, console.exit(), console.all());
        assertTrue(console.err().contains("error: statement 1 ('INSERT INTO t VALUES (1)') failed: [SQLITE_CONSTRAINT"),
                console.all());
        assertTrue(console.out().contains("sql> ok\nsql>    ...> 1 row changed\nsql> sql> consistency: linearizable\n"
                + "sql> a\n-\n1\n(1 row)\nsql> "), console.all());
        assertFalse(console.out().contains("never"), console.all());

        CliRun piped = sqlWithInput("INSERT INTO t VALUES (2);\nINSERT INTO t VALUES (2);\nINSERT INTO t VALUES (3);\n",
                false, "-c", c);
        assertEquals(1, piped.exit(), piped.all());
        assertEquals("1 row changed\n", piped.out());
        assertEquals("a\n-\n1\n2\n(2 rows)\n", ok(sql("-e", "SELECT a FROM t ORDER BY a;")).out());

        // Without a quorum a write fails after --timeout; the shell says so and goes on: a stale
        // read still answers from the surviving node.
        servers.stop(2);
        servers.stop(3);
        CliRun alone = sqlWithInput("INSERT INTO t VALUES (4);\n.consistency stale\nSELECT a FROM t ORDER BY a;\n", true,
                "-c", "1=" + servers.client(1), "--timeout", "2");
        assertEquals(0, alone.exit(), alone.all());
        assertTrue(alone.err().contains("error: could not open a session in cluster 'cli-test'")
                || alone.err().contains("error: could not submit"), alone.all());
        assertTrue(alone.out().contains("a\n-\n1\n2\n(2 rows)\n"), alone.all());
    }

    @Test
    void aKeyValueClusterIsNamedAsTheWrongStateMachine() throws Exception {
        servers = new CliServers(1);
        servers.start(1, dir.resolve("n1"), "1", List.of());
        await().atMost(CliServers.WAIT).until(() -> CliServers.cliAt(servers.cluster(1), "status").exit() == 0);
        CliRun r = CliServers.cliAt(servers.cluster(1), "sql", "-e", "SELECT 1;");
        failed(r, "the cluster's answer is not a SQL result");
        assertTrue(r.err().contains("start its servers with raftkit server --sm sql"), r.all());
    }

    @Test
    void aDumpOfTwoTablesRunsBackIntoAFreshClusterAsTheSameRows() throws Exception {
        startSqlCluster();
        // Every type, NULLs, quotes of both kinds, a text with a newline and a ';' in it (so feeding
        // the dump back reads statements over several lines), blobs with a zero byte, an odd table name.
        ok(sql("-e", "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, photo BLOB, note);"
                + " CREATE INDEX people_name ON people (name);"
                + " INSERT INTO people VALUES (1, 'O''Brien', 2.5, X'00FF10', NULL), (2, 'say \"hi\"', -1e300, NULL, 7),"
                + " (3, 'two\nlines; one row', NULL, X'', 'x'), (-9223372036854775808, '', 0.1, X'DEADBEEF', 1.0);",
                "-e", "CREATE TABLE \"odd \"\"name\"\"\" (k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
                        + " INSERT INTO \"odd \"\"name\"\"\" VALUES ('a', NULL), ('b''c', X'01'), ('d', 3);"
                        + " CREATE VIEW named AS SELECT name FROM people;"));
        String check = "SELECT id, name, typeof(name), score, typeof(score), hex(photo), typeof(photo), note, typeof(note)"
                + " FROM people ORDER BY id; SELECT k, typeof(v), hex(v) FROM \"odd \"\"name\"\"\" ORDER BY k;"
                + " SELECT count(*) FROM named;";
        String before = ok(sql("-e", check)).out();
        String dump = ok(sql("-e", ".dump")).out();
        assertTrue(dump.startsWith("CREATE TABLE \"odd \"\"name\"\"\" (k TEXT PRIMARY KEY, v) WITHOUT ROWID;\n"
                + "INSERT INTO \"odd \"\"name\"\"\" VALUES('a',NULL);\n"), dump);
        assertTrue(dump.contains("INSERT INTO \"people\" VALUES(1,'O''Brien',2.5,X'00FF10',NULL);\n"), dump);
        assertTrue(dump.contains("INSERT INTO \"people\" VALUES(3,'two\nlines; one row',NULL,X'','x');\n"), dump);
        assertTrue(dump.indexOf("CREATE VIEW named") > dump.lastIndexOf("INSERT INTO")
                && dump.indexOf("CREATE INDEX people_name") > dump.lastIndexOf("INSERT INTO"), dump);
        servers.close();

        servers = new CliServers(1);
        servers.start(1, dir.resolve("fresh"), "1", List.of("--sm", "sql"));
        await().atMost(CliServers.WAIT).until(() -> sql1("-e", "SELECT 1;").exit() == 0);
        CliRun fed = sqlWithInput(dump, false, "-c", servers.cluster(1));
        assertEquals(0, fed.exit(), fed.all());
        assertEquals(before, ok(sql1("-e", check)).out());
        assertEquals(dump, ok(sql1("-e", ".dump")).out(), "the copy dumps as the original did");
        failed(sql1("-e", ".dump people"), ".dump takes no arguments");
    }

    @Test
    void pipedStatementsOverSeveralLinesRunWhenTheirSemicolonArrives() throws Exception {
        servers = new CliServers(1);
        servers.start(1, dir.resolve("n1"), "1", List.of("--sm", "sql"));
        await().atMost(CliServers.WAIT).until(() -> sql1("-e", "SELECT 1;").exit() == 0);
        CliRun r = sqlWithInput("CREATE TABLE m (\n  a INT,\n  b TEXT\n);\n.tables\nINSERT INTO m\nVALUES (1, 'x;\ny'),\n"
                + "  (2, 'z');   SELECT a,\n length(b) AS n FROM m\n ORDER BY a\n;\n", false, "-c", servers.cluster(1));
        assertEquals(0, r.exit(), r.all());
        assertEquals("ok\nm\n2 rows changed\na | n\n--+--\n1 | 4\n2 | 1\n(2 rows)\n", r.out());
    }

    /** {@code raftkit sql} against the one node of a one-node cluster. */
    private CliRun sql1(String... args) {
        List<String> all = new ArrayList<>(List.of("sql"));
        all.addAll(List.of(args));
        return CliServers.cliAt(servers.cluster(1), all.toArray(String[]::new));
    }
}
