package dev.raftkit.jepsen.checker;

import java.time.Duration;
import java.util.Objects;

/**
 * Limits for one check, on time and memory together. Linearizability checking is NP-complete in
 * general; a search that runs out of budget is reported as {@link Verdict#BUDGET_EXCEEDED} with
 * what it spent (states, bytes, time), which counts as <em>not</em> valid: an unchecked history is
 * never a pass. A search stops <em>before</em> an allocation that would take it over
 * {@code maxBytesPerKey}, so an over-budget history ends as a verdict, not an
 * {@link OutOfMemoryError}.
 *
 * <p>What a search holds, as {@link KeyResult#estimatedBytes()} accounts it: about 130 bytes per
 * operation of the key (the entry list, the stack, the fingerprint codes and the explanation
 * buffer), 16 bytes per memo slot — the memo is an open-addressing table of 128-bit fingerprints
 * kept between 3/8 and 3/4 full, so 21 to 43 bytes per explored state, and 64 while it doubles
 * (old and new tables together) — plus about 112 bytes and {@link Model#estimatedBytes} for each
 * distinct model state the search meets. Measured ({@code MemoryFootprintTest}): two million
 * explored states of a register retain 35.7 bytes each, against 33.6 accounted (the memo before
 * this layout retained 48 there, and 40 to 120 in general). A model whose states are all
 * different costs far more per state, its states dominating: a million distinct append-only
 * lists retain 226 bytes a state, against 238 accounted. Keys checked in
 * parallel each have their own {@code maxBytesPerKey}: the whole check holds at most
 * {@code parallelism × maxBytesPerKey}.
 *
 * @param timeLimit       wall-clock limit for the whole check (all keys)
 * @param maxStatesPerKey how many distinct search configurations (linearized set, model state) one
 *                        key's search may memoize
 * @param maxBytesPerKey  how many bytes one key's search may hold, as estimated above
 */
public record Budget(Duration timeLimit, long maxStatesPerKey, long maxBytesPerKey) {

    /**
     * Bytes per key by default: a quarter of the JVM's maximum heap, so that the default two keys at
     * once (see {@link CheckOptions#DEFAULT}) leave half of it to everything else.
     */
    public static final long DEFAULT_MAX_BYTES_PER_KEY = Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 4);

    /** 60 seconds, 5 million configurations per key, {@link #DEFAULT_MAX_BYTES_PER_KEY}. */
    public static final Budget DEFAULT = new Budget(Duration.ofSeconds(60), 5_000_000);

    public Budget {
        Objects.requireNonNull(timeLimit, "timeLimit");
        if (timeLimit.isNegative() || timeLimit.isZero()) {
            throw new IllegalArgumentException("time limit must be positive, was " + timeLimit);
        }
        if (maxStatesPerKey < 1) {
            throw new IllegalArgumentException("maxStatesPerKey must be at least 1, was " + maxStatesPerKey);
        }
        if (maxBytesPerKey < 1) {
            throw new IllegalArgumentException("maxBytesPerKey must be at least 1, was " + maxBytesPerKey);
        }
    }

    /** A time and state limit, with {@link #DEFAULT_MAX_BYTES_PER_KEY}. */
    public Budget(Duration timeLimit, long maxStatesPerKey) {
        this(timeLimit, maxStatesPerKey, DEFAULT_MAX_BYTES_PER_KEY);
    }

    public static Budget of(Duration timeLimit, long maxStatesPerKey) {
        return new Budget(timeLimit, maxStatesPerKey);
    }

    public static Budget of(Duration timeLimit, long maxStatesPerKey, long maxBytesPerKey) {
        return new Budget(timeLimit, maxStatesPerKey, maxBytesPerKey);
    }

    public Budget withTimeLimit(Duration limit) {
        return new Budget(limit, maxStatesPerKey, maxBytesPerKey);
    }

    public Budget withMaxStatesPerKey(long max) {
        return new Budget(timeLimit, max, maxBytesPerKey);
    }

    public Budget withMaxBytesPerKey(long max) {
        return new Budget(timeLimit, maxStatesPerKey, max);
    }
}
