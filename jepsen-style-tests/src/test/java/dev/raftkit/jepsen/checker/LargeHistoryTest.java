package dev.raftkit.jepsen.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.Operation;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Size and speed: the checker must decide realistic run-sized histories well inside its budget. */
class LargeHistoryTest {

    private static final Budget BUDGET = Budget.of(Duration.ofSeconds(20), 5_000_000);

    @Test
    void tenThousandOpsOverTenKeysAndTenClients_isLinearizable() {
        History h = LinearizableHistories.generate(
                new LinearizableHistories.Shape(10_000, 10, 10, 40, 5, 5), 42);
        CheckResult<Operation> r = LinearizabilityChecker.check(h, BUDGET);
        System.out.println("10k ops / 10 keys / 10 clients: " + r);
        assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::toString);
    }

    @Test
    void tenThousandOpsOverTenKeys_oneCorruptedRead_isRejected() {
        History h = LinearizableHistories.generate(
                new LinearizableHistories.Shape(10_000, 10, 10, 40, 5, 5), 43);
        var reads = LinearizableHistories.okReads(h);
        History bad = LinearizableHistories.withUnwrittenRead(h, reads.get(reads.size() / 2));
        CheckResult<Operation> r = LinearizabilityChecker.check(bad, BUDGET);
        System.out.println("10k ops, one corrupted read: " + r);
        assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict(), r::toString);
        assertEquals(1, r.keysWith(Verdict.NOT_LINEARIZABLE).size());
    }

    @Test
    void hundredThousandOpsOnOneKey_noStackOverflow() {
        History h = LinearizableHistories.generate(
                new LinearizableHistories.Shape(100_000, 1, 5, 20, 0, 2), 44);
        CheckResult<Operation> r = LinearizabilityChecker.check(h, BUDGET);
        System.out.println("100k ops / 1 key / 5 clients: " + r);
        assertEquals(Verdict.LINEARIZABLE, r.verdict(), r::toString);
    }
}
