package dev.raftkit.jepsen.checker;

import java.time.Duration;
import java.util.Optional;

/**
 * The verdict for one key (one independent partition of the history).
 *
 * @param key            the partition
 * @param verdict        linearizable, not, or unknown for lack of budget
 * @param operations     operations checked (failed operations and indeterminate reads excluded)
 * @param exploredStates distinct configurations the search memoized
 * @param elapsed        time spent on this key
 * @param explanation    for {@link Verdict#NOT_LINEARIZABLE}, why
 * @param budgetNote     for {@link Verdict#BUDGET_EXCEEDED}, which limit was hit and what the
 *                       search had spent (states, bytes, time)
 * @param estimatedBytes the most the search held at once, as the {@link Budget} accounts it
 * @param <Op>           the model's operation type
 */
public record KeyResult<Op>(String key, Verdict verdict, int operations, long exploredStates, Duration elapsed,
                            Optional<Explanation<Op>> explanation, Optional<String> budgetNote,
                            long estimatedBytes) {

    /** A result whose memory use is unknown (0). */
    public KeyResult(String key, Verdict verdict, int operations, long exploredStates, Duration elapsed,
                     Optional<Explanation<Op>> explanation, Optional<String> budgetNote) {
        this(key, verdict, operations, exploredStates, elapsed, explanation, budgetNote, 0);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("key ").append(key).append(": ").append(verdict)
                .append(" (").append(operations).append(" ops, ").append(exploredStates).append(" states, ~")
                .append(estimatedBytes / 1024).append(" KiB, ").append(elapsed.toMillis()).append(" ms)");
        budgetNote.ifPresent(n -> b.append(": ").append(n));
        explanation.ifPresent(e -> b.append("\n  ").append(e));
        return b.toString();
    }
}
