package dev.raftkit.testkit.property;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@link Source} the harness hands to generators. It either draws fresh choices from a seeded
 * SplitMix64 stream or replays a given choice sequence, and in both modes records every choice it
 * returns, so the value of a try can be regenerated from (and shrunk through) its choices alone.
 *
 * <p>A choice is stored as the distance from the minimum of the range it was drawn in, an
 * unsigned {@code long}: 0 is always the simplest choice, and a replayed choice too large for the
 * range asked for is clamped to the range's maximum. Past the end of a replayed sequence every
 * draw returns the minimum.
 *
 * <p>Generators that know their structure (lists, sets) mark spans: the choices that produced one
 * element. The shrinker tries deleting and swapping whole spans.
 */
final class ChoiceSource implements Source {

    /** One element's choices: {@code [start, end)} in the recorded sequence. */
    record Span(int start, int end) {
    }

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private final long[] replay;
    private long state;
    private long[] choices = new long[16];
    private int size;
    private final List<Span> spans = new ArrayList<>();

    private ChoiceSource(long[] replay, long seed) {
        this.replay = replay;
        this.state = seed;
    }

    /** A source that draws fresh choices from {@code seed}. */
    static ChoiceSource random(long seed) {
        return new ChoiceSource(null, seed);
    }

    /** A source that replays {@code choices}, then draws minimums. */
    static ChoiceSource replaying(long[] choices) {
        return new ChoiceSource(choices.clone(), 0);
    }

    /**
     * The seed of try {@code n} of a run seeded with {@code base}: the n-th output of a SplitMix64
     * stream, so tries are independent and each one replays from its own seed.
     */
    static long trySeed(long base, int n) {
        return mix(base + n * GOLDEN_GAMMA);
    }

    /** A 64-bit seed derived from a property's name; stable across JVMs and runs. */
    static long seedOf(String name) {
        long hash = 0xcbf29ce484222325L; // FNV-1a
        for (int i = 0; i < name.length(); i++) {
            hash = (hash ^ name.charAt(i)) * 0x100000001b3L;
        }
        return mix(hash);
    }

    @Override
    public long nextLong(long minInclusive, long maxInclusive) {
        if (minInclusive > maxInclusive) {
            throw new IllegalArgumentException(
                    "empty range [" + minInclusive + ", " + maxInclusive + "]: min exceeds max");
        }
        long span = maxInclusive - minInclusive; // unsigned
        long choice;
        if (replay == null) {
            choice = uniform(span);
        } else {
            choice = size < replay.length ? replay[size] : 0;
            if (Long.compareUnsigned(choice, span) > 0) {
                choice = span;
            }
        }
        record(choice);
        return minInclusive + choice;
    }

    @Override
    public int nextInt(int minInclusive, int maxInclusive) {
        return (int) nextLong(minInclusive, maxInclusive);
    }

    @Override
    public boolean nextBoolean() {
        return nextLong(0, 1) == 1;
    }

    /** Opens a span at the next choice; pass the result to {@link #endSpan}. */
    int startSpan() {
        return size;
    }

    /** Closes a span opened by {@link #startSpan}. */
    void endSpan(int start) {
        if (size > start) {
            spans.add(new Span(start, size));
        }
    }

    /** The choices drawn so far. */
    long[] choices() {
        return Arrays.copyOf(choices, size);
    }

    /** The spans closed so far, in the order they were closed. */
    List<Span> spans() {
        return List.copyOf(spans);
    }

    private void record(long choice) {
        if (size == Limits.MAX_CHOICES) {
            throw new GenerationException("a generator drew more than " + Limits.MAX_CHOICES
                    + " choices for one value: does it terminate? (a recursive generator needs a "
                    + "depth bound)");
        }
        if (size == choices.length) {
            choices = Arrays.copyOf(choices, size * 2);
        }
        choices[size++] = choice;
    }

    /** A uniform unsigned offset in {@code [0, span]} (span unsigned), by rejection sampling. */
    private long uniform(long span) {
        if (span == -1L) {
            return next();
        }
        long bound = span + 1;
        long excess = Long.remainderUnsigned(-bound, bound); // 2^64 mod bound
        long r = next();
        while (excess != 0 && Long.compareUnsigned(r, -excess) >= 0) {
            r = next();
        }
        return Long.remainderUnsigned(r, bound);
    }

    private long next() {
        state += GOLDEN_GAMMA;
        return mix(state);
    }

    /** SplitMix64's finaliser: a bijective mix of all 64 bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** The span bookkeeping of {@code source} when it is a {@code ChoiceSource}; no-op otherwise. */
    static int startSpan(Source source) {
        return source instanceof ChoiceSource cs ? cs.startSpan() : -1;
    }

    /** See {@link #startSpan(Source)}. */
    static void endSpan(Source source, int start) {
        if (source instanceof ChoiceSource cs && start >= 0) {
            cs.endSpan(start);
        }
    }
}
