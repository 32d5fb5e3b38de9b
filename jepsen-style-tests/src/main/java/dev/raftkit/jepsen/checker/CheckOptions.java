package dev.raftkit.jepsen.checker;

import java.util.Objects;

/**
 * How to run a check: its {@link Budget}, how many keys to search at once, and whether to stop at
 * the first violation.
 *
 * <p>Results never depend on thread timing: keys are reported in the order they first appear, each
 * key's search is deterministic, and with {@code stopAtFirstViolation} the check still finishes
 * every key before the first one (in that order) that is not linearizable, and reports that key —
 * the same key however the threads ran. Keys after it are left out of the result.
 *
 * @param budget               time for the whole check; states and bytes per key
 * @param parallelism          how many keys are searched at once, on threads the check starts and
 *                             stops; 1 searches on the calling thread
 * @param stopAtFirstViolation whether to stop once a key is proven not linearizable
 */
public record CheckOptions(Budget budget, int parallelism, boolean stopAtFirstViolation) {

    /** {@link Budget#DEFAULT}, two keys at a time (or one on a single-core machine), check every key. */
    public static final CheckOptions DEFAULT = new CheckOptions(Budget.DEFAULT,
            Math.min(2, Runtime.getRuntime().availableProcessors()), false);

    public CheckOptions {
        Objects.requireNonNull(budget, "budget");
        if (parallelism < 1) {
            throw new IllegalArgumentException("parallelism must be at least 1, was " + parallelism);
        }
    }

    /** The default options with {@code budget}. */
    public static CheckOptions of(Budget budget) {
        return DEFAULT.withBudget(budget);
    }

    public CheckOptions withBudget(Budget b) {
        return new CheckOptions(b, parallelism, stopAtFirstViolation);
    }

    public CheckOptions withParallelism(int threads) {
        return new CheckOptions(budget, threads, stopAtFirstViolation);
    }

    /** These options, stopping at the first key proven not linearizable. */
    public CheckOptions stoppingAtFirstViolation() {
        return new CheckOptions(budget, parallelism, true);
    }
}
