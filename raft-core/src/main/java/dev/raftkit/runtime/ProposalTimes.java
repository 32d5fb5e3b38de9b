package dev.raftkit.runtime;

/**
 * The raft loop's proposals waiting to commit, as (index, {@link System#nanoTime()}) pairs in
 * index order, for the commit-latency measurement: two growable circular arrays of longs, so
 * recording a proposal allocates nothing (once the arrays have grown to the number in flight).
 * Owned by the raft loop; used only when metrics are on.
 */
final class ProposalTimes {

    private long[] indexes = new long[64];
    private long[] times = new long[64];
    private int head;
    private int size;

    /** A proposal at {@code index} (higher than any held) made at {@code nanos}. */
    void add(long index, long nanos) {
        if (size == indexes.length) {
            grow();
        }
        int at = (head + size) % indexes.length;
        indexes[at] = index;
        times[at] = nanos;
        size++;
    }

    /** Reports, and forgets, every proposal at or below {@code committed}: committed at {@code now}. */
    void committed(long committed, long now, SafeMetrics metrics) {
        while (size > 0 && indexes[head] <= committed) {
            metrics.committed(now - times[head]);
            head = (head + 1) % indexes.length;
            size--;
        }
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Forgets every proposal: this node stopped leading, so whether they commit is not its to time. */
    void clear() {
        head = 0;
        size = 0;
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] i2 = new long[indexes.length * 2];
        long[] t2 = new long[indexes.length * 2];
        for (int k = 0; k < size; k++) {
            i2[k] = indexes[(head + k) % indexes.length];
            t2[k] = times[(head + k) % indexes.length];
        }
        indexes = i2;
        times = t2;
        head = 0;
    }
}
