package dev.raftkit.jepsen.checker;

import java.time.Duration;
import java.util.Objects;

/**
 * Limits for one check. Linearizability checking is NP-complete in general; a search that runs
 * out of budget is reported as {@link Verdict#BUDGET_EXCEEDED}, which counts as <em>not</em>
 * valid: an unchecked history is never a pass.
 *
 * @param timeLimit       wall-clock limit for the whole check (all keys)
 * @param maxStatesPerKey how many distinct search configurations (linearized set, model state) one
 *                        key's search may memoize; each costs about 40 bytes of heap
 */
public record Budget(Duration timeLimit, long maxStatesPerKey) {

    /** 60 seconds and 5 million configurations per key (about 200 MB at worst). */
    public static final Budget DEFAULT = new Budget(Duration.ofSeconds(60), 5_000_000);

    public Budget {
        Objects.requireNonNull(timeLimit, "timeLimit");
        if (timeLimit.isNegative() || timeLimit.isZero()) {
            throw new IllegalArgumentException("time limit must be positive, was " + timeLimit);
        }
        if (maxStatesPerKey < 1) {
            throw new IllegalArgumentException("maxStatesPerKey must be at least 1, was " + maxStatesPerKey);
        }
    }

    public static Budget of(Duration timeLimit, long maxStatesPerKey) {
        return new Budget(timeLimit, maxStatesPerKey);
    }

    public Budget withTimeLimit(Duration limit) {
        return new Budget(limit, maxStatesPerKey);
    }

    public Budget withMaxStatesPerKey(long max) {
        return new Budget(timeLimit, max);
    }
}
