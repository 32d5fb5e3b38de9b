package dev.raftkit.sql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StateMachine.Command;
import dev.raftkit.spi.StateMachine.Snapshot;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the apply thread keeps between entries — prepared statements ({@link PreparedStatements})
 * and checked statement texts ({@link SqlValidator.Cache}) — changes no answer: a replica that
 * kept them answers every entry byte for byte as one that prepares and checks it afresh (a node
 * just restarted or restored from a snapshot).
 */
class SqlApplyCachesTest {

    @RegisterExtension
    final Machines machines = new Machines();

    private static byte[] write(String sql, Object... params) {
        return SqlOps.execute(SqlStatement.of(sql, params));
    }

    @Test
    void aKeptWriteAnswersAsAFreshOneAcrossFailuresSchemaChangesAndMissingValues() throws Exception {
        String insert = "INSERT INTO t (a, b) VALUES (?, ?)";
        List<byte[]> log = List.of(
                write("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)"),
                write(insert, 1, "x"),
                write(insert, 1, "duplicate"), // fails: the kept statement is dropped
                write(insert, 2, "y"),
                write("INSERT INTO t VALUES (?, ?)", 3, "z"),
                write(insert + " RETURNING *", 50, "before the new column"),
                write("ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'd'"),
                write("INSERT INTO t VALUES (?, ?)", 4, "w"), // now one value short: fails, kept or not
                write(insert, 5), // fewer values than placeholders: b is NULL, not the last entry's value
                write(insert + " RETURNING *", 6, "r"), // answers the new schema's columns
                write(insert + " RETURNING *", 7, "s"),
                write("DROP TABLE t; CREATE TABLE t (a INTEGER PRIMARY KEY, b BLOB, e INT DEFAULT 7)"),
                write(insert, 8, "q"),
                write("UPDATE t SET e = e + ? WHERE a = ?", 1, 8),
                write("UPDATE t SET e = e + ? WHERE a = ?", 1, 99),
                write("DELETE FROM t WHERE a = ?", 8),
                write(insert, 9, "after everything"));
        SqlStateMachine kept = machines.open();
        List<SqlResult> results = new ArrayList<>();
        for (int i = 0; i < log.size(); i++) {
            Command c = new Command(i + 1, 1, 1_700_000_000_000L + i, log.get(i));
            // The same entry on a replica restored from a snapshot of the state just before it: it
            // prepares and checks everything afresh.
            SqlStateMachine fresh = machines.open();
            if (i > 0) {
                Snapshot s = kept.snapshot();
                ByteArrayOutputStream image = new ByteArrayOutputStream();
                s.writeTo(image);
                fresh.restore(i, new ByteArrayInputStream(image.toByteArray()));
            }
            byte[] keptAnswer = kept.apply(List.of(c)).get(0);
            byte[] freshAnswer = fresh.apply(List.of(c)).get(0);
            assertArrayEquals(freshAnswer, keptAnswer, "entry " + (i + 1) + ": " + SqlResult.decode(keptAnswer));
            assertEquals(Replicas.digest(fresh), Replicas.digest(kept), "entry " + (i + 1));
            results.add(SqlResult.decode(keptAnswer));
        }
        assertInstanceOf(SqlResult.Error.class, results.get(2));
        assertInstanceOf(SqlResult.Ok.class, results.get(3));
        assertInstanceOf(SqlResult.Error.class, results.get(7));
        SqlResult.Rows returning = SqlOps.ok(results.get(9).encode()).last();
        assertEquals(List.of("a", "b", "c"), returning.columns().stream().map(SqlResult.Column::name).toList());
        assertEquals(List.of(Arrays.asList(6L, "r", "d")), returning.rows());
        assertEquals(1, SqlOps.ok(results.get(13).encode()).last().changes());
        assertEquals(0, SqlOps.ok(results.get(14).encode()).last().changes());
        assertEquals(List.of(Arrays.asList(9L, "after everything", 7L)),
                Replicas.select(kept, "SELECT a, b, e FROM t").rows());
    }

    @Test
    void keptStatementsAreBoundedAndAFailedOneIsDropped() throws SQLException {
        try (Connection conn = SqlStateMachine.inMemory(); PreparedStatements statements = new PreparedStatements(conn)) {
            statements.execute("CREATE TABLE t (a INTEGER PRIMARY KEY)");
            int texts = PreparedStatements.MAX_STATEMENTS + 50;
            for (int i = 0; i < texts; i++) {
                statements.execute("INSERT INTO t VALUES (" + i + ")");
            }
            assertEquals(PreparedStatements.MAX_STATEMENTS, statements.size());
            statements.execute("DELETE FROM t WHERE a = 0");
            statements.execute("INSERT INTO t VALUES (0)"); // closed when it left the cache: prepared again
            int size = statements.size();
            assertThrows(SQLException.class, () -> statements.execute("INSERT INTO t VALUES (0)"));
            assertEquals(size - 1, statements.size(), "the statement that failed is not kept");
            statements.execute("DELETE FROM t WHERE a = 0");
            statements.execute("INSERT INTO t VALUES (0)");
            try (Statement s = conn.createStatement(); ResultSet r = s.executeQuery("SELECT count(*) FROM t")) {
                r.next();
                assertEquals(texts, r.getInt(1));
            }
        }
    }

    @Test
    void aCachedCheckAnswersAsAFreshOneWhereverTheTextSitsInTheRequest() {
        List<List<SqlStatement>> requests = List.of(
                List.of(SqlStatement.of("INSERT INTO t VALUES (?)", 1)),
                List.of(SqlStatement.of("CREATE TABLE u (x); INSERT INTO u VALUES (1)")),
                // The same texts again, each now second in its request: numbered 2 (and 3).
                List.of(SqlStatement.of("SELECT 1"), SqlStatement.of("INSERT INTO t VALUES (?)", 2)),
                List.of(SqlStatement.of("SELECT 1"), SqlStatement.of("CREATE TABLE u (x); INSERT INTO u VALUES (1)")),
                // A text that passed without parameters is still refused with them.
                List.of(SqlStatement.of("CREATE TABLE u (x); INSERT INTO u VALUES (1)", 7)),
                // Refused texts are refused alike, with the same statement number, every time.
                List.of(SqlStatement.of("SELECT 1"), SqlStatement.of("INSERT INTO t VALUES (CURRENT_TIMESTAMP)")),
                List.of(SqlStatement.of("INSERT INTO t VALUES (CURRENT_TIMESTAMP)")),
                List.of(SqlStatement.of("BACKUP TABLE t TO 'b'")),
                List.of(SqlStatement.of("BACKUP TABLE t TO 'b'", 1)),
                List.of(SqlStatement.of("SELECT 1"), SqlStatement.of("BACKUP DATABASE TO 'whole'")),
                List.of(SqlStatement.of("   ")));
        SqlValidator.Cache cache = new SqlValidator.Cache();
        for (int round = 0; round < 2; round++) {
            for (List<SqlStatement> request : requests) {
                for (boolean write : new boolean[] {true, false}) {
                    assertEquals(outcome(() -> SqlValidator.check(request, write)),
                            outcome(() -> SqlValidator.check(request, write, cache)), request + " write=" + write);
                }
            }
        }
        assertTrue(cache.size() > 0);
    }

    private static String outcome(java.util.function.Supplier<List<SqlValidator.Checked>> check) {
        try {
            return check.get().toString();
        } catch (SqlRefusedException e) {
            return "refused: " + e.getMessage();
        }
    }
}
