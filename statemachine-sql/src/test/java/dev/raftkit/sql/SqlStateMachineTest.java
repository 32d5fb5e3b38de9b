package dev.raftkit.sql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StateMachine.Command;
import dev.raftkit.spi.StateMachine.Snapshot;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link SqlStateMachine} fed entries directly: statements, determinism, refusals, backups, snapshots. */
class SqlStateMachineTest {

    @TempDir
    Path tmp;

    @RegisterExtension
    final Machines machines = new Machines(n -> new SqlStateMachine(tmp.resolve("images-" + n)));

    private static List<byte[]> payloads(String... scripts) {
        List<byte[]> out = new ArrayList<>();
        for (String s : scripts) {
            out.add(SqlOps.execute(s));
        }
        return out;
    }

    @Test
    void statementsReturnRowsWithColumnNamesAndTypesAndAFailingRequestChangesNothing() {
        SqlStateMachine sm = machines.open();
        List<Replicas.Entry> log = Replicas.log(List.of(
                SqlOps.execute("CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT)"),
                SqlOps.execute(SqlStatement.of("INSERT INTO example VALUES (?, ?, ?)", 1, "ada", 36),
                        SqlStatement.of("INSERT INTO example VALUES (?, ?, ?)", 2, "grace", null)),
                // The second statement violates the primary key: the first must be undone too.
                SqlOps.execute("INSERT INTO example VALUES (3, 'alan', 41); INSERT INTO example VALUES (1, 'dup', 0)"),
                SqlOps.execute("UPDATE example SET age = age + 1 WHERE id = 1 RETURNING id, age")), 1_700_000_000_000L);
        List<SqlResult> results = Replicas.apply(sm, log, 10);

        SqlResult.Ok inserted = assertInstanceOf(SqlResult.Ok.class, results.get(1));
        assertEquals(2, inserted.statements().size());
        assertEquals(1, inserted.last().changes());
        SqlResult.Error failed = assertInstanceOf(SqlResult.Error.class, results.get(2));
        assertEquals(2, failed.statement());
        assertTrue(failed.message().contains("UNIQUE constraint failed") && failed.message().contains("nothing of this"
                + " request was applied"), failed.message());
        SqlResult.Rows returning = assertInstanceOf(SqlResult.Ok.class, results.get(3)).last();
        assertEquals(List.of(List.of(1L, 37L)), returning.rows());
        assertEquals(1, returning.changes());

        SqlResult.Rows rows = Replicas.select(sm, "SELECT id, name, age FROM example ORDER BY id");
        assertEquals(List.of("id", "name", "age"), rows.columns().stream().map(SqlResult.Column::name).toList());
        assertEquals(List.of("INT", "VARCHAR", "INT"), rows.columns().stream().map(SqlResult.Column::type).toList());
        assertEquals(2, rows.rows().size(), "alan's insert was rolled back with the failing statement");
        assertEquals(java.util.Arrays.asList(2L, "grace", null), rows.rows().get(1));
        assertEquals(4, sm.lastApplied());
        // The codec round-trips what it carries.
        assertEquals(rows, ((SqlResult.Ok) SqlResult.decode(new SqlResult.Ok(4, List.of(rows)).encode())).last());
    }

    @Test
    void aStatementThatChangesNoRowReportsNoChangesEvenAfterAnInsert() {
        // sqlite3_changes() would still say 3 for the CREATE after the INSERT; a replica restored
        // from a snapshot (a fresh connection) would say 0: the result must not depend on that.
        SqlStateMachine sm = machines.open();
        List<SqlResult> results = Replicas.apply(sm, Replicas.log(payloads(
                "CREATE TABLE t (a INT)",
                "INSERT INTO t VALUES (1), (2), (3)",
                "CREATE TABLE u (b INT)",
                "UPDATE t SET a = a + 1 WHERE a > 1",
                "UPDATE t SET a = 0 WHERE a > 100"), 1_700_000_000_000L), 5);
        long[] changes = results.stream().mapToLong(r -> assertInstanceOf(SqlResult.Ok.class, r).last().changes())
                .toArray();
        assertArrayEquals(new long[] {0, 3, 0, 2, 0}, changes);
    }

    @Test
    void randomAndDateFunctionsReadTheEntryNotTheNode() {
        long stamp = Instant.parse("2031-05-06T07:08:09.123Z").toEpochMilli();
        SqlStateMachine a = machines.open();
        SqlStateMachine b = machines.open();
        Command c = new Command(42, 3, stamp, SqlOps.execute("SELECT datetime('now'), datetime(), date(), time('now'),"
                + " unixepoch(), strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%s'), julianday('now') = julianday(),"
                + " datetime('now', '+1 day', 'start of day'), random(), randomblob(4), datetime('2001-02-03 04:05:06')"));
        SqlResult.Rows ra = SqlOps.ok(a.apply(List.of(c)).get(0)).last();
        SqlResult.Rows rb = SqlOps.ok(b.apply(List.of(c)).get(0)).last();
        List<Object> row = ra.rows().get(0);
        assertEquals(List.of("2031-05-06 07:08:09", "2031-05-06 07:08:09", "2031-05-06", "07:08:09",
                        stamp / 1000, "2031-05-06 07:08:09.123", String.valueOf(stamp / 1000), 1L,
                        "2031-05-07 00:00:00"), row.subList(0, 9));
        assertEquals("2001-02-03 04:05:06", row.get(11), "other arguments keep SQLite's own semantics");
        assertEquals(row.get(9), rb.rows().get(0).get(9), "random() is the same on every replica");
        assertArrayEquals((byte[]) row.get(10), (byte[]) rb.rows().get(0).get(10));

        Command next = new Command(43, 3, stamp, SqlOps.execute("SELECT random()"));
        assertNotEquals(row.get(9), SqlOps.ok(a.apply(List.of(next)).get(0)).last().value(0, 0),
                "another entry draws another value");

        SqlResult.Error tz = assertInstanceOf(SqlResult.Error.class, SqlResult.decode(a.apply(List.of(
                new Command(44, 3, stamp, SqlOps.execute("SELECT datetime('now', 'localtime')")))).get(0)));
        assertTrue(tz.message().contains("time zone"), tz.message());
    }

    /**
     * The determinism property: a random log of writes full of random(), randomblob() and
     * clock-reading functions, with updates, deletes and failing requests, applied by three replicas
     * in different batchings, leaves the same digest (and the same results) on all three.
     */
    @Test
    void threeReplicasApplyingTheSameRandomLogReachTheSameDigest() {
        for (long seed = 1; seed <= 5; seed++) {
            Random rnd = new Random(seed);
            List<byte[]> payloads = new ArrayList<>();
            payloads.add(SqlOps.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b TEXT, c REAL, d BLOB);"
                    + " CREATE TABLE u (k TEXT PRIMARY KEY, v INT, at TEXT DEFAULT (datetime('now'))) WITHOUT ROWID;"
                    + " CREATE TRIGGER tu AFTER UPDATE ON t BEGIN INSERT OR REPLACE INTO u (k, v) VALUES"
                    + " ('t' || new.id, random() % 100); END"));
            for (int i = 0; i < 150; i++) {
                payloads.add(SqlOps.execute(randomWrite(rnd)));
            }
            List<Replicas.Entry> log = Replicas.log(payloads, 1_600_000_000_000L + seed);
            List<String> digests = new ArrayList<>();
            List<List<SqlResult>> results = new ArrayList<>();
            for (int batch : new int[] {1, 7, 64}) {
                SqlStateMachine sm = machines.open();
                results.add(Replicas.apply(sm, log, batch));
                digests.add(Replicas.digest(sm));
            }
            assertEquals(1, digests.stream().distinct().count(), "seed " + seed + ": " + digests);
            assertEquals(results.get(0), results.get(1), "seed " + seed);
            assertEquals(results.get(0), results.get(2), "seed " + seed);
            assertTrue(results.get(0).stream().anyMatch(r -> r instanceof SqlResult.Error),
                    "the log includes failing requests");
        }
    }

    private static String randomWrite(Random rnd) {
        int k = rnd.nextInt(5);
        return switch (rnd.nextInt(9)) {
            case 0, 1, 2 -> "INSERT INTO t (a, b, c, d) VALUES (random() % 1000, datetime('now'), julianday('now'),"
                    + " randomblob(8))";
            case 3 -> "UPDATE t SET a = a + abs(random() % 7), b = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id % 5 = "
                    + k;
            case 4 -> "DELETE FROM t WHERE abs(a) % 5 = " + k;
            case 5 -> "DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY random() LIMIT 2)";
            case 6 -> "UPDATE t SET c = unixepoch('now') + random() % 100 WHERE id = (SELECT max(id) FROM t);"
                    + " INSERT INTO t (a, b) VALUES (" + k + ", date('now', '+" + k + " days'))";
            case 7 -> "INSERT INTO u (k, v) VALUES ('k" + k + "', random())"; // fails when k exists: an error result
            default -> "INSERT INTO t (a) VALUES (1); UPDATE t SET a = a * 2 WHERE id % 2 = 0; SELECT * FROM nowhere";
        };
    }

    @Test
    void statementsThatCannotBeMadeDeterministicAreRefusedBeforeTheLogAndAtApplyOnEveryNode() {
        String[][] refused = {
                {"INSERT INTO t VALUES (CURRENT_TIMESTAMP)", "CURRENT_TIMESTAMP reads the node's own clock"},
                {"CREATE TABLE x (at TEXT DEFAULT CURRENT_DATE)", "CURRENT_DATE"},
                {"UPDATE t SET a = 1 LIMIT 3", "without ORDER BY"},
                {"DELETE FROM t WHERE a > 1 LIMIT 1", "without ORDER BY"},
                {"ATTACH DATABASE 'x.db' AS x", "another database file"},
                {"DETACH x", "another database file"},
                {"PRAGMA synchronous = FULL", "per-connection settings"},
                {"CREATE TEMP TABLE x (a)", "temporary tables"},
                {"CREATE TEMPORARY VIEW v AS SELECT 1", "temporary tables"},
                {"INSERT INTO temp.x VALUES (1)", "temp schema"},
                {"SELECT load_extension('evil.so')", "load_extension"},
                {"BEGIN; INSERT INTO t VALUES (1); COMMIT", "already runs as one transaction"},
                {"INSERT OR ROLLBACK INTO t VALUES (1)", "ROLLBACK conflict resolution"},
                {"INSERT INTO t VALUES (last_insert_rowid())", "RETURNING"},
                {"VACUUM", "VACUUM"},
                {"DROP TABLE __raftkit_backups", "belong to the store"},
                {"BACKUP TABLE t TO example", "quoted string"},
                {"BACKUP DATABASE TO 'a'; INSERT INTO t VALUES (1)", "must be submitted alone"},
        };
        SqlStateMachine a = machines.open();
        SqlStateMachine b = machines.open();
        long index = 0;
        for (String[] r : refused) {
            SqlRefusedException e = assertThrows(SqlRefusedException.class, () -> SqlOps.execute(r[0]), r[0]);
            assertTrue(e.getMessage().contains(r[1]) && e.getMessage().contains("is refused"), e.getMessage());
            // A client that skips the check: the entry reaches the log, and every node answers the same error.
            byte[] raw = new SqlRequest.Execute(List.of(new SqlStatement(r[0], List.of()))).encode();
            Command c = new Command(++index, 1, 1_000, raw);
            byte[] fromA = a.apply(List.of(c)).get(0);
            assertArrayEquals(fromA, b.apply(List.of(c)).get(0), r[0]);
            assertEquals(e.getMessage(), assertInstanceOf(SqlResult.Error.class, SqlResult.decode(fromA)).message());
        }
        assertEquals(Replicas.digest(a), Replicas.digest(b));
        // What is allowed: ORDER BY makes LIMIT deterministic; the same keywords in strings, subqueries, reads.
        SqlOps.execute("UPDATE t SET a = 1 WHERE id IN (SELECT id FROM t LIMIT 3)");
        SqlOps.execute("DELETE FROM t ORDER BY id LIMIT 1");
        SqlOps.execute("INSERT INTO t VALUES ('CURRENT_TIMESTAMP; PRAGMA x') -- ATTACH in a comment");
        SqlOps.execute("CREATE TRIGGER tr AFTER DELETE ON t BEGIN UPDATE u SET v = CASE WHEN v > 0 THEN 1 ELSE 0 END;"
                + " DELETE FROM u WHERE v = 0; END");
        SqlOps.query("SELECT CURRENT_TIMESTAMP");
        assertThrows(SqlRefusedException.class, () -> SqlOps.query("PRAGMA query_only = 0"));
    }

    @Test
    void aWriteSentAsAReadFailsAndChangesNothing() {
        SqlStateMachine sm = machines.open();
        Replicas.apply(sm, Replicas.log(payloads("CREATE TABLE t (a)", "INSERT INTO t VALUES (1)"), 0), 5);
        String before = Replicas.digest(sm);
        SqlResult.Error e = assertInstanceOf(SqlResult.Error.class, SqlResult.decode(sm.query(
                SqlOps.query("DELETE FROM t"))));
        assertTrue(e.message().contains("submit it with SqlOps.execute"), e.message());
        assertInstanceOf(SqlResult.Error.class, SqlResult.decode(sm.query(SqlOps.execute("DELETE FROM t"))));
        assertEquals(before, Replicas.digest(sm));
        assertEquals(List.of(List.of(1L)), Replicas.select(sm, "SELECT * FROM t").rows(), "and reads work afterwards");
    }

    @Test
    void backupTableAndRestoreTableAreReplicatedCommandsThatRestoreTheSameRowsEverywhere() throws Exception {
        List<Replicas.Entry> log = Replicas.log(payloads(
                "CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT)",
                "INSERT INTO example VALUES (1, 'ada', 36); INSERT INTO example VALUES (2, 'grace', 45);"
                        + " INSERT INTO example VALUES (3, 'alan', 41)",
                "BACKUP TABLE example TO 'example_backup'",
                "UPDATE example SET age = 99 WHERE id = 1; DELETE FROM example WHERE id = 2;"
                        + " INSERT INTO example VALUES (4, 'edsger', 72)",
                "RESTORE TABLE example FROM 'example_backup'",
                "BACKUP TABLE example TO 'second'",
                "DROP TABLE example",
                "RESTORE TABLE example FROM 'example_backup'",
                "RESTORE TABLE example FROM 'no_such_backup'",
                "BACKUP DATABASE TO 'whole'"), 1_700_000_000_000L);
        SqlStateMachine a = machines.open();
        SqlStateMachine b = machines.open();
        List<SqlResult> ra = Replicas.apply(a, log, 1);
        Replicas.apply(b, log, 100);
        assertEquals(List.of(List.of("example_backup", "example", 3L, 3L)),
                assertInstanceOf(SqlResult.Ok.class, ra.get(2)).last().rows());
        assertEquals(3L, ((SqlResult.Ok) ra.get(4)).last().changes(), "three rows restored");
        assertEquals(List.of(List.of(1L, "ada", 36L), List.of(2L, "grace", 45L), List.of(3L, "alan", 41L)),
                Replicas.select(a, "SELECT * FROM example ORDER BY id").rows(), "the backed-up rows, recreated after DROP");
        SqlResult.Error missing = assertInstanceOf(SqlResult.Error.class, ra.get(8));
        assertTrue(missing.message().contains("no table backup named 'no_such_backup'"), missing.message());

        SqlResult.Rows shown = Replicas.select(a, "SHOW BACKUPS");
        assertEquals(List.of("example_backup", "second", "whole"), shown.rows().stream().map(r -> r.get(0)).toList());
        assertEquals(List.of("TABLE", "TABLE", "DATABASE"), shown.rows().stream().map(r -> r.get(1)).toList());
        assertEquals(List.of(3L, 6L, 10L), shown.rows().stream().map(r -> r.get(3)).toList(), "log index of each");
        assertEquals(Replicas.digest(a), Replicas.digest(b), "every replica holds the same backups");

        // BACKUP DATABASE wrote a plain SQLite file image as of entry 10 on each node with a directory.
        Path image = tmp.resolve("images-0").resolve("whole.sqlite");
        assertTrue(Files.size(image) > 0);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + image);
             ResultSet r = c.createStatement().executeQuery("SELECT count(*) FROM example")) {
            r.next();
            assertEquals(3, r.getInt(1));
        }
        assertTrue(Files.exists(tmp.resolve("images-1").resolve("whole.sqlite")));
    }

    @Test
    void aSnapshotIsPointInTimeAndRestoresToTheSameDigest() throws Exception {
        SqlStateMachine source = machines.open();
        List<Replicas.Entry> log = Replicas.log(payloads("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)",
                "INSERT INTO t (v) SELECT hex(randomblob(64)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
                        + " SELECT i + 1 FROM n WHERE i < 2000) SELECT i FROM n)",
                "BACKUP TABLE t TO 'b'", "DELETE FROM t WHERE id % 2 = 0"), 0);
        Replicas.apply(source, log.subList(0, 3), 3);
        String atThree = Replicas.digest(source);
        Snapshot snap = source.snapshot();
        assertEquals(3, snap.index());
        Replicas.apply(source, log.subList(3, 4), 1); // applying goes on before the image is written
        ByteArrayOutputStream image = new ByteArrayOutputStream();
        snap.writeTo(image);
        snap.close();

        SqlStateMachine target = machines.open();
        Replicas.apply(target, Replicas.log(payloads("CREATE TABLE other (x)"), 0), 1);
        target.restore(3, new ByteArrayInputStream(image.toByteArray()));
        assertEquals(3, target.lastApplied());
        assertEquals(atThree, Replicas.digest(target));
        Replicas.apply(target, log.subList(3, 4), 1);
        assertEquals(Replicas.digest(source), Replicas.digest(target), "replaying the rest reaches the source's state");

        // A damaged image is refused, and the database in use stays as it was.
        String before = Replicas.digest(target);
        byte[] bad = image.toByteArray();
        bad[bad.length / 2] ^= 0x01;
        IOException e = assertThrows(IOException.class, () -> target.restore(3, new ByteArrayInputStream(bad)));
        assertTrue(e.getMessage().contains("CRC32C"), e.getMessage());
        byte[] cut = java.util.Arrays.copyOf(image.toByteArray(), 100);
        assertTrue(assertThrows(IOException.class, () -> target.restore(3, new ByteArrayInputStream(cut)))
                .getMessage().contains("truncated"));
        assertTrue(assertThrows(IOException.class, () -> target.restore(2, new ByteArrayInputStream(image.toByteArray())))
                .getMessage().contains("beyond the index 2"), "an image with commands past its index is mislabelled");
        assertEquals(before, Replicas.digest(target));
        assertEquals(4, target.lastApplied());

        // Entries 4..5 were no-ops or membership changes: the image taken at command 3 is the
        // state at 5, and the log replays from 6 (found by the simulator, seed 78 of the bank).
        target.restore(5, new ByteArrayInputStream(image.toByteArray()));
        assertEquals(5, target.lastApplied());
        assertEquals(atThree, Replicas.digest(target));
    }

    @Test
    void datetimeNowFollowsTheLeaderStampEvenWhenNodesClocksDisagree() {
        // Two nodes apply the same entry "late" by different amounts: the stamp, not the apply time, counts.
        long stamp = 1_234_567_890_123L;
        String expected = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC)
                .format(Instant.ofEpochMilli(stamp));
        SqlStateMachine a = machines.open();
        a.apply(List.of(new Command(1, 1, stamp, SqlOps.execute("CREATE TABLE t (at TEXT DEFAULT (datetime('now')), x)"))));
        a.apply(List.of(new Command(2, 1, stamp, SqlOps.execute("INSERT INTO t (x) VALUES (1)"))));
        assertEquals(expected, Replicas.select(a, "SELECT at FROM t").value(0, 0), "a DEFAULT reads the entry's time");
    }
}
