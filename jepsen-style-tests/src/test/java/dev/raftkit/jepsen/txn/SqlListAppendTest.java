package dev.raftkit.jepsen.txn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.spi.StateMachine.Command;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStateMachine;
import dev.raftkit.sql.SqlStatement;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SQL list-append codec against a real {@link SqlStateMachine}. */
class SqlListAppendTest {

    private long index;

    private SqlListAppend.Completion run(SqlStateMachine sm, List<Mop> mops) {
        index++;
        byte[] result = sm.apply(List.of(new Command(index, 1, 1_000L, SqlListAppend.encode(mops)))).get(0);
        return SqlListAppend.complete(mops, result);
    }

    @Test
    void appendsAndReadsComeBackInOrderWithinAndAcrossTransactions() {
        try (SqlStateMachine sm = new SqlStateMachine()) {
            SqlListAppend.Completion first = run(sm, List.of(new Mop.Read("x", null), Mop.append("x", 1),
                    Mop.append("y", 10), new Mop.Read("x", null), Mop.append("x", 2), new Mop.Read("x", null)));
            assertTrue(first.committed(), first.toString());
            assertEquals(1, first.index());
            assertEquals(List.of(Mop.read("x"), Mop.append("x", 1), Mop.append("y", 10), Mop.read("x", 1),
                    Mop.append("x", 2), Mop.read("x", 1, 2)), first.mops());

            SqlListAppend.Completion second = run(sm, List.of(Mop.append("x", 3), new Mop.Read("x", null),
                    new Mop.Read("y", null), new Mop.Read("z", null)));
            assertEquals(List.of(Mop.append("x", 3), Mop.read("x", 1, 2, 3), Mop.read("y", 10), Mop.read("z")),
                    second.mops());
        }
    }

    @Test
    void aFailedTransactionAppliesNothingAndIsReportedFailed() {
        try (SqlStateMachine sm = new SqlStateMachine()) {
            run(sm, List.of(Mop.append("x", 1)));
            // An error result: here a request whose statement breaks a constraint of another table.
            index++;
            byte[] bad = SqlOps.execute(SqlStatement.of(SqlListAppend.SCHEMA),
                    SqlStatement.of("INSERT INTO " + SqlListAppend.TABLE
                            + " (k, seq, v) VALUES ('x', 2, 2)"),
                    SqlStatement.of("INSERT INTO " + SqlListAppend.TABLE
                            + " (k, seq, v) VALUES ('x', 1, 3)"));
            SqlResult r = SqlResult.decode(sm.apply(List.of(new Command(index, 1, 1_000L, bad))).get(0));
            SqlListAppend.Completion failed = SqlListAppend.complete(List.of(Mop.append("x", 2), Mop.append("x", 3)), r);
            assertFalse(failed.committed());
            assertTrue(failed.error().contains("statement 3"), failed.error());
            // All or nothing: the first insert of the failed entry is gone too.
            assertEquals(List.of(Mop.read("x", 1)), run(sm, List.of(new Mop.Read("x", null))).mops());
        }
    }

    @Test
    void theListsSurviveASnapshotAndRestore() throws Exception {
        try (SqlStateMachine sm = new SqlStateMachine(); SqlStateMachine other = new SqlStateMachine()) {
            run(sm, List.of(Mop.append("x", 1), Mop.append("x", 2)));
            ByteArrayOutputStream image = new ByteArrayOutputStream();
            try (StateMachine.Snapshot s = sm.snapshot()) {
                s.writeTo(image);
            }
            other.restore(index, new ByteArrayInputStream(image.toByteArray()));
            index++;
            List<Mop> mops = List.of(Mop.append("x", 3), new Mop.Read("x", null));
            SqlListAppend.Completion c = SqlListAppend.complete(mops,
                    other.apply(List.of(new Command(index, 1, 1_000L, SqlListAppend.encode(mops)))).get(0));
            assertEquals(Mop.read("x", 1, 2, 3), c.mops().get(1));
        }
    }

    @Test
    void aRecordedHistoryOfSqlTransactionsChecksValid() {
        try (SqlStateMachine sm = new SqlStateMachine()) {
            TxnRecorder rec = new TxnRecorder(() -> index);
            long value = 0;
            for (int t = 0; t < 60; t++) {
                String key = "k" + (t % 4);
                List<Mop> mops = List.of(new Mop.Read(key, null), Mop.append(key, ++value),
                        Mop.append("k" + ((t + 1) % 4), ++value), new Mop.Read(key, null));
                int h = rec.invoke(t % 3, mops);
                SqlListAppend.Completion c = run(sm, mops);
                rec.ok(h, c.mops());
            }
            TxnResult result = TxnChecker.check(rec.history());
            assertTrue(result.valid(), result.text());
            assertEquals(60, result.committed());
            assertEquals(OpStatus.OK, rec.history().txns().get(0).status());
        }
    }

    @Test
    void registerOperationsAndMisshapenResultsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SqlListAppend.request(List.of(Mop.write("x", 1))));
        assertTrue(e.getMessage().contains("Mop.Append"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SqlListAppend.request(List.of()));
        SqlResult.Ok wrongShape = new SqlResult.Ok(7, List.of());
        e = assertThrows(IllegalArgumentException.class,
                () -> SqlListAppend.complete(List.of(Mop.append("x", 1)), wrongShape));
        assertTrue(e.getMessage().contains("index 7"), e.getMessage());
    }
}
