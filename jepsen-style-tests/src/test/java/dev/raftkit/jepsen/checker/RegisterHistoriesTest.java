package dev.raftkit.jepsen.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.Operation;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Hand-written histories with known answers (time runs left to right; [a, b] is invoke..complete).
 * The rejections are the point: a checker that accepts everything passes every accept test.
 */
class RegisterHistoriesTest {

    private static CheckResult<Operation> check(History h) {
        return LinearizabilityChecker.check(h);
    }

    private static void assertRejected(History h) {
        CheckResult<Operation> r = check(h);
        assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict(), () -> "must reject:\n" + h + "\n" + r);
        assertFalse(r.isValid());
    }

    private static void assertAccepted(History h) {
        CheckResult<Operation> r = check(h);
        assertEquals(Verdict.LINEARIZABLE, r.verdict(), () -> "must accept:\n" + h + "\n" + r);
        assertTrue(r.isValid());
    }

    @Nested
    class MustReject {

        @Test
        void staleRead_olderValueAfterNewerWriteCompleted() {
            assertRejected(History.builder()
                    .write(1, "x", "1", 0, 10)
                    .write(1, "x", "2", 20, 30)
                    .read(2, "x", "1", 40, 50)
                    .build());
        }

        @Test
        void lostAcknowledgedWrite_laterReadsSeeOnlyTheOlderValue() {
            assertRejected(History.builder()
                    .write(1, "x", "1", 0, 10)
                    .write(2, "x", "2", 20, 30)
                    .read(3, "x", "1", 40, 50)
                    .read(1, "x", "1", 60, 70)
                    .build());
        }

        @Test
        void lostAcknowledgedWrite_keyReadAsAbsent() {
            assertRejected(History.builder()
                    .write(1, "x", "1", 0, 10)
                    .read(2, "x", null, 20, 30)
                    .build());
        }

        @Test
        void readOfAValueNeverWritten() {
            assertRejected(History.builder()
                    .write(1, "x", "1", 0, 10)
                    .info(3, Command.write("x", "2"), 5)
                    .read(2, "x", "3", 20, 30)
                    .build());
        }

        @Test
        void casSucceedsTwiceFromTheSameExpectedValue() {
            assertRejected(History.builder()
                    .write(1, "x", "0", 0, 10)
                    .cas(2, "x", "0", "1", true, 20, 40)
                    .cas(3, "x", "0", "2", true, 25, 45)
                    .build());
        }

        @Test
        void readReturnsValueOfAWriteInvokedOnlyAfterTheReadCompleted() {
            assertRejected(History.builder()
                    .read(1, "x", "1", 0, 10)
                    .write(2, "x", "1", 11, 20)
                    .build());
        }

        @Test
        void readSeesAnIndeterminateWriteBeforeItWasInvoked() {
            assertRejected(History.builder()
                    .read(1, "x", "1", 0, 10)
                    .info(2, Command.write("x", "1"), 11)
                    .build());
        }

        @Test
        void compareFailedCas_isAReadOfNotExpected() {
            // The register definitely holds 0 throughout, so a CAS that found "not 0" is a lie.
            assertRejected(History.builder()
                    .write(1, "x", "0", 0, 10)
                    .cas(2, "x", "0", "1", false, 20, 30)
                    .build());
        }

        @Test
        void failedWriteIsSeen() {
            assertRejected(History.builder()
                    .fail(1, Command.write("x", "1"), 0, 10)
                    .read(2, "x", "1", 20, 30)
                    .build());
        }

        @Test
        void failedCasIsSeen() {
            assertRejected(History.builder()
                    .fail(1, Command.cas("x", null, "1"), 0, 10)
                    .read(2, "x", "1", 20, 30)
                    .build());
        }

        @Test
        void valueFlipsBackWithoutAWrite() {
            // Two concurrent writes may land in either order, but all readers must agree on it.
            assertRejected(History.builder()
                    .write(1, "x", "1", 0, 10)
                    .write(2, "x", "2", 0, 10)
                    .read(3, "x", "2", 20, 30)
                    .read(3, "x", "1", 40, 50)
                    .build());
        }

        @Test
        void indeterminateWriteTakesEffectOnlyOnce() {
            assertRejected(History.builder()
                    .info(1, Command.write("x", "1"), 0)
                    .read(2, "x", "1", 10, 20)
                    .write(3, "x", "2", 30, 40)
                    .read(2, "x", "1", 50, 60)
                    .build());
        }

        @Test
        void oneBadKeyFailsTheHistory_otherKeysStillReported() {
            CheckResult<Operation> r = check(History.builder()
                    .write(1, "good", "1", 0, 10)
                    .read(2, "good", "1", 20, 30)
                    .write(1, "bad", "1", 0, 10)
                    .read(2, "bad", null, 20, 30)
                    .build());
            assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict());
            assertEquals(Verdict.LINEARIZABLE, r.keys().get("good").verdict());
            assertEquals(Verdict.NOT_LINEARIZABLE, r.keys().get("bad").verdict());
            assertEquals(4, r.operations());
        }

        @Test
        void explanationNamesTheStaleReadAndTheLongestPrefix() {
            History h = History.builder()
                    .write(1, "x", "1", 0, 10)
                    .write(1, "x", "2", 20, 30)
                    .read(2, "x", "1", 40, 50)
                    .build();
            KeyResult<Operation> k = check(h).keys().get("x");
            Explanation<Operation> e = k.explanation().orElseThrow();
            assertEquals(h.operations().get(2), e.stuck());
            assertEquals(2, e.prefixLength());
            assertEquals(h.operations().subList(0, 2), e.prefixTail());
            assertEquals("2", e.stateAfterPrefix());
            assertTrue(k.toString().contains("cannot linearize: #2 p2 read(x) ok 1"), k::toString);
        }
    }

    @Nested
    class MustAccept {

        @Test
        void emptyHistory() {
            CheckResult<Operation> r = check(History.builder().build());
            assertEquals(Verdict.LINEARIZABLE, r.verdict());
            assertEquals(0, r.operations());
        }

        @Test
        void readOfAbsentKey() {
            assertAccepted(History.builder().read(1, "x", null, 0, 10).build());
        }

        @Test
        void concurrentWriteAndRead_readBefore() {
            assertAccepted(History.builder()
                    .write(1, "x", "1", 0, 10)
                    .read(2, "x", null, 5, 15)
                    .build());
        }

        @Test
        void concurrentWriteAndRead_readAfter() {
            assertAccepted(History.builder()
                    .write(1, "x", "1", 0, 10)
                    .read(2, "x", "1", 5, 15)
                    .build());
        }

        @Test
        void readCompletingAtTheInstantTheWriteIsInvoked_countsAsConcurrent() {
            // Equal timestamps prove no order; the checker must not invent one.
            assertAccepted(History.builder()
                    .read(1, "x", "1", 0, 10)
                    .write(2, "x", "1", 10, 20)
                    .build());
        }

        @Test
        void concurrentWritesLandInEitherOrder() {
            assertAccepted(History.builder()
                    .write(1, "x", "1", 0, 10)
                    .write(2, "x", "2", 0, 10)
                    .read(3, "x", "1", 20, 30)
                    .read(3, "x", "1", 40, 50)
                    .build());
        }

        @Test
        void indeterminateWriteReadLater() {
            assertAccepted(History.builder()
                    .write(1, "x", "0", 0, 10)
                    .info(2, Command.write("x", "1"), 20)
                    .read(3, "x", "0", 30, 40)
                    .read(3, "x", "1", 1_000, 1_010)
                    .build());
        }

        @Test
        void indeterminateWriteNeverSeen() {
            assertAccepted(History.builder()
                    .info(2, Command.write("x", "1"), 0)
                    .read(3, "x", null, 30, 40)
                    .read(3, "x", null, 50, 60)
                    .build());
        }

        @Test
        void indeterminateWriteTakesEffectAfterLaterAcknowledgedWrite() {
            // Its effect may come arbitrarily late, even after writes that started after it.
            assertAccepted(History.builder()
                    .info(1, Command.write("x", "1"), 0)
                    .write(2, "x", "2", 10, 20)
                    .read(3, "x", "2", 30, 40)
                    .read(3, "x", "1", 50, 60)
                    .build());
        }

        @Test
        void failedWriteNeverSeen() {
            assertAccepted(History.builder()
                    .write(1, "x", "0", 0, 10)
                    .fail(2, Command.write("x", "1"), 20, 30)
                    .read(3, "x", "0", 40, 50)
                    .build());
        }

        @Test
        void indeterminateReadConstrainsNothing() {
            assertAccepted(History.builder()
                    .write(1, "x", "0", 0, 10)
                    .info(2, Command.read("x"), 20)
                    .read(3, "x", "0", 40, 50)
                    .build());
        }

        @Test
        void casChain() {
            assertAccepted(History.builder()
                    .cas(1, "x", null, "0", true, 0, 10)
                    .cas(2, "x", "0", "1", true, 20, 30)
                    .cas(3, "x", "0", "2", false, 40, 50)
                    .read(1, "x", "1", 60, 70)
                    .build());
        }

        @Test
        void twoConcurrentCasFromSameValue_oneWinsOneObservesTheOther() {
            assertAccepted(History.builder()
                    .write(1, "x", "0", 0, 10)
                    .cas(2, "x", "0", "1", true, 20, 40)
                    .cas(3, "x", "0", "2", false, 25, 45)
                    .read(1, "x", "1", 50, 60)
                    .build());
        }

        @Test
        void casSucceedsTwiceWithAnInterveningWriteOfTheExpectedValue() {
            assertAccepted(History.builder()
                    .write(1, "x", "0", 0, 10)
                    .cas(2, "x", "0", "1", true, 20, 40)
                    .write(4, "x", "0", 20, 40)
                    .cas(3, "x", "0", "2", true, 25, 45)
                    .build());
        }

        @Test
        void compareFailedCasObservesAConcurrentWrite() {
            assertAccepted(History.builder()
                    .write(1, "x", "0", 0, 10)
                    .cas(2, "x", "0", "1", false, 20, 30)
                    .write(3, "x", "5", 15, 25)
                    .build());
        }

        @Test
        void indeterminateCasTakesEffectLater() {
            assertAccepted(History.builder()
                    .write(1, "x", "0", 0, 10)
                    .info(2, Command.cas("x", "0", "1"), 20)
                    .read(3, "x", "0", 30, 40)
                    .read(3, "x", "1", 50, 60)
                    .build());
        }

        @Test
        void keysAreIndependent() {
            assertAccepted(History.builder()
                    .write(1, "x", "1", 0, 10)
                    .write(1, "y", "2", 20, 30)
                    .read(2, "x", "1", 40, 50)
                    .read(2, "y", "2", 40, 50)
                    .read(2, "z", null, 40, 50)
                    .build());
        }
    }
}
