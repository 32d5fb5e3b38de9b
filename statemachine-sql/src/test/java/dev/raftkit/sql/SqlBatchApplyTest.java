package dev.raftkit.sql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StateMachine.Command;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link SqlStateMachine#apply} runs a batch without a savepoint per entry and falls back to the
 * entry-by-entry run (a savepoint around each) when a statement fails or an entry is a backup
 * form. Whichever way a batch went, every answer and the database must be what the entry-by-entry
 * run gives: replicas batch differently, and one may take either way for the same entry.
 */
class SqlBatchApplyTest {

    @RegisterExtension
    final Machines machines = new Machines();
    private long index;

    private static byte[] write(String sql, Object... params) {
        return SqlOps.execute(SqlStatement.of(sql, params));
    }

    private List<Command> batch(List<byte[]> payloads) {
        List<Command> batch = new ArrayList<>();
        for (byte[] p : payloads) {
            index++;
            batch.add(new Command(index, 1, 1_700_000_000_000L + index, p));
        }
        return batch;
    }

    /** Applies {@code payloads} as one batch both ways; asserts the answers and states agree, returns them. */
    private List<SqlResult> both(SqlStateMachine batched, SqlStateMachine oneByOne, List<byte[]> payloads)
            throws SQLException {
        List<Command> batch = batch(payloads);
        List<byte[]> got = batched.apply(batch);
        List<byte[]> want = oneByOne.applyEntryByEntry(batch);
        List<SqlResult> results = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            assertArrayEquals(want.get(i), got.get(i), "entry " + batch.get(i).index() + ": "
                    + SqlResult.decode(got.get(i)) + " where the entry-by-entry run answers "
                    + SqlResult.decode(want.get(i)));
            results.add(SqlResult.decode(got.get(i)));
        }
        assertEquals(Replicas.digest(oneByOne), Replicas.digest(batched), "after entry " + index);
        assertEquals(oneByOne.lastApplied(), batched.lastApplied());
        return results;
    }

    @Test
    void aStatementThatFailsHalfwayKeepsNothingOfItsRequestAndItsNeighboursApply() throws SQLException {
        SqlStateMachine batched = machines.open();
        SqlStateMachine oneByOne = machines.open();
        both(batched, oneByOne, List.of(write("CREATE TABLE t (a INTEGER UNIQUE ON CONFLICT FAIL, b TEXT)")));
        // With FAIL the second row's conflict keeps the first row's insert: only the savepoint
        // around the entry undoes it, so this batch must take the entry-by-entry way.
        List<SqlResult> r = both(batched, oneByOne, List.of(
                write("INSERT INTO t VALUES (?, ?)", 1, "before"),
                write("INSERT INTO t VALUES (?, ?), (?, ?)", 2, "half", 1, "conflict"),
                write("INSERT INTO t VALUES (?, ?)", 3, "after")));
        assertInstanceOf(SqlResult.Ok.class, r.get(0));
        assertEquals(1, ((SqlResult.Error) r.get(1)).statement());
        assertInstanceOf(SqlResult.Ok.class, r.get(2));
        assertEquals(List.of(Arrays.asList(1L, "before"), Arrays.asList(3L, "after")),
                Replicas.select(batched, "SELECT a, b FROM t ORDER BY a").rows());
    }

    @Test
    void randomBatchesAnswerAsTheEntryByEntryRun() throws SQLException {
        long seed = Long.getLong("raftkit.sql.batch.seed", 20261207L);
        Random rnd = new Random(seed);
        SqlStateMachine batched = machines.open();
        SqlStateMachine oneByOne = machines.open();
        both(batched, oneByOne, List.of(write("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)"),
                write("CREATE TABLE f (a INTEGER UNIQUE ON CONFLICT FAIL)"),
                write("CREATE TRIGGER t_log AFTER INSERT ON t BEGIN INSERT INTO f VALUES (NEW.a + 1000); END")));
        int fellBack = 0;
        for (int b = 0; b < 300; b++) {
            List<byte[]> payloads = new ArrayList<>();
            for (int i = 0, n = 1 + rnd.nextInt(8); i < n; i++) {
                // Mostly writes that succeed, so both ways are taken often.
                int key = rnd.nextInt(400);
                payloads.add(switch (rnd.nextInt(14)) {
                    case 0 -> write("INSERT INTO t VALUES (?, ?)", key, "dup?"); // PRIMARY KEY: ABORT on a repeat
                    case 1 -> write("INSERT INTO f VALUES (?), (?)", key + 5000, key); // FAIL halfway on a repeat
                    case 2 -> write("UPDATE t SET b = ? WHERE a = ?", "u", key);
                    case 3 -> write("DELETE FROM t WHERE a = ? RETURNING *", key);
                    case 4 -> write("INSERT INTO nowhere VALUES (?)", key); // no such table
                    case 5 -> write("INSERT INTO t VALUES (?)", key, key); // too many values
                    case 6 -> write("BACKUP TABLE t TO 'b" + key + "'");
                    case 7 -> write("SHOW BACKUPS");
                    case 8 -> write("BACKUP DATABASE TO 'whole" + key + "'");
                    case 9 -> new byte[] {'Q', 1, 9}; // not a request
                    case 10 -> SqlOps.execute(SqlStatement.of("INSERT INTO t VALUES (?, 'a')", 100_000 + index + i),
                            SqlStatement.of("INSERT INTO t VALUES (?, 'b')", key)); // second may repeat
                    default -> write("INSERT INTO t VALUES (?, ?)", 10_000 + index + i, "new");
                });
            }
            List<SqlResult> results = both(batched, oneByOne, payloads);
            if (results.stream().anyMatch(SqlResult.Error.class::isInstance)) {
                fellBack++;
            }
        }
        assertTrue(fellBack > 30 && fellBack < 270, "both ways taken (seed " + seed + "): " + fellBack
                + " of 300 batches had a failing entry");
    }
}
