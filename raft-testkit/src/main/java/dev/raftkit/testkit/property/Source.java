package dev.raftkit.testkit.property;

/**
 * Where generators draw their randomness from.
 *
 * <p>Every draw is one integer choice in a closed range. The harness records the choices of each
 * try; to shrink a counter-example it edits that recorded sequence and runs the generator again on
 * it. Replayed choices are clamped into the range the generator asks for, and a generator that
 * draws past the end of the recording gets the minimum of each range. So a generator built only
 * from draws on a {@code Source} can be shrunk without any shrinking code of its own, and smaller
 * choices should mean simpler values (for example: shorter lists, earlier alternatives).
 *
 * <p>A {@code Source} belongs to one try on one thread; generators must not keep it.
 */
public interface Source {

    /**
     * Draws a {@code long} in {@code [minInclusive, maxInclusive]}; shrinks toward
     * {@code minInclusive}.
     *
     * @throws IllegalArgumentException if {@code minInclusive > maxInclusive}
     */
    long nextLong(long minInclusive, long maxInclusive);

    /**
     * Draws an {@code int} in {@code [minInclusive, maxInclusive]}; shrinks toward
     * {@code minInclusive}.
     *
     * @throws IllegalArgumentException if {@code minInclusive > maxInclusive}
     */
    int nextInt(int minInclusive, int maxInclusive);

    /** Draws a boolean, each value equally likely; shrinks toward {@code false}. */
    boolean nextBoolean();
}
