package dev.raftkit.testkit.property;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The building blocks of generators. Every generator here shrinks through its choices: numbers
 * toward zero (or the range bound nearest zero), alternatives toward the first one listed,
 * collections toward fewer and simpler elements.
 */
public final class Gens {

    /** A generator together with its relative weight, for {@link #frequency}. */
    public record Weighted<T>(int weight, Gen<? extends T> gen) {

        /** Checks that the weight is positive and the generator present. */
        public Weighted {
            if (weight <= 0) {
                throw new IllegalArgumentException("weight must be positive, got " + weight);
            }
            Objects.requireNonNull(gen, "gen");
        }
    }

    /** Two values drawn together; prints as {@code (first, second)}. */
    public record Pair<A, B>(A first, B second) {

        @Override
        public String toString() {
            return "(" + Limits.describe(first) + ", " + Limits.describe(second) + ")";
        }
    }

    /** Expected number of optional elements of a collection with unbounded room to grow. */
    private static final double AVERAGE_EXTRA_ELEMENTS = 25;

    private Gens() {
    }

    /**
     * Longs in {@code [min, max]}, uniformly. Shrinks toward the value in the range nearest zero:
     * choices are mapped 0, 1, -1, 2, -2, … while both signs remain, so small magnitudes are
     * simple ones.
     */
    public static Gen<Long> longs(long min, long max) {
        if (min > max) {
            throw new IllegalArgumentException("empty range [" + min + ", " + max + "]: min exceeds max");
        }
        return source -> towardZero(min, max, source.nextLong(min, max) - min);
    }

    /** Ints in {@code [min, max]}, uniformly; shrinks as {@link #longs} does. */
    public static Gen<Integer> ints(int min, int max) {
        return longs(min, max).map(Long::intValue);
    }

    /** {@code false} or {@code true}, equally likely; shrinks toward {@code false}. */
    public static Gen<Boolean> booleans() {
        return Source::nextBoolean;
    }

    /** Always {@code value}; draws nothing. */
    public static <T> Gen<T> constant(T value) {
        return source -> value;
    }

    /** One of {@code values}, uniformly; shrinks toward the first. */
    @SafeVarargs
    public static <T> Gen<T> oneOf(T... values) {
        List<T> list = new ArrayList<>(values.length);
        for (T value : values) {
            list.add(value);
        }
        return elements(list);
    }

    /** One of {@code values}, uniformly; shrinks toward the first. */
    public static <T> Gen<T> elements(List<T> values) {
        List<T> copy = Collections.unmodifiableList(new ArrayList<>(values));
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("elements needs at least one value to choose from");
        }
        return source -> copy.get(source.nextInt(0, copy.size() - 1));
    }

    /** A value from one of {@code gens}, each chosen equally often; shrinks toward the first. */
    @SafeVarargs
    public static <T> Gen<T> choose(Gen<? extends T>... gens) {
        List<Gen<? extends T>> copy = new ArrayList<>(gens.length);
        for (Gen<? extends T> gen : gens) {
            copy.add(Objects.requireNonNull(gen, "gen"));
        }
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("choose needs at least one generator");
        }
        return source -> copy.get(source.nextInt(0, copy.size() - 1)).generate(source);
    }

    /**
     * A value from one of the weighted generators, each chosen in proportion to its weight;
     * shrinks toward the first listed (so list the simplest first).
     */
    public static <T> Gen<T> frequency(List<Weighted<T>> weighted) {
        List<Weighted<T>> copy = List.copyOf(weighted);
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("frequency needs at least one weighted generator");
        }
        long total = copy.stream().mapToLong(Weighted::weight).sum();
        return source -> {
            long pick = source.nextLong(0, total - 1);
            for (Weighted<T> w : copy) {
                if (pick < w.weight()) {
                    return w.gen().generate(source);
                }
                pick -= w.weight();
            }
            throw new AssertionError("unreachable: pick below the total weight");
        };
    }

    /**
     * Lists of {@code minSize} to {@code maxSize} elements. Beyond {@code minSize}, each further
     * element is preceded by a "continue" choice (about 25 optional elements on average, fewer
     * when the range is small), so deleting an element's choices deletes exactly that element.
     * Shrinks toward shorter lists of simpler elements, in ascending order.
     */
    public static <T> Gen<List<T>> lists(Gen<T> element, int minSize, int maxSize) {
        Objects.requireNonNull(element, "element");
        checkSizes(minSize, maxSize);
        int stopBelow = stopThreshold(minSize, maxSize);
        return source -> {
            List<T> list = new ArrayList<>();
            while (list.size() < maxSize) {
                int span = ChoiceSource.startSpan(source);
                if (list.size() >= minSize && source.nextInt(0, 999) < stopBelow) {
                    break;
                }
                list.add(element.generate(source));
                ChoiceSource.endSpan(source, span);
            }
            return Collections.unmodifiableList(list);
        };
    }

    /**
     * Sets of {@code minSize} to {@code maxSize} distinct elements, in the order drawn. Sized as
     * {@link #lists}; duplicates are drawn again, up to {@value Limits#SET_DUPLICATES} in a row.
     *
     * @throws GenerationException (when generating) if the element generator cannot produce
     *                             {@code minSize} distinct values
     */
    public static <T> Gen<Set<T>> sets(Gen<T> element, int minSize, int maxSize) {
        Objects.requireNonNull(element, "element");
        checkSizes(minSize, maxSize);
        int stopBelow = stopThreshold(minSize, maxSize);
        return source -> {
            Set<T> set = new LinkedHashSet<>();
            int duplicates = 0;
            while (set.size() < maxSize) {
                int span = ChoiceSource.startSpan(source);
                if (set.size() >= minSize && source.nextInt(0, 999) < stopBelow) {
                    break;
                }
                T value = element.generate(source);
                ChoiceSource.endSpan(source, span);
                if (set.add(value)) {
                    duplicates = 0;
                } else if (++duplicates >= Limits.SET_DUPLICATES) {
                    if (set.size() >= minSize) {
                        break;
                    }
                    throw new GenerationException("sets: found only " + set.size() + " distinct elements "
                            + set + " after " + duplicates + " duplicates in a row, but minSize is " + minSize
                            + "; widen the element generator or lower minSize");
                }
            }
            return Collections.unmodifiableSet(set);
        };
    }

    /** Pairs of a value from {@code a} and then a value from {@code b}. */
    public static <A, B> Gen<Pair<A, B>> pairs(Gen<A> a, Gen<B> b) {
        Objects.requireNonNull(a, "a");
        Objects.requireNonNull(b, "b");
        return source -> new Pair<>(a.generate(source), b.generate(source));
    }

    /**
     * Maps an unsigned choice in {@code [0, max - min]} to a value of the range so that choice 0 is
     * the value nearest zero and larger choices are larger magnitudes. A bijection, so a uniform
     * choice gives a uniform value.
     */
    private static long towardZero(long min, long max, long choice) {
        if (min >= 0) {
            return min + choice;
        }
        if (max <= 0) {
            return max - choice;
        }
        long negatives = -min; // unsigned: 2^63 for Long.MIN_VALUE
        long both = Long.compareUnsigned(negatives, max) < 0 ? negatives : max;
        if (Long.compareUnsigned(choice, 2 * both) <= 0) {
            // 0, 1, -1, 2, -2, ...
            long magnitude = (choice >>> 1) + (choice & 1);
            return (choice & 1) == 1 ? magnitude : -magnitude;
        }
        long beyond = both + (choice - 2 * both); // the larger side goes on alone
        return Long.compareUnsigned(max, negatives) > 0 ? beyond : -beyond;
    }

    private static void checkSizes(int minSize, int maxSize) {
        if (minSize < 0 || minSize > maxSize) {
            throw new IllegalArgumentException(
                    "sizes must satisfy 0 <= minSize <= maxSize, got [" + minSize + ", " + maxSize + "]");
        }
    }

    /**
     * The "stop" threshold out of 1000 for optional elements: continuing with probability p gives
     * on average p / (1 - p) more elements; choose p for {@link #AVERAGE_EXTRA_ELEMENTS}, or half
     * the room when the room is smaller. Choice 0 (the simplest) always stops.
     */
    private static int stopThreshold(int minSize, int maxSize) {
        double average = Math.min(AVERAGE_EXTRA_ELEMENTS, (maxSize - (double) minSize) / 2);
        int threshold = (int) Math.round(1000 / (average + 1));
        return Math.max(1, Math.min(999, threshold));
    }
}
