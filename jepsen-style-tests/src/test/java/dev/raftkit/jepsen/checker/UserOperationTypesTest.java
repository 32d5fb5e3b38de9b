package dev.raftkit.jepsen.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.checker.AppendListModel.Append;
import dev.raftkit.jepsen.checker.AppendListModel.ListOp;
import dev.raftkit.jepsen.checker.AppendListModel.ReadList;
import dev.raftkit.jepsen.checker.BankModel.Balances;
import dev.raftkit.jepsen.checker.BankModel.BankOp;
import dev.raftkit.jepsen.checker.BankModel.Done;
import dev.raftkit.jepsen.checker.BankModel.ReadBalances;
import dev.raftkit.jepsen.checker.BankModel.Reply;
import dev.raftkit.jepsen.checker.BankModel.Transfer;
import dev.raftkit.jepsen.history.JsonLines;
import dev.raftkit.jepsen.history.TypedHistory;
import dev.raftkit.jepsen.history.TypedHistoryRecorder;
import dev.raftkit.jepsen.history.TypedOperation;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The checker on operation types it has never heard of: known-good histories are accepted,
 * known-bad ones rejected, each also after a round trip through the JSON-lines format.
 */
class UserOperationTypesTest {

    /** Checks {@code h}, and the same history written and read back as JSON lines: same verdict. */
    private static <I, O, S> CheckResult<TypedOperation<I, O>> check(TypedHistory<I, O> h,
                                                                      Model<S, TypedOperation<I, O>> model) {
        CheckResult<TypedOperation<I, O>> r = LinearizabilityChecker.check(h, model);
        TypedHistory<I, O> back = JsonLines.parse(JsonLines.toJsonLines(h), h.type());
        assertEquals(h, back, () -> JsonLines.toJsonLines(h));
        assertEquals(r.verdict(), LinearizabilityChecker.check(back, model).verdict());
        return r;
    }

    @Nested
    class AppendOnlyLists {
        private final AppendListModel model = new AppendListModel();

        private TypedHistory.Builder<ListOp, List<Long>> history() {
            return TypedHistory.builder(AppendListModel.TYPE);
        }

        private void accepted(TypedHistory<ListOp, List<Long>> h) {
            CheckResult<TypedOperation<ListOp, List<Long>>> r = check(h, model);
            assertEquals(Verdict.LINEARIZABLE, r.verdict(), () -> r + "\n" + h);
        }

        private CheckResult<TypedOperation<ListOp, List<Long>>> rejected(TypedHistory<ListOp, List<Long>> h) {
            CheckResult<TypedOperation<ListOp, List<Long>>> r = check(h, model);
            assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict(), () -> r + "\n" + h);
            return r;
        }

        @Test
        void sequentialAppends_readInOrder() {
            accepted(history()
                    .ok(1, new Append("l", 1), null, 0, 10)
                    .ok(1, new Append("l", 2), null, 20, 30)
                    .ok(2, new ReadList("l"), List.of(1L, 2L), 40, 50).build());
        }

        @Test
        void concurrentAppends_landInEitherOrder_thatEveryLaterReadAgreesOn() {
            accepted(history()
                    .ok(1, new Append("l", 1), null, 0, 10)
                    .ok(2, new Append("l", 2), null, 0, 10)
                    .ok(3, new ReadList("l"), List.of(2L), 0, 10) // concurrent: may see just one
                    .ok(3, new ReadList("l"), List.of(2L, 1L), 20, 30)
                    .ok(1, new Append("l", 3), null, 40, 50)
                    .ok(2, new ReadList("l"), List.of(2L, 1L, 3L), 60, 70).build());
        }

        @Test
        void indeterminateAppend_mayTakeEffectLate_orNever() {
            accepted(history()
                    .info(1, new Append("l", 5), 0)
                    .ok(2, new ReadList("l"), List.of(), 10, 20)
                    .ok(2, new ReadList("l"), List.of(5L), 30, 40).build());
            accepted(history()
                    .info(1, new Append("l", 5), 0)
                    .info(2, new ReadList("l"), 5)
                    .fail(3, new Append("l", 6), 5, 8)
                    .ok(2, new ReadList("l"), List.of(), 30, 40).build());
        }

        @Test
        void acknowledgedAppendMissingFromALaterRead_isRejected() {
            rejected(history()
                    .ok(1, new Append("l", 1), null, 0, 10)
                    .ok(2, new ReadList("l"), List.of(), 20, 30).build());
        }

        @Test
        void twoReadsSeeingDifferentOrders_isRejected() {
            rejected(history()
                    .ok(1, new Append("l", 1), null, 0, 10)
                    .ok(2, new Append("l", 2), null, 0, 10)
                    .ok(3, new ReadList("l"), List.of(1L, 2L), 20, 30)
                    .ok(3, new ReadList("l"), List.of(2L, 1L), 40, 50).build());
        }

        @Test
        void anIndeterminateAppendSeenThenUnseen_isRejected() {
            rejected(history()
                    .info(1, new Append("l", 5), 0)
                    .ok(2, new ReadList("l"), List.of(5L), 10, 20)
                    .ok(2, new ReadList("l"), List.of(), 30, 40).build());
        }

        @Test
        void aReadSeeingAnAppendBeforeItWasInvoked_isRejected() {
            rejected(history()
                    .ok(2, new ReadList("l"), List.of(1L), 0, 10)
                    .ok(1, new Append("l", 1), null, 20, 30).build());
        }

        @Test
        void aFailedAppendSeen_isRejected() {
            rejected(history()
                    .fail(1, new Append("l", 1), 0, 10)
                    .ok(2, new ReadList("l"), List.of(1L), 20, 30).build());
        }

        @Test
        void listsAreKeys_checkedIndependently_andTheBadOneNamed() {
            CheckResult<TypedOperation<ListOp, List<Long>>> r = rejected(history()
                    .ok(1, new Append("a", 1), null, 0, 10)
                    .ok(1, new Append("b", 1), null, 20, 30)
                    .ok(2, new ReadList("a"), List.of(1L), 40, 50)
                    .ok(2, new ReadList("b"), List.of(1L, 1L), 40, 50).build());
            assertEquals(List.of("a", "b"), List.copyOf(r.keys().keySet()));
            assertEquals(Verdict.LINEARIZABLE, r.keys().get("a").verdict());
            assertEquals("b", r.firstViolation().orElseThrow().key());
            assertTrue(r.toString().contains("cannot linearize"), r::toString);
        }

        @Test
        void recordedFromClientThreads_thenChecked() {
            AtomicLong clock = new AtomicLong();
            TypedHistoryRecorder<ListOp, List<Long>> rec = new TypedHistoryRecorder<>(AppendListModel.TYPE,
                    () -> clock.addAndGet(10));
            long a = rec.invoke(1, new Append("l", 1));
            long b = rec.invoke(2, new Append("l", 2));
            rec.ok(a, null);
            rec.info(b);                                   // timed out: may still land
            long r1 = rec.invoke(3, new ReadList("l"));
            rec.ok(r1, List.of(1L));
            long r2 = rec.invoke(3, new ReadList("l"));
            rec.ok(r2, List.of(1L, 2L));
            rec.invoke(1, new Append("l", 3));             // still outstanding: indeterminate
            accepted(rec.history());
            long r3 = rec.invoke(3, new ReadList("l"));
            rec.ok(r3, List.of(1L));                       // 2 vanished
            rejected(rec.history());
        }
    }

    @Nested
    class BankTransfers {
        private TypedHistory.Builder<BankOp, Reply> history() {
            return TypedHistory.builder(BankModel.TYPE);
        }

        private static Balances balances(long a, long b, long c) {
            return new Balances(List.of(a, b, c));
        }

        private static final Done DONE = new Done(true);
        private static final Done REFUSED = new Done(false);

        private void accepted(TypedHistory<BankOp, Reply> h) {
            CheckResult<TypedOperation<BankOp, Reply>> r = check(h, BankModel.MODEL);
            assertEquals(Verdict.LINEARIZABLE, r.verdict(), () -> r + "\n" + h);
            assertEquals(List.of(""), List.copyOf(r.keys().keySet()), "no key: one partition");
        }

        private void rejected(TypedHistory<BankOp, Reply> h) {
            CheckResult<TypedOperation<BankOp, Reply>> r = check(h, BankModel.MODEL);
            assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict(), () -> r + "\n" + h);
        }

        @Test
        void concurrentTransfers_readsSeeAConsistentState() {
            accepted(history()
                    .ok(1, new Transfer(0, 1, 50), DONE, 0, 20)
                    .ok(2, new Transfer(1, 2, 30), DONE, 0, 20)
                    .ok(3, new ReadBalances(), balances(100, 70, 130), 5, 15) // between the two
                    .ok(3, new ReadBalances(), balances(50, 120, 130), 30, 40).build());
        }

        @Test
        void refusalsForLackOfFunds_dependOnOrder() {
            // 0 → 1 of 150 is refused unless 1 → 0 of 80 landed first; both concurrent: either works.
            accepted(history()
                    .ok(1, new Transfer(0, 1, 150), DONE, 0, 20)
                    .ok(2, new Transfer(1, 0, 80), DONE, 0, 20)
                    .ok(3, new ReadBalances(), balances(30, 170, 100), 30, 40).build());
            accepted(history()
                    .ok(1, new Transfer(0, 1, 150), REFUSED, 0, 10)
                    .ok(2, new Transfer(1, 0, 80), DONE, 20, 30)
                    .ok(3, new ReadBalances(), balances(180, 20, 100), 40, 50).build());
        }

        @Test
        void indeterminateTransfer_mayTakeEffectLate() {
            accepted(history()
                    .info(1, new Transfer(2, 0, 10), 0)
                    .ok(3, new ReadBalances(), balances(100, 100, 100), 10, 20)
                    .ok(3, new ReadBalances(), balances(110, 100, 90), 30, 40).build());
        }

        @Test
        void aReadWhereMoneyWasCreated_isRejected() {
            rejected(history()
                    .ok(1, new Transfer(0, 1, 50), DONE, 0, 20)
                    .ok(3, new ReadBalances(), balances(50, 150, 150), 30, 40).build());
        }

        @Test
        void aTransferWithoutTheFunds_isRejected() {
            rejected(history()
                    .ok(1, new Transfer(0, 1, 150), DONE, 0, 20).build());
        }

        @Test
        void aRefusalWithTheFunds_isRejected() {
            rejected(history()
                    .ok(1, new Transfer(0, 1, 50), REFUSED, 0, 20).build());
        }

        @Test
        void aStaleReadAfterACompletedTransfer_isRejected() {
            rejected(history()
                    .ok(1, new Transfer(0, 1, 50), DONE, 0, 20)
                    .ok(3, new ReadBalances(), balances(100, 100, 100), 30, 40).build());
        }

        @Test
        void anIndeterminateTransferSeenThenUnseen_isRejected() {
            rejected(history()
                    .info(1, new Transfer(2, 0, 10), 0)
                    .ok(3, new ReadBalances(), balances(110, 100, 90), 10, 20)
                    .ok(3, new ReadBalances(), balances(100, 100, 100), 30, 40).build());
        }
    }
}
