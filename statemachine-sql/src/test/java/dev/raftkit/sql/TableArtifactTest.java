package dev.raftkit.sql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StateMachine.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Table artifacts ({@link TableArtifact}) written by {@code BACKUP TABLE} and read back by
 * {@code RESTORE TABLE … FROM FILE}, on state machines fed entries directly: identical bytes on
 * every replica, restores on the same and another database, damaged files refused by name with
 * the table untouched, sealed files.
 */
class TableArtifactTest {

    private static final long T0 = 1_700_000_000_000L;
    private final List<SqlStateMachine> open = new ArrayList<>();

    @TempDir
    Path tmp;

    @AfterEach
    void closeAll() {
        open.forEach(SqlStateMachine::close);
    }

    private SqlStateMachine machine(String dir, String cluster, TableArtifactKey key) {
        SqlStateMachine sm = new SqlStateMachine(null, new TableArtifactStore(tmp.resolve(dir), cluster, key));
        open.add(sm);
        return sm;
    }

    private static List<byte[]> payloads(String... scripts) {
        List<byte[]> out = new ArrayList<>();
        for (String s : scripts) {
            out.add(SqlOps.execute(s));
        }
        return out;
    }

    private static final List<byte[]> SETUP = payloads(
            "CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT, photo BLOB, score REAL)",
            "CREATE INDEX example_by_age ON example (age)",
            "INSERT INTO example VALUES (1, 'Alice', 30, x'00ff', 1.5), (2, 'Bob', 25, NULL, -0.0),"
                    + " (3, 'Carol', 41, randomblob(8), 2.25); INSERT INTO example (id, name) VALUES (4, NULL)",
            "BACKUP TABLE example TO 'example_backup'");

    private static List<Replicas.Entry> setupThen(String... more) {
        List<byte[]> all = new ArrayList<>(SETUP);
        all.addAll(payloads(more));
        return Replicas.log(all, T0);
    }

    private static SqlResult applyOne(SqlStateMachine sm, long index, byte[] payload) {
        return SqlResult.decode(sm.apply(List.of(new Command(index, 1, T0 + index * 1000, payload))).get(0));
    }

    /** Applies {@code payloads} one per entry from {@code index} on; the last result. */
    private static SqlResult applyAll(SqlStateMachine sm, long index, List<byte[]> payloads) {
        SqlResult last = null;
        for (byte[] p : payloads) {
            last = applyOne(sm, index++, p);
        }
        return last;
    }

    @Test
    void everyReplicaWritesTheSameBytesAndShowBackupsDescribesThem() throws Exception {
        List<Replicas.Entry> log = setupThen("UPDATE example SET age = 99", "BACKUP TABLE example TO 'second'");
        SqlStateMachine a = machine("a", "demo", null);
        SqlStateMachine b = machine("b", "demo", null);
        Replicas.apply(a, log, 1);
        Replicas.apply(b, log, 100);

        byte[] fa = Files.readAllBytes(tmp.resolve("a/example_backup.rktable"));
        assertArrayEquals(fa, Files.readAllBytes(tmp.resolve("b/example_backup.rktable")), "same bytes on every node");
        assertArrayEquals(Files.readAllBytes(tmp.resolve("a/second.rktable")),
                Files.readAllBytes(tmp.resolve("b/second.rktable")));
        assertFalse(Arrays.equals(fa, Files.readAllBytes(tmp.resolve("a/second.rktable"))));

        TableArtifact art = TableArtifact.read(tmp.resolve("a/example_backup.rktable"), null);
        assertEquals("demo", art.clusterId());
        assertEquals("example_backup", art.name());
        assertEquals("example", art.table());
        assertEquals(4, art.logIndex());
        assertEquals(log.get(3).timestampMillis(), art.takenMillis(), "the leader's stamp, not a local clock");
        assertEquals(List.of("id", "name", "age", "photo", "score"), art.columns());
        assertEquals(List.of("CREATE INDEX example_by_age ON example (age)"), art.indexSql());
        assertTrue(art.createSql().startsWith("CREATE TABLE example"));
        assertEquals(4, art.rows().size());
        assertEquals(List.of(1L, "Alice", 30L), art.rows().get(0).subList(0, 3));
        assertArrayEquals(new byte[] {0, (byte) 0xff}, (byte[]) art.rows().get(0).get(3));
        assertEquals(Arrays.asList(4L, null, null, null, null), art.rows().get(3));

        SqlResult.Rows shown = Replicas.select(a, "SHOW BACKUPS");
        assertEquals(List.of("name", "kind", "source", "log_index", "taken_at", "rows", "bytes", "sha256"),
                shown.columns().stream().map(SqlResult.Column::name).toList());
        List<Object> first = shown.rows().get(0);
        assertEquals(List.of("example_backup", "TABLE", "example", 4L), first.subList(0, 4));
        assertEquals(4L, first.get(5));
        assertEquals((long) fa.length, first.get(6));
        assertEquals(art.sha256(), first.get(7));
        assertEquals(HexFormat.of().formatHex(fa, fa.length - 32, fa.length), art.sha256(), "the file's own checksum");
        assertEquals(Replicas.digest(a), Replicas.digest(b));
    }

    @Test
    void aTableComesBackFromItsFileOnTheSameDatabaseAndOnAnotherOne() throws Exception {
        SqlStateMachine a = machine("a", "demo", null);
        List<SqlResult> ra = Replicas.apply(a, setupThen("DELETE FROM example WHERE id > 1",
                "UPDATE example SET name = 'changed'", "DROP TABLE example"), 3);
        assertInstanceOf(SqlResult.Ok.class, ra.get(6));
        Path file = tmp.resolve("a/example_backup.rktable");
        TableArtifact art = TableArtifact.read(file, null);

        // The same database: the table was dropped, and comes back with its index from the file.
        SqlResult restored = applyAll(a, 8, SqlOps.restoreTableFromFile("example", file, null));
        assertEquals(4L, assertInstanceOf(SqlResult.Ok.class, restored).last().changes());
        assertEquals(art.rows().size(), Replicas.select(a, "SELECT * FROM example").rows().size());
        assertEquals(List.of("example_by_age"), Replicas.select(a,
                "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'example' AND sql IS NOT NULL").rows().stream()
                .map(r -> r.get(0)).toList());

        // Another database (another cluster: it never saw the backup, its catalog is empty) given the file.
        SqlStateMachine other = machine("other", "elsewhere", null);
        assertInstanceOf(SqlResult.Ok.class, applyOne(other, 1, SqlOps.execute(
                "CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT, photo BLOB, score REAL,"
                        + " extra TEXT DEFAULT 'x'); INSERT INTO example (id) VALUES (77)")));
        SqlResult.Error byName = assertInstanceOf(SqlResult.Error.class,
                applyOne(other, 2, SqlOps.execute("RESTORE TABLE example FROM 'example_backup'")));
        assertTrue(byName.message().contains("FROM FILE"), byName.message());
        assertInstanceOf(SqlResult.Ok.class, applyAll(other, 3, SqlOps.restoreTableFromFile("example", file, null)));
        String cols = "id, name, age, hex(photo), score, typeof(score)";
        assertEquals(Replicas.select(a, "SELECT " + cols + " FROM example ORDER BY id").rows(),
                Replicas.select(other, "SELECT " + cols + " FROM example ORDER BY id").rows(),
                "the same values with the same storage classes");
        assertEquals(List.of(List.of("x")), Replicas.select(other, "SELECT DISTINCT extra FROM example").rows(),
                "a column the backup lacks takes its default");
        assertEquals(List.of(), Replicas.select(other, "SHOW BACKUPS").rows(), "restoring records no backup");
    }

    @Test
    void damagedFilesAreRefusedByNameAndTheTableIsLeftUntouched() throws Exception {
        SqlStateMachine a = machine("a", "demo", null);
        Replicas.apply(a, setupThen("CREATE TABLE other (k INTEGER PRIMARY KEY)", "BACKUP TABLE other TO 'other_backup'",
                "INSERT INTO example VALUES (5, 'Dave', 50, NULL, 0)"), 10);
        String before = Replicas.digest(a);
        byte[] good = Files.readAllBytes(tmp.resolve("a/example_backup.rktable"));

        byte[] flipped = good.clone();
        flipped[good.length / 2] ^= 0x10;
        byte[] wrongMagic = good.clone();
        wrongMagic[0] = 'X';
        byte[] badVersion = good.clone();
        badVersion[11] = 9;
        Object[][] cases = {
            {"flipped.rktable", flipped, "checksum does not match"},
            {"truncated.rktable", Arrays.copyOf(good, good.length - 40), "is damaged"},
            {"short.rktable", Arrays.copyOf(good, 20), "truncated"},
            {"magic.rktable", wrongMagic, "does not start with the magic bytes RKSQLTBL"},
            {"version.rktable", badVersion, "format version 9"},
            {"other.rktable", Files.readAllBytes(tmp.resolve("a/other_backup.rktable")), "not a backup of table example"},
        };
        long index = 100;
        for (Object[] c : cases) {
            Path file = tmp.resolve((String) c[0]);
            Files.write(file, (byte[]) c[1]);
            TableArtifactException refused = assertThrows(TableArtifactException.class,
                    () -> SqlOps.restoreTableFromFile("example", file, null), (String) c[0]);
            assertTrue(refused.getMessage().contains(file.toString()) && refused.getMessage().contains((String) c[2]),
                    refused.getMessage());

            // A client that skipped the check: every replica refuses the same bytes, and nothing changes.
            byte[] forged = new SqlRequest.Execute(List.of(new SqlStatement("RESTORE TABLE example FROM 'example_backup'",
                    List.of((byte[]) c[1])))).encode();
            SqlResult.Error error = assertInstanceOf(SqlResult.Error.class, applyOne(a, index++, forged), (String) c[0]);
            assertTrue(error.message().contains("the table is unchanged") || error.message().contains("another table"),
                    error.message());
            assertEquals(before, Replicas.digest(a), (String) c[0]);
        }
        TableArtifactException missing = assertThrows(TableArtifactException.class,
                () -> SqlOps.restoreTableFromFile("example", tmp.resolve("nope.rktable"), null));
        assertTrue(missing.getMessage().contains("nope.rktable") && missing.getMessage().contains("does not exist"));
    }

    @Test
    void aLargeArtifactGoesInPartsAndTheTableSwitchesAtTheLastOne() throws Exception {
        SqlStateMachine a = machine("a", "demo", null);
        SqlStateMachine b = machine("b", "demo", null);
        List<Replicas.Entry> log = setupThen("INSERT INTO example (id, name) SELECT value + 10, hex(randomblob(40)) FROM"
                + " (WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 200)"
                + " SELECT value FROM n)", "BACKUP TABLE example TO 'big'", "DELETE FROM example WHERE id > 2");
        Replicas.apply(a, log, 1);
        Replicas.apply(b, log, 7);
        Path file = tmp.resolve("a/big.rktable");
        byte[] bytes = Files.readAllBytes(file);
        List<byte[]> parts = SqlOps.restoreTable("example", bytes, file.toString(), null, 1000);
        assertEquals((bytes.length + 999) / 1000, parts.size());
        assertTrue(parts.size() > 5, "parts: " + parts.size());

        String before = Replicas.digest(a);
        long index = 100;
        // A damaged part is refused at the last one, with nothing changed; then the good upload replaces it.
        List<byte[]> damaged = new ArrayList<>(parts);
        byte[] bad = bytes.clone();
        bad[1500] ^= 1;
        damaged.set(1, new SqlRequest.Execute(List.of(new SqlStatement("RESTORE TABLE \"example\" FROM 'big'",
                Arrays.asList(Arrays.copyOfRange(bad, 1000, 2000), 2L, (long) parts.size(),
                        TableArtifact.read(file, null).sha256())))).encode());
        SqlResult.Error refused = assertInstanceOf(SqlResult.Error.class, applyAll(a, index, damaged));
        applyAll(b, index, damaged);
        index += damaged.size();
        assertTrue(refused.message().contains("is damaged") && refused.message().contains("the table is unchanged"),
                refused.message());
        assertEquals(Replicas.select(a, "SELECT count(*) FROM example").rows(), List.of(List.of(2L)));

        for (int i = 0; i < parts.size(); i++) {
            SqlResult.Ok ok = assertInstanceOf(SqlResult.Ok.class, applyOne(a, index, parts.get(i)));
            assertInstanceOf(SqlResult.Ok.class, applyOne(b, index, parts.get(i)));
            index++;
            if (i < parts.size() - 1) {
                assertEquals(List.of(List.of("big", "example", (long) i + 1, (long) parts.size())), ok.last().rows());
                assertEquals(List.of(List.of(2L + i)), Replicas.select(a, "SELECT count(*) FROM example").rows(),
                        "the old rows (and those written meanwhile) until the last part");
                // Other writes go on between parts.
                applyOne(a, index, SqlOps.execute("INSERT INTO example (id) VALUES (" + (10_000 + i) + ")"));
                applyOne(b, index, SqlOps.execute("INSERT INTO example (id) VALUES (" + (10_000 + i) + ")"));
                index++;
            } else {
                assertEquals(204L, ok.last().changes());
            }
        }
        assertEquals(List.of(List.of(204L)), Replicas.select(a, "SELECT count(*) FROM example").rows());
        assertEquals(List.of(List.of(0L)), Replicas.select(a, "SELECT count(*) FROM " + TableBackups.PARTS).rows(),
                "no part is kept once restored");
        assertEquals(Replicas.digest(a), Replicas.digest(b));
        assertNotEquals(before, Replicas.digest(a));

        // A part that does not belong with the others (another backup name, same artifact) is refused.
        applyOne(a, index++, parts.get(0));
        SqlResult.Error mixed = assertInstanceOf(SqlResult.Error.class, applyOne(a, index++, new SqlRequest.Execute(
                List.of(new SqlStatement("RESTORE TABLE \"example\" FROM 'other'", Arrays.asList(new byte[10], 2L,
                        (long) parts.size(), TableArtifact.read(file, null).sha256())))).encode()));
        assertTrue(mixed.message().contains("does not belong with the parts already sent"), mixed.message());
    }

    @Test
    void anArtifactCannotSmuggleStatementsTheStoreRefuses() throws Exception {
        SqlStateMachine a = machine("a", "demo", null);
        Replicas.apply(a, setupThen("DROP TABLE example"), 10);
        TableArtifact art = TableArtifact.read(tmp.resolve("a/example_backup.rktable"), null);
        byte[] evil = TableArtifact.encode("demo", "example_backup", "example", 4, T0, art.createSql(),
                List.of("ATTACH DATABASE '/tmp/x.db' AS x"), art.columns(), art.rows(), art.rows().size());
        List<byte[]> request = SqlOps.restoreTable("example", evil, "evil.rktable", null);
        SqlResult.Error error = assertInstanceOf(SqlResult.Error.class, applyAll(a, 50, request));
        assertTrue(error.message().contains("refused"), error.message());
        assertEquals(List.of(), Replicas.select(a, "SELECT name FROM sqlite_schema WHERE name = 'example'").rows());
    }

    @Test
    void aFailedRequestWritesNoFileAndAHalfWrittenOneIsRemovedAtStart() throws Exception {
        SqlStateMachine a = machine("a", "demo", null);
        List<Replicas.Entry> log = Replicas.log(payloads("CREATE TABLE t (id INTEGER PRIMARY KEY)",
                "BACKUP TABLE t TO 'b'; INSERT INTO t VALUES (1); INSERT INTO t VALUES (1)"), T0);
        List<SqlResult> r = Replicas.apply(a, log, 2);
        assertInstanceOf(SqlResult.Error.class, r.get(1));
        assertFalse(Files.exists(tmp.resolve("a/b.rktable")), "the backup was undone with its request");
        assertEquals(List.of(), Replicas.select(a, "SHOW BACKUPS").rows());

        Files.createDirectories(tmp.resolve("a"));
        Files.write(tmp.resolve("a/c.rktable.partial"), new byte[] {1, 2, 3});
        machine("a", "demo", null);
        assertFalse(Files.exists(tmp.resolve("a/c.rktable.partial")));
    }

    @Test
    void sealedArtifactsAreTheSameOnEveryNodeWithTheKeyAndUnreadableWithout() throws Exception {
        byte[] secret = new byte[32];
        new Random(3).nextBytes(secret);
        TableArtifactKey key = TableArtifactKey.of(secret);
        List<Replicas.Entry> log = setupThen();
        SqlStateMachine a = machine("a", "demo", key);
        SqlStateMachine b = machine("b", "demo", TableArtifactKey.of(secret));
        SqlStateMachine plain = machine("p", "demo", null);
        Replicas.apply(a, log, 1);
        Replicas.apply(b, log, 4);
        Replicas.apply(plain, log, 2);
        Path file = tmp.resolve("a/example_backup.rktable");
        byte[] sealed = Files.readAllBytes(file);
        assertArrayEquals(sealed, Files.readAllBytes(tmp.resolve("b/example_backup.rktable")));
        byte[] clear = Files.readAllBytes(tmp.resolve("p/example_backup.rktable"));
        assertNotEquals(-1, Arrays.mismatch(sealed, clear));
        assertEquals(TableArtifact.read(tmp.resolve("p/example_backup.rktable"), null).rows().size(),
                TableArtifact.read(file, key).rows().size());
        assertEquals(Replicas.select(a, "SHOW BACKUPS").rows(), Replicas.select(plain, "SHOW BACKUPS").rows(),
                "the catalog records the plain artifact whatever the key");

        TableArtifactException noKey = assertThrows(TableArtifactException.class, () -> TableArtifact.read(file, null));
        assertTrue(noKey.getMessage().contains("encrypted"), noKey.getMessage());
        byte[] other = secret.clone();
        other[0] ^= 1;
        TableArtifactException wrongKey = assertThrows(TableArtifactException.class,
                () -> TableArtifact.read(file, TableArtifactKey.of(other)));
        assertTrue(wrongKey.getMessage().contains("different key"), wrongKey.getMessage());
        byte[] tampered = sealed.clone();
        tampered[tampered.length - 5] ^= 1;
        Files.write(tmp.resolve("t.rktable"), tampered);
        TableArtifactException bad = assertThrows(TableArtifactException.class,
                () -> SqlOps.restoreTableFromFile("example", tmp.resolve("t.rktable"), key));
        assertTrue(bad.getMessage().contains("fails authentication") && bad.getMessage().contains("t.rktable"));

        // The client opens the file with the key and sends the plain artifact.
        SqlStateMachine fresh = machine("fresh", "other", null);
        assertInstanceOf(SqlResult.Ok.class, applyAll(fresh, 1, SqlOps.restoreTableFromFile("example", file, key)));
        assertEquals(4, Replicas.select(fresh, "SELECT * FROM example").rows().size());
    }
}
