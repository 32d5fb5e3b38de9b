package dev.raftkit.core;

/**
 * The appends sent to one follower and not yet acknowledged, as a ring of (last index, bytes).
 * Bounded by count and by bytes, so a slow follower cannot make the leader buffer without limit.
 */
final class Inflights {

    private final int capacity;
    private final long maxBytes;
    private long[] indexes = new long[0];
    private long[] sizes = new long[0];
    private int start;
    private int count;
    private long bytes;

    /** @param maxBytes 0 for no byte limit */
    public Inflights(int capacity, long maxBytes) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        this.capacity = capacity;
        this.maxBytes = maxBytes;
    }

    /** Records an append whose last entry is {@code index}; indexes must increase. */
    public void add(long index, long size) {
        if (full()) {
            throw new IllegalStateException("cannot add to full inflights (" + count + " messages, " + bytes + " bytes)");
        }
        if (count == indexes.length) {
            grow();
        }
        int slot = (start + count) % indexes.length;
        indexes[slot] = index;
        sizes[slot] = size;
        count++;
        bytes += size;
    }

    /** Frees every append whose last index is at or below {@code index}. */
    public void freeLE(long index) {
        while (count > 0 && indexes[start] <= index) {
            bytes -= sizes[start];
            start = (start + 1) % indexes.length;
            count--;
        }
        if (count == 0) {
            start = 0;
        }
    }

    public boolean full() {
        return count == capacity || (maxBytes > 0 && bytes >= maxBytes);
    }

    public int count() {
        return count;
    }

    public long bytes() {
        return bytes;
    }

    public void reset() {
        start = 0;
        count = 0;
        bytes = 0;
    }

    private void grow() {
        int newSize = Math.min(capacity, Math.max(4, indexes.length * 2));
        long[] ni = new long[newSize];
        long[] ns = new long[newSize];
        for (int i = 0; i < count; i++) {
            ni[i] = indexes[(start + i) % indexes.length];
            ns[i] = sizes[(start + i) % indexes.length];
        }
        indexes = ni;
        sizes = ns;
        start = 0;
    }
}
