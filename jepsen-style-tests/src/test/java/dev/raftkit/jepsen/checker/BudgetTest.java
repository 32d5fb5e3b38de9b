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

    /**
     * {@link #manyConcurrentWrites} of 8 and, while they run, 12 writes that time out: finding the order in
     * which the first of the 8 lands last takes up to 8·2^7 configurations, and with the timed-out
     * writes placed in every subset before each of them, 2^12 times as many. But no read returned
     * a timed-out write, so the history linearizes without them (each may never have taken
     * effect), within the first count. A read that does return one, or one that nothing could
     * have written, still needs them all searched, and gets it.
     */
    @Test
    void timedOutWritesNoReadReturned_doNotMultiplyTheSearch() {
        History.Builder b = History.builder();
        for (int i = 0; i < 12; i++) {
            b.info(100 + i, Command.write("x", "lost" + i), 50); // while the 8 run
        }
        manyConcurrentWrites(8).operations().forEach(b::add);
        History settled = b.build();
        CheckResult<Operation> r = LinearizabilityChecker.check(settled, Budget.of(Duration.ofMinutes(1), 2000));
        assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::toString);
        assertEquals(21, r.keys().get("x").operations(), "the timed-out writes count as checked");

        History.Builder small = History.builder();
        for (int i = 0; i < 4; i++) {
            small.info(100 + i, Command.write("x", "lost" + i), 50);
        }
        manyConcurrentWrites(3).operations().forEach(small::add);
        History fewer = small.build();
        assertEquals(Verdict.LINEARIZABLE, LinearizabilityChecker.check(copy(fewer).read(999, "x", "lost2", 300, 310)
                .build()).verdict(), "lost2 may land after v0");
        History impossible = copy(fewer).read(999, "x", "never-written", 300, 310).build();
        assertEquals(Verdict.NOT_LINEARIZABLE, LinearizabilityChecker.check(impossible,
                Budget.of(Duration.ofMinutes(1), 10_000_000)).verdict());
    }

    private static History.Builder copy(History h) {
        History.Builder b = History.builder();
        h.operations().forEach(b::add);
        return b;
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

    @Test
    void tinyMemoryBudgetOnAHardHistory_isBudgetExceededWithWhatItSpent_notAnOutOfMemoryError() {
        // 20 concurrent writes: up to 20·2^19 (10 million) configurations, ~340 MB of memo.
        long limit = 256 * 1024;
        CheckResult<Operation> r = LinearizabilityChecker.check(manyConcurrentWrites(20),
                Budget.of(Duration.ofMinutes(1), Long.MAX_VALUE, limit));
        assertEquals(Verdict.BUDGET_EXCEEDED, r.verdict(), r::toString);
        KeyResult<Operation> k = r.keys().get("x");
        String note = k.budgetNote().orElseThrow();
        assertTrue(note.startsWith("memory budget of 262144 bytes reached: growing the memo would take it to "), note);
        assertTrue(note.matches(".*; \\d+ states, ~\\d+ bytes at most, \\d+ ms; linearized \\d+ of 21 ops.*"), note);
        assertTrue(k.estimatedBytes() > 0 && k.estimatedBytes() <= limit, k::toString);
        assertTrue(k.exploredStates() > 1000, k::toString);
        assertTrue(r.toString().contains("memory budget"), r::toString);
    }

    @Test
    void modelStatesCountAgainstTheMemoryBudget() {
        // Indeterminate appends: every subset in every order is a different list — a state each.
        AppendListModel model = new AppendListModel();
        var b = dev.raftkit.jepsen.history.TypedHistory.builder(AppendListModel.TYPE);
        for (int i = 0; i < 12; i++) {
            b.info(i, new AppendListModel.Append("l", i), 0);
        }
        b.ok(99, new AppendListModel.ReadList("l"), java.util.List.of(-1L), 10, 20);
        var r = LinearizabilityChecker.check(b.build(), model,
                CheckOptions.of(Budget.of(Duration.ofMinutes(1), Long.MAX_VALUE, 1 << 20)));
        assertEquals(Verdict.BUDGET_EXCEEDED, r.verdict(), r::toString);
        String note = r.keys().get("l").budgetNote().orElseThrow();
        assertTrue(note.startsWith("memory budget of 1048576 bytes reached"), note);
        assertTrue(r.keys().get("l").estimatedBytes() <= 1 << 20, r::toString);
    }

    @Test
    void aKeyWhoseOperationsAloneExceedTheBudget_isNotSearchedAtAll() {
        History.Builder b = History.builder();
        for (int i = 0; i < 100; i++) {
            b.write(1, "x", "v" + i, 10L * i, 10L * i + 5);
        }
        CheckResult<Operation> r = LinearizabilityChecker.check(b.build(), Budget.of(Duration.ofMinutes(1), 10, 1000));
        assertEquals(Verdict.BUDGET_EXCEEDED, r.verdict());
        assertTrue(r.keys().get("x").budgetNote().orElseThrow().startsWith("its 100 operations alone need "),
                r::toString);
        assertEquals(0, r.keys().get("x").exploredStates());
    }
}
