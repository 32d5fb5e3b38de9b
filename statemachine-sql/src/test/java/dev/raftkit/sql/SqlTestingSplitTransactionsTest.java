package dev.raftkit.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.spi.StateMachine;
import dev.raftkit.spi.StateMachine.Command;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The TESTING ONLY planted isolation bug ({@link SqlStateMachine#testingOnlySplitTransactions}):
 * a request's last write runs after the next request, on every replica alike; off by default.
 */
class SqlTestingSplitTransactionsTest {

    private static final String CREATE = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER)";

    private static SqlResult apply(StateMachine sm, long index, String... statements) {
        SqlStatement[] s = new SqlStatement[statements.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = SqlStatement.of(statements[i]);
        }
        return SqlOps.decode(sm.apply(List.of(new Command(index, 1, 0, SqlOps.execute(s)))).get(0));
    }

    private static List<List<Object>> rows(StateMachine sm, long index) {
        return ((SqlResult.Ok) apply(sm, index, "SELECT k, v FROM t ORDER BY k")).last().rows();
    }

    @Test
    void theLastWriteOfARequestRunsAfterTheNextRequestAndSurvivesASnapshot() throws Exception {
        try (SqlStateMachine buggy = SqlStateMachine.testingOnlySplitTransactions(null, null);
             SqlStateMachine restored = SqlStateMachine.testingOnlySplitTransactions(null, null)) {
            SqlResult.Ok first = (SqlResult.Ok) apply(buggy, 1, CREATE, "INSERT INTO t VALUES ('a', 1)",
                    "INSERT INTO t VALUES ('b', 2)");
            assertEquals(1, first.last().changes()); // answered as if it had run
            ByteArrayOutputStream image = new ByteArrayOutputStream();
            try (StateMachine.Snapshot s = buggy.snapshot()) {
                s.writeTo(image);
            }
            restored.restore(1, new ByteArrayInputStream(image.toByteArray()));
            // The next request sees the first one's writes only in part; the held-back write runs after it.
            assertEquals(List.of(List.of("a", 1L)), rows(buggy, 2));
            assertEquals(List.of(List.of("a", 1L)), rows(restored, 2));
            assertEquals(List.of(List.of("a", 1L), List.of("b", 2L)), rows(buggy, 3));
            assertEquals(List.of(List.of("a", 1L), List.of("b", 2L)), rows(restored, 3));
        }
    }

    @Test
    void aDefaultStateMachineRunsTheWholeRequestAtOnce() {
        try (SqlStateMachine sm = new SqlStateMachine()) {
            apply(sm, 1, CREATE, "INSERT INTO t VALUES ('a', 1)", "INSERT INTO t VALUES ('b', 2)");
            assertEquals(List.of(List.of("a", 1L), List.of("b", 2L)), rows(sm, 2));
        }
    }
}
