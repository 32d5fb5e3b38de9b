package dev.raftkit.jepsen.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.Operation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Keys checked on several threads give the result one thread gives, whatever the timing. */
class ParallelKeysTest {

    private static final Budget BUDGET = Budget.of(Duration.ofMinutes(1), 10_000_000);
    private static final List<Integer> BAD = List.of(7, 15, 30);

    /**
     * 40 keys: most small, a few slow (12 concurrent writes of distinct values), and three not
     * linearizable (an acknowledged write a later read does not see) — one right after a slow key,
     * so that thread timing varies which finishes first.
     */
    private static History manyKeys() {
        History.Builder b = History.builder();
        for (int k = 0; k < 40; k++) {
            String key = "k" + k;
            long t = 0;
            if (k % 6 == 0 || k == 29) {
                for (int i = 0; i < 12; i++) {
                    b.write(i, key, "v" + i, t, t + 100);
                }
                b.read(20, key, "v0", t + 200, t + 210);
            }
            for (int i = 0; i < 5; i++, t += 1000) {
                b.write(1, key, key + "-" + i, t, t + 10);
                b.read(2, key, BAD.contains(k) && i == 3 ? key + "-" + (i - 1) : key + "-" + i, t + 20, t + 30);
            }
        }
        return b.build();
    }

    private static List<String> summary(CheckResult<Operation> r) {
        List<String> out = new ArrayList<>();
        for (KeyResult<Operation> k : r.keys().values()) {
            out.add(k.key() + ":" + k.verdict() + ":" + k.exploredStates() + ":" + k.explanation().map(Object::toString));
        }
        return out;
    }

    @Test
    void everyKey_sameResultsOnOneThreadAndOnFour() {
        History h = manyKeys();
        CheckResult<Operation> one = LinearizabilityChecker.check(h,
                CheckOptions.of(BUDGET).withParallelism(1));
        CheckResult<Operation> four = LinearizabilityChecker.check(h,
                CheckOptions.of(BUDGET).withParallelism(4));
        assertEquals(Verdict.NOT_LINEARIZABLE, one.verdict());
        assertEquals(40, one.keys().size());
        assertEquals(List.of("k7", "k15", "k30"),
                one.keysWith(Verdict.NOT_LINEARIZABLE).stream().map(KeyResult::key).toList());
        assertEquals(summary(one), summary(four));
        assertEquals(0, four.keysNotChecked());
    }

    @Test
    void stopAtFirstViolation_alwaysNamesTheSameFirstKey_andDecidesEveryKeyBeforeIt() {
        History h = manyKeys();
        CheckResult<Operation> sequential = LinearizabilityChecker.check(h,
                CheckOptions.of(BUDGET).withParallelism(1).stoppingAtFirstViolation());
        assertEquals("k7", sequential.firstViolation().orElseThrow().key());
        assertEquals(8, sequential.keys().size());
        assertEquals(32, sequential.keysNotChecked());
        for (int run = 0; run < 10; run++) {
            CheckResult<Operation> parallel = LinearizabilityChecker.check(h,
                    CheckOptions.of(BUDGET).withParallelism(4).stoppingAtFirstViolation());
            assertEquals(summary(sequential), summary(parallel), "run " + run);
            assertEquals(32, parallel.keysNotChecked());
            assertEquals(Verdict.NOT_LINEARIZABLE, parallel.verdict());
        }
    }

    @Test
    void aModelThatThrows_failsTheCheckOnTheCallersThread() {
        IllegalStateException boom = new IllegalStateException("model bug");
        Model<String, Operation> broken = new Model<>() {
            @Override
            public String init() {
                return "";
            }

            @Override
            public Optional<String> step(String state, Operation op) {
                if (op.key().equals("k13")) {
                    throw boom;
                }
                return Optional.of(state);
            }
        };
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> LinearizabilityChecker.check(manyKeys(), broken, CheckOptions.of(BUDGET).withParallelism(3)));
        assertSame(boom, thrown);
    }
}
