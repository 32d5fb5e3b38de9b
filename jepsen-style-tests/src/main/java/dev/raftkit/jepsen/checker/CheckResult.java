package dev.raftkit.jepsen.checker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The verdict for a whole history: linearizable iff every key is (P-compositionality). Any key
 * that is not linearizable makes it {@link Verdict#NOT_LINEARIZABLE}; otherwise any key whose
 * search ran out of budget makes it {@link Verdict#BUDGET_EXCEEDED} — a failure too.
 *
 * @param verdict    the overall verdict
 * @param keys       per-key results, in the order the keys first appear
 * @param operations operations checked, over all keys
 * @param elapsed    wall time of the whole check
 * @param keysNotChecked keys left out of {@code keys} because the check stopped at the first
 *                   violation ({@link CheckOptions#stopAtFirstViolation()}); they come after it
 * @param <Op>       the model's operation type
 */
public record CheckResult<Op>(Verdict verdict, Map<String, KeyResult<Op>> keys, int operations,
                              Duration elapsed, int keysNotChecked) {

    public CheckResult {
        keys = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(keys));
        if (keysNotChecked < 0) {
            throw new IllegalArgumentException("keysNotChecked must not be negative, was " + keysNotChecked);
        }
    }

    /** A result of a check that checked every key. */
    public CheckResult(Verdict verdict, Map<String, KeyResult<Op>> keys, int operations, Duration elapsed) {
        this(verdict, keys, operations, elapsed, 0);
    }

    /** The first key, in the order keys first appear, that is not linearizable. */
    public java.util.Optional<KeyResult<Op>> firstViolation() {
        return keys.values().stream().filter(k -> k.verdict() == Verdict.NOT_LINEARIZABLE).findFirst();
    }

    /** The most bytes one key's search held, over all keys. */
    public long peakBytesPerKey() {
        return keys.values().stream().mapToLong(KeyResult::estimatedBytes).max().orElse(0);
    }

    /** Whether the history passed: only a proven linearizable history does. */
    public boolean isValid() {
        return verdict.isValid();
    }

    /** The keys whose verdict is {@code v}. */
    public List<KeyResult<Op>> keysWith(Verdict v) {
        return keys.values().stream().filter(k -> k.verdict() == v).collect(Collectors.toList());
    }

    /** Distinct configurations memoized over all keys. */
    public long exploredStates() {
        return keys.values().stream().mapToLong(KeyResult::exploredStates).sum();
    }

    /** One line, then a paragraph per key that did not pass. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder().append(verdict).append(": ").append(operations).append(" ops over ")
                .append(keys.size()).append(" keys, ").append(exploredStates()).append(" states, ")
                .append(elapsed.toMillis()).append(" ms");
        if (keysNotChecked > 0) {
            b.append(" (stopped at the first violation; ").append(keysNotChecked).append(" later keys not checked)");
        }
        for (KeyResult<Op> k : keys.values()) {
            if (!k.verdict().isValid()) {
                b.append('\n').append(k);
            }
        }
        return b.toString();
    }
}
