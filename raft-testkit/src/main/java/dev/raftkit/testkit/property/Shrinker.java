package dev.raftkit.testkit.property;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Shrinks a failing try by editing its recorded choices (the Hypothesis approach) and keeping an
 * edit only if the regenerated value still fails the property.
 *
 * <p>Candidates are ordered shortlex (fewer choices first, then lexicographically smaller), and an
 * edit is kept only if the choices actually drawn while regenerating are shortlex-smaller than the
 * current best, so shrinking always terminates. The passes, repeated until none helps or the step
 * budget (one step = one run of the property) is spent:
 * <ol>
 *   <li>delete whole spans (one collection element each), last first;
 *   <li>delete chunks of 8, 4, 2 and 1 adjacent choices;
 *   <li>minimise each choice: zero, then binary search (halving) toward zero, then the same among
 *       choices of the same parity (the signed-number encoding alternates signs), then decrement;
 *   <li>swap adjacent spans of equal length and adjacent choices that are out of order (sorting);
 *   <li>only when those are stuck: move one choice's whole value onto a later one (lets
 *       {@code [60, 50]} under "sum &lt; 100" become {@code [0, 110]}, then {@code [100]}).
 * </ol>
 */
final class Shrinker<T> {

    /** One run of the generator and the property: the choices drawn and what happened. */
    record Attempt<T>(long[] choices, List<ChoiceSource.Span> spans, T value, Throwable error) {
    }

    private static final int REDISTRIBUTE_WINDOW = 4;

    private final Gen<T> gen;
    private final Property.ThrowingConsumer<T> body;
    private final int budget;
    private final Set<Choices> tried = new HashSet<>();
    private Attempt<T> best;
    private int steps;

    Shrinker(Gen<T> gen, Property.ThrowingConsumer<T> body, int budget, Attempt<T> failing) {
        this.gen = gen;
        this.body = body;
        this.budget = budget;
        this.best = failing;
    }

    /** Shrinks as far as the passes and the budget allow; returns the smallest failing attempt. */
    Attempt<T> shrink() {
        boolean improved = true;
        while (improved && steps < budget) {
            improved = false;
            boolean cheap = true;
            while (cheap && steps < budget) {
                cheap = deleteSpans() | deleteChunks() | minimiseChoices() | swapSpans() | sortAdjacent();
                improved |= cheap;
            }
            improved |= redistribute();
        }
        return best;
    }

    /** Runs of the property spent shrinking. */
    int steps() {
        return steps;
    }

    private boolean deleteSpans() {
        boolean improved = false;
        for (int i = best.spans().size() - 1; i >= 0; i--) {
            if (i < best.spans().size()) {
                ChoiceSource.Span span = best.spans().get(i);
                improved |= consider(without(best.choices(), span.start(), span.end()));
            }
        }
        return improved;
    }

    private boolean deleteChunks() {
        boolean improved = false;
        for (int k = 8; k >= 1; k /= 2) {
            for (int i = best.choices().length - k; i >= 0; i--) {
                if (i + k <= best.choices().length) {
                    improved |= consider(without(best.choices(), i, i + k));
                }
            }
        }
        return improved;
    }

    private boolean minimiseChoices() {
        boolean improved = false;
        for (int i = 0; i < best.choices().length; i++) {
            long c = best.choices()[i];
            if (c == 0) {
                continue;
            }
            // Zero first; then one lower: when that passes the choice is (locally) minimal, and the
            // binary search is skipped. Two lower keeps the sign of a signed number's choice.
            if (consider(with(best.choices(), i, 0))) {
                improved = true;
            } else if (consider(with(best.choices(), i, c - 1))) {
                improved = true;
                binarySearch(i, 1, 0);
            } else if (Long.compareUnsigned(c, 2) >= 0 && consider(with(best.choices(), i, c - 2))) {
                improved = true;
                binarySearch(i, 2, c & 1);
            }
        }
        return improved;
    }

    /**
     * Finds the smallest failing value {@code offset + stride·m} for choice {@code i}, assuming the
     * property fails from some m on; choice 0 is known to pass (it was tried first).
     */
    private boolean binarySearch(int i, int stride, long offset) { // stride: 1 or 2
        if (offset != 0 && consider(with(best.choices(), i, offset))) {
            return true;
        }
        long[] base = best.choices();
        long lo = 0;                                  // passes (or is invalid)
        long hi = (base[i] - offset) >>> (stride - 1); // fails: the current value (unsigned)
        boolean improved = false;
        while (Long.compareUnsigned(hi - lo, 1) > 0 && steps < budget) {
            long mid = lo + ((hi - lo) >>> 1);
            if (consider(with(base, i, offset + stride * mid))) {
                hi = mid;
                improved = true;
                if (i >= best.choices().length) {
                    break;
                }
                base = best.choices();
            } else {
                lo = mid;
            }
        }
        return improved;
    }

    private boolean swapSpans() {
        boolean improved = false;
        // Gnome sort: after a swap, step back to carry the smaller element further forward.
        for (int k = 0; k + 1 < best.spans().size(); k++) {
            ChoiceSource.Span a = best.spans().get(k);
            ChoiceSource.Span b = best.spans().get(k + 1);
            int length = a.end() - a.start();
            if (a.end() != b.start() || b.end() - b.start() != length) {
                continue;
            }
            long[] c = best.choices();
            if (Arrays.compareUnsigned(c, a.start(), a.end(), c, b.start(), b.end()) > 0) {
                long[] swapped = c.clone();
                System.arraycopy(c, b.start(), swapped, a.start(), length);
                System.arraycopy(c, a.start(), swapped, b.start(), length);
                if (consider(swapped)) {
                    improved = true;
                    k = Math.max(-1, k - 2);
                }
            }
        }
        return improved;
    }

    private boolean sortAdjacent() {
        boolean improved = false;
        for (int i = 0; i + 1 < best.choices().length; i++) {
            long[] c = best.choices();
            if (Long.compareUnsigned(c[i], c[i + 1]) > 0) {
                long[] swapped = c.clone();
                swapped[i] = c[i + 1];
                swapped[i + 1] = c[i];
                if (consider(swapped)) {
                    improved = true;
                    i = Math.max(-1, i - 2);
                }
            }
        }
        return improved;
    }

    /**
     * Moves value between choices that play the same part: the same position in two elements of
     * the same collection (spans of equal length, up to {@value #REDISTRIBUTE_WINDOW} apart), and
     * neighbouring choices (the fields of a pair, say).
     */
    private boolean redistribute() {
        boolean improved = false;
        for (int a = 0; a < best.spans().size(); a++) {
            for (int b = a + 1; b <= a + REDISTRIBUTE_WINDOW && b < best.spans().size(); b++) {
                ChoiceSource.Span first = best.spans().get(a);
                ChoiceSource.Span second = best.spans().get(b);
                int length = first.end() - first.start();
                if (first.end() > second.start() || second.end() - second.start() != length) {
                    continue; // nested, or elements of different shapes
                }
                for (int k = 0; k < length && second.end() <= best.choices().length; k++) {
                    improved |= move(first.start() + k, second.start() + k);
                }
            }
        }
        for (int i = 0; i + 1 < best.choices().length; i++) {
            improved |= move(i, i + 1);
        }
        return improved;
    }

    /** Moves as much as still fails from choice i onto choice j: all of it, else a binary search. */
    private boolean move(int i, int j) {
        long[] base = best.choices();
        long all = base[i];
        if (all == 0 || Long.compareUnsigned(base[j] + all, base[j]) < 0) {
            return false; // nothing to move, or the sum overflows
        }
        if (consider(moved(base, i, j, all))) {
            return true;
        }
        if (all == 1 || !consider(moved(base, i, j, 1))) {
            return false; // not even one unit moves: skip the search
        }
        long lo = 1;   // moving one unit fails (now the current best)
        long hi = all; // moving everything passes, or is no smaller
        boolean improved = false;
        while (Long.compareUnsigned(hi - lo, 1) > 0 && steps < budget) {
            long mid = lo + ((hi - lo) >>> 1);
            if (consider(moved(base, i, j, mid))) {
                lo = mid;
                improved = true;
            } else {
                hi = mid;
            }
        }
        return improved;
    }

    private static long[] moved(long[] c, int i, int j, long amount) {
        long[] result = c.clone();
        result[i] -= amount;
        result[j] += amount;
        return result;
    }

    /** Runs the candidate; keeps it if it still fails and drew shortlex-smaller choices. */
    private boolean consider(long[] candidate) {
        if (steps >= budget || !tried.add(new Choices(candidate))) {
            return false;
        }
        steps++;
        ChoiceSource source = ChoiceSource.replaying(candidate);
        T value;
        try {
            value = gen.generate(source);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (RuntimeException e) {
            return false; // these choices do not make a valid value (a filter gave up, say)
        }
        Throwable error = Property.run(body, value);
        long[] drawn = source.choices();
        if (error == null || !shortlexLess(drawn, best.choices())) {
            return false;
        }
        best = new Attempt<>(drawn, source.spans(), value, error);
        return true;
    }

    private static boolean shortlexLess(long[] a, long[] b) {
        if (a.length != b.length) {
            return a.length < b.length;
        }
        return Arrays.compareUnsigned(a, b) < 0;
    }

    private static long[] without(long[] c, int from, int to) {
        long[] result = new long[c.length - (to - from)];
        System.arraycopy(c, 0, result, 0, from);
        System.arraycopy(c, to, result, from, c.length - to);
        return result;
    }

    private static long[] with(long[] c, int i, long value) {
        long[] result = c.clone();
        result[i] = value;
        return result;
    }

    /** A choice sequence as a hash key. */
    private record Choices(long[] values) {

        @Override
        public boolean equals(Object o) {
            return o instanceof Choices other && Arrays.equals(values, other.values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }
    }
}
