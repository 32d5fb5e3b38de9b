package dev.raftkit.jepsen.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.Operation;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** An undecided search is a failure, never a pass. */
class BudgetTest {

    /**
     * {@code n} writes of distinct values, all concurrent, then a read of the first one: valid
     * (the first write can land last), but depth-first search explores many orders of the other
     * writes before it finds that — the memo holds (subset, last value) pairs, up to n·2^(n-1).
     */
    private static History manyConcurrentWrites(int n) {
        History.Builder b = History.builder();
        for (int i = 0; i < n; i++) {
            b.write(i, "x", "v" + i, 0, 100);
        }
        return b.read(n, "x", "v0", 200, 210).build();
    }

    @Test
    void validHistoryWithTooSmallAStateBudget_isBudgetExceeded_notAPass() {
        History h = manyConcurrentWrites(14);
        CheckResult<Operation> r = LinearizabilityChecker.check(h, Budget.of(Duration.ofMinutes(1), 100));
        assertEquals(Verdict.BUDGET_EXCEEDED, r.verdict(), r::toString);
        assertFalse(r.isValid());
        KeyResult<Operation> k = r.keys().get("x");
        assertTrue(k.budgetNote().orElseThrow().contains("explored more than 100 states"), k::toString);
        assertEquals(101, k.exploredStates());
    }

    @Test
    void sameHistoryWithEnoughBudget_isLinearizable() {
        // The same search with room to finish: shows the budget, not the history, caused the above.
        CheckResult<Operation> r = LinearizabilityChecker.check(manyConcurrentWrites(14),
                Budget.of(Duration.ofMinutes(1), 10_000_000));
        assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::toString);
    }

    @Test
    void timeLimitReached_isBudgetExceeded_notAPass() {
        // Indeterminate writes and an unreachable read: the search must exhaust every subset of
        // 22 writes (millions of configurations) before it could say "not linearizable".
        History.Builder b = History.builder();
        for (int i = 0; i < 22; i++) {
            b.info(i, Command.write("x", "v" + i), 0);
        }
        b.read(99, "x", "never-written", 200, 210);
        CheckResult<Operation> r = LinearizabilityChecker.check(b.build(),
                Budget.of(Duration.ofMillis(1), Long.MAX_VALUE));
        assertEquals(Verdict.BUDGET_EXCEEDED, r.verdict(), r::toString);
        assertFalse(r.isValid());
        assertTrue(r.keys().get("x").budgetNote().orElseThrow().startsWith("time limit reached"));
    }

    @Test
    void aProvenViolationOutranksAnUnfinishedKey() {
        History.Builder b = History.builder();
        for (Operation o : manyConcurrentWrites(14).operations()) {
            b.add(o);
        }
        b.write(1, "y", "1", 0, 10).read(2, "y", "0", 20, 30);
        CheckResult<Operation> r = LinearizabilityChecker.check(b.build(), Budget.of(Duration.ofMinutes(1), 100));
        assertEquals(Verdict.BUDGET_EXCEEDED, r.keys().get("x").verdict());
        assertEquals(Verdict.NOT_LINEARIZABLE, r.keys().get("y").verdict());
        assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict());
    }
}
