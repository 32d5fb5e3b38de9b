package dev.raftkit.testkit.property;

import java.util.Arrays;

/** Bounds that keep generation and shrinking finite, and how values are printed. */
final class Limits {

    /** Values a {@link Gen#filter filter} may reject in a row before it gives up. */
    static final int FILTER_ATTEMPTS = 100;

    /** Duplicates in a row after which {@link Gens#sets} stops looking for a new element. */
    static final int SET_DUPLICATES = 100;

    /** Choices one try may draw; more means a generator that does not terminate. */
    static final int MAX_CHOICES = 1_000_000;

    private Limits() {
    }

    /** {@code toString} of a counter-example, with arrays spelled out. */
    static String describe(Object value) {
        if (value instanceof Object[] array) {
            return Arrays.deepToString(array);
        }
        if (value != null && value.getClass().isArray()) {
            return Arrays.deepToString(new Object[] {value}).replaceAll("^\\[|\\]$", "");
        }
        return String.valueOf(value);
    }
}
