package dev.raftkit.jepsen.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The checker on a user's own state machine: a FIFO queue, which is not a register at all. */
class CustomModelTest {

    /** enqueue(v) or dequeue() → v (null = the queue was empty). */
    record QueueOp(String queue, boolean enqueue, String value) {
        static QueueOp enq(String v) {
            return new QueueOp("q", true, v);
        }

        static QueueOp deq(String observed) {
            return new QueueOp("q", false, observed);
        }
    }

    /** States are immutable lists: equal contents, equal states — which is what memoization needs. */
    static final class FifoQueue implements Model<List<String>, QueueOp> {
        @Override
        public List<String> init() {
            return List.of();
        }

        @Override
        public Optional<List<String>> step(List<String> state, QueueOp op) {
            if (op.enqueue()) {
                List<String> next = new ArrayList<>(state);
                next.add(op.value());
                return Optional.of(List.copyOf(next));
            }
            if (state.isEmpty()) {
                return op.value() == null ? Optional.of(state) : Optional.empty();
            }
            return state.get(0).equals(op.value()) ? Optional.of(List.copyOf(state.subList(1, state.size())))
                    : Optional.empty();
        }
    }

    private static Verdict check(List<Call<QueueOp>> calls) {
        return LinearizabilityChecker.check(calls, QueueOp::queue, new FifoQueue(), Budget.DEFAULT).verdict();
    }

    @Test
    void concurrentEnqueues_dequeuedInEitherOrder() {
        assertEquals(Verdict.LINEARIZABLE, check(List.of(
                Call.completed(QueueOp.enq("a"), 0, 10),
                Call.completed(QueueOp.enq("b"), 0, 10),
                Call.completed(QueueOp.deq("b"), 20, 30),
                Call.completed(QueueOp.deq("a"), 40, 50),
                Call.completed(QueueOp.deq(null), 60, 70))));
    }

    @Test
    void sequentialEnqueues_dequeuedOutOfOrder_isRejected() {
        assertEquals(Verdict.NOT_LINEARIZABLE, check(List.of(
                Call.completed(QueueOp.enq("a"), 0, 10),
                Call.completed(QueueOp.enq("b"), 20, 30),
                Call.completed(QueueOp.deq("b"), 40, 50))));
    }

    @Test
    void indeterminateEnqueue_mayOrMayNotHaveHappened() {
        assertEquals(Verdict.LINEARIZABLE, check(List.of(
                Call.indeterminate(QueueOp.enq("a"), 0),
                Call.completed(QueueOp.deq(null), 20, 30),
                Call.completed(QueueOp.deq("a"), 40, 50))));
        assertEquals(Verdict.NOT_LINEARIZABLE, check(List.of(
                Call.indeterminate(QueueOp.enq("a"), 0),
                Call.completed(QueueOp.deq("a"), 20, 30),
                Call.completed(QueueOp.deq("a"), 40, 50))));
    }

    @Test
    void callIntervalsMustNotRunBackwards() {
        assertThrows(IllegalArgumentException.class, () -> Call.completed(QueueOp.enq("a"), 10, 9));
        assertThrows(IllegalArgumentException.class, () -> Budget.of(Duration.ZERO, 1));
    }
}
