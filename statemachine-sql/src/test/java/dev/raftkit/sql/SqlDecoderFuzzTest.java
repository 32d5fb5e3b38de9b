package dev.raftkit.sql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.spi.StateMachine;
import dev.raftkit.testkit.fuzz.Fuzz;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of every SQL decoder that reads outside input: requests (what a client submits
 * and every replica applies), results, the apply path (garbage must become the same error on every
 * replica, never an exception, which would stop the node), and snapshot images: the envelope, and
 * the SQLite database inside it with a correct CRC (what a hostile or damaged leader could send).
 * See {@link Fuzz} for the knobs.
 */
class SqlDecoderFuzzTest {

    static List<byte[]> requests() {
        return List.of(
                SqlOps.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, b BLOB, r REAL)"),
                SqlOps.execute(SqlStatement.of("INSERT INTO t VALUES (?, ?, ?, ?)", 1L, "one", new byte[] {1, 2}, 1.5)),
                SqlOps.execute(SqlStatement.of("UPDATE t SET name = ? WHERE id = ?", null, 1L),
                        SqlStatement.of("DELETE FROM t WHERE id > ?", 10L)),
                SqlOps.query("SELECT count(*), max(id) FROM t"),
                SqlOps.query(SqlStatement.of("SELECT * FROM t WHERE name = ?", "one")),
                SqlOps.digest());
    }

    static byte[] randomRequest(Random rnd) {
        String[] sql = {"SELECT ?", "INSERT INTO t VALUES (?, ?, ?, ?)", "SELECT * FROM t", "DELETE FROM t",
            "CREATE TABLE u (x)", "UPDATE t SET r = ?", "SELECT length(?)"};
        List<SqlStatement> statements = new ArrayList<>();
        for (int i = 0, n = 1 + rnd.nextInt(3); i < n; i++) {
            List<Object> params = new ArrayList<>();
            for (int p = 0, np = rnd.nextInt(5); p < np; p++) {
                params.add(switch (rnd.nextInt(5)) {
                    case 0 -> null;
                    case 1 -> rnd.nextLong();
                    case 2 -> rnd.nextBoolean() ? Double.NaN : rnd.nextDouble() * 1e300;
                    case 3 -> "s".repeat(rnd.nextInt(40));
                    default -> new byte[rnd.nextInt(64)];
                });
            }
            statements.add(new SqlStatement(sql[rnd.nextInt(sql.length)], params));
        }
        return rnd.nextBoolean() ? new SqlRequest.Execute(statements).encode() : new SqlRequest.Query(statements).encode();
    }

    /**
     * Requests are what the log holds on disk and results what clients of older builds read: the
     * encoders must keep writing these bytes (written by the first version-1 encoder, a
     * DataOutputStream), and the decoders read them back to the same values.
     */
    @Test
    void theWireFormatStaysByteForByteWhatEarlierBuildsWrote() {
        HexFormat hex = HexFormat.of();
        byte[] request = hex.parseHex("5101010000000100000024494e5345525420494e544f20742056414c55455320283f2c203f2c203f2c"
                + "203f2c203f29000000050100000000000000010300000002c3a904000000020102023ff800000000000000");
        SqlRequest.Execute decoded = (SqlRequest.Execute) SqlRequest.decode(request);
        List<Object> params = decoded.statements().get(0).params();
        assertEquals("INSERT INTO t VALUES (?, ?, ?, ?, ?)", decoded.statements().get(0).sql());
        assertEquals(Arrays.asList(1L, "\u00e9"), params.subList(0, 2));
        assertArrayEquals(new byte[] {1, 2}, (byte[]) params.get(2));
        assertEquals(Arrays.asList(1.5, null), params.subList(3, 5));
        assertArrayEquals(request, new SqlRequest.Execute(List.of(SqlStatement.of("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                1L, "\u00e9", new byte[] {1, 2}, 1.5, null))).encode());

        byte[] ok = hex.parseHex("5101010000000000000009000000010000000100000002696400000007494e54454745520000000201"
                + "fffffffffffffffe0300000001780000000000000003");
        SqlResult.Ok rows = new SqlResult.Ok(9, List.of(new SqlResult.Rows(List.of(new SqlResult.Column("id", "INTEGER")),
                List.of(Arrays.asList((Object) (-2L)), Arrays.asList((Object) "x")), 3)));
        assertArrayEquals(ok, rows.encode());
        assertEquals(rows, SqlResult.decode(ok));
        byte[] error = hex.parseHex("51010200000002000000106e6f2073756368207461626c653a2074");
        assertArrayEquals(error, new SqlResult.Error(2, "no such table: t").encode());
        assertEquals(new SqlResult.Error(2, "no such table: t"), SqlResult.decode(error));
    }

    @Test
    void requestDecoderReturnsARequestOrRefusesWithSqlCodecException() {
        Fuzz.target("sql-request", SqlRequest::decode)
                .corpus(requests())
                .generator(SqlDecoderFuzzTest::randomRequest)
                .refusesWith(SqlCodecException.class)
                .accepted((input, request) -> assertArrayEquals(request.encode(),
                        SqlRequest.decode(request.encode()).encode(), "a decoded request re-encodes stably"))
                .iterations(40_000)
                .run();
    }

    @Test
    void resultDecoderReturnsAResultOrRefusesWithSqlCodecException() {
        List<SqlResult.Column> cols = List.of(new SqlResult.Column("id", "INTEGER"), new SqlResult.Column("b", ""));
        List<byte[]> corpus = List.of(
                new SqlResult.Error(2, "no such table: t").encode(),
                new SqlResult.Ok(7, List.of()).encode(),
                new SqlResult.Ok(9, List.of(new SqlResult.Rows(cols, List.of(
                        Arrays.asList(1L, new byte[] {3}), Arrays.asList(null, "x"), Arrays.asList(2.5, -1L)), 3))).encode());
        Fuzz.target("sql-result", SqlResult::decode)
                .corpus(corpus)
                .refusesWith(SqlCodecException.class)
                .accepted((input, result) -> assertArrayEquals(result.encode(),
                        SqlResult.decode(result.encode()).encode(), "a decoded result re-encodes stably"))
                .iterations(40_000)
                .run();
    }

    @Test
    void applyAnswersEveryRequestAlikeOnEveryReplicaAndNeverThrows() {
        byte[] create = requests().get(0);
        Fuzz.target("sql-apply", bytes -> {
            try (SqlStateMachine a = new SqlStateMachine(); SqlStateMachine b = new SqlStateMachine()) {
                List<StateMachine.Command> batch = List.of(new StateMachine.Command(1, 1, 1000, create),
                        new StateMachine.Command(2, 1, 1001, bytes));
                List<byte[]> ra = a.apply(batch);
                List<byte[]> rb = b.apply(batch);
                assertEquals(2, ra.size(), "one result per command");
                assertArrayEquals(ra.get(1), rb.get(1), "replicas answer alike");
                assertArrayEquals(a.query(SqlOps.digest()), b.query(SqlOps.digest()), "replicas agree");
                return SqlResult.decode(ra.get(1));
            }
        }).corpus(requests()).generator(SqlDecoderFuzzTest::randomRequest)
                .allocationLimit(64L << 20).iterations(1_500).run();
    }

    /**
     * Found by {@code sql-apply} (seed 7447119850349938715): a write whose statement has fewer
     * placeholders than values made the driver throw ArrayIndexOutOfBoundsException out of apply,
     * which stops the node, and every replica applies the same entry. It is now a statement error,
     * the same on every replica, and the next command applies.
     */
    @Test
    void aWriteWithMoreValuesThanPlaceholdersIsAnErrorOnEveryReplicaNotAStoppedNode() {
        byte[] hostile = new SqlRequest.Execute(List.of(new SqlStatement("SELECT ?", List.of(1L, 2L)))).encode();
        try (SqlStateMachine a = new SqlStateMachine(); SqlStateMachine b = new SqlStateMachine()) {
            for (SqlStateMachine m : List.of(a, b)) {
                List<byte[]> results = m.apply(List.of(new StateMachine.Command(1, 1, 1000, requests().get(0)),
                        new StateMachine.Command(2, 1, 1001, hostile),
                        new StateMachine.Command(3, 1, 1002, requests().get(1))));
                SqlResult.Error error = (SqlResult.Error) SqlResult.decode(results.get(1));
                assertEquals(1, error.statement());
                org.junit.jupiter.api.Assertions.assertTrue(error.message().contains(
                        "1 parameter placeholder(s) but 2 values were given"), error.message());
                assertEquals(1L, SqlOps.ok(results.get(2)).last().changes(), "the next command applies");
            }
            assertArrayEquals(a.query(SqlOps.digest()), b.query(SqlOps.digest()), "replicas agree");
            SqlResult.Error read = (SqlResult.Error) SqlResult.decode(a.query(
                    new SqlRequest.Query(List.of(new SqlStatement("SELECT ?", List.of(1L, 2L)))).encode()));
            org.junit.jupiter.api.Assertions.assertTrue(read.message().contains("values were given"), read.message());
        }
    }

    static byte[] image(long index, byte[] database) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SqlImage.write(index, database, out);
        return out.toByteArray();
    }

    static byte[] sampleDatabase() throws IOException {
        try (SqlStateMachine m = new SqlStateMachine()) {
            List<StateMachine.Command> batch = new ArrayList<>();
            List<byte[]> reqs = requests();
            for (int i = 0; i < 3; i++) {
                batch.add(new StateMachine.Command(i + 1, 1, 1000 + i, reqs.get(i)));
            }
            m.apply(batch);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (StateMachine.Snapshot s = m.snapshot()) {
                s.writeTo(out);
            }
            return SqlImage.read(3, new ByteArrayInputStream(out.toByteArray()));
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    @Test
    void imageReaderReturnsTheDatabaseOrRefusesWithIOException() throws IOException {
        byte[] db = sampleDatabase();
        Fuzz.target("sql-snapshot-image", bytes -> SqlImage.read(3, new ByteArrayInputStream(bytes)))
                .corpus(List.of(image(3, db), image(3, new byte[0]), image(3, new byte[] {1, 2, 3})))
                .refusesWith(IOException.class)
                .allocationLimit(16L << 20)
                .iterations(30_000)
                .run();
    }

    /** A damaged database inside a well-formed image (right CRC) is refused before it replaces the state. */
    @Test
    void restoreOfADamagedDatabaseRefusesWithIOExceptionAndKeepsTheState() throws IOException {
        restoreDamagedDatabases(1_500, System::getProperty);
    }

    /**
     * Found by a 5 s run of {@code sql-restore-database} (seed -8876520624950631796): a page whose
     * every cell pointer is wrong made SQLite's integrity report list each cell, and the refusal
     * quoted all 5,753 characters. It now quotes at most three problems, cut to 500 characters.
     */
    @Test
    void aDatabaseWithHundredsOfDamagedCellsIsRefusedWithABoundedMessage() throws IOException {
        restoreDamagedDatabases(1, k -> k.equals(Fuzz.REPLAY) ? "-8876520624950631796" : null);
    }

    private static void restoreDamagedDatabases(int iterations, java.util.function.Function<String, String> settings)
            throws IOException {
        byte[] db = sampleDatabase();
        try (SqlStateMachine m = new SqlStateMachine()) {
            m.restore(3, new ByteArrayInputStream(image(3, db)));
            byte[] digest = m.query(SqlOps.digest());
            Fuzz.target("sql-restore-database", bytes -> {
                try {
                    m.restore(3, new ByteArrayInputStream(image(3, bytes)));
                } catch (IOException refused) {
                    assertArrayEquals(digest, m.query(SqlOps.digest()), "a refused image leaves the state as it was");
                    throw refused;
                }
                m.restore(3, new ByteArrayInputStream(image(3, db))); // back to the known state for the next input
                return bytes.length;
            }).corpus(List.of(db)).refusesWith(IOException.class).allocationLimit(64L << 20).iterations(iterations)
                    .properties(settings).run();
        }
    }

    static int crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(ByteBuffer.wrap(b));
        return (int) c.getValue();
    }
}
