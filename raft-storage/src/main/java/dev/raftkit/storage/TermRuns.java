package dev.raftkit.storage;

import java.util.Arrays;

/**
 * The term of every index in the log, kept as runs {@code (startIndex, term)}: terms change rarely,
 * so this costs a few bytes per leader change instead of eight per entry. The first run starts at
 * {@code firstIndex - 1} so {@code term(firstIndex - 1)} is always known.
 */
final class TermRuns {

    private long[] starts = new long[16];
    private long[] terms = new long[16];
    private int n;

    /** Only the position before the log: {@code index} has {@code term}. */
    void reset(long index, long term) {
        starts[0] = index;
        terms[0] = term;
        n = 1;
    }

    void append(long index, long term) {
        if (terms[n - 1] == term) {
            return;
        }
        if (n == starts.length) {
            starts = Arrays.copyOf(starts, n * 2);
            terms = Arrays.copyOf(terms, n * 2);
        }
        starts[n] = index;
        terms[n] = term;
        n++;
    }

    /** Forgets indexes from {@code index} on; {@code index} is above the first run's start. */
    void truncateFrom(long index) {
        while (n > 1 && starts[n - 1] >= index) {
            n--;
        }
    }

    /** Forgets indexes below {@code index}, which becomes the first run's start. */
    void dropBefore(long index) {
        int r = find(index);
        System.arraycopy(starts, r, starts, 0, n - r);
        System.arraycopy(terms, r, terms, 0, n - r);
        n -= r;
        starts[0] = index;
    }

    /** The term at {@code index}, which the caller has checked is in range. */
    long termAt(long index) {
        return terms[find(index)];
    }

    private int find(long index) {
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (starts[mid] <= index) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }
}
