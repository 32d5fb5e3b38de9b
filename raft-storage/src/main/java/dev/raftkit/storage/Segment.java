package dev.raftkit.storage;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One segment file and its in-memory index: the file offset of every record it holds.
 * Fields change only on the log-writer thread, under the log's write lock; readers look under the
 * read lock.
 */
final class Segment {

    static final String OPEN_PREFIX = "log_inprogress_";
    static final String CLOSED_PREFIX = "log_";

    final long firstIndex;
    /** Term of entry {@code firstIndex - 1}, from the header. */
    final long prevTerm;
    final FileIo.Handle handle;
    Path path;
    boolean open;
    /** {@code offsets[k]} is where the record of index {@code firstIndex + k} starts. */
    private int[] offsets = new int[64];
    private int count;
    /** Where the next record goes: the end of the last record. */
    long dataEnd = SegmentHeader.BYTES;

    Segment(Path path, FileIo.Handle handle, long firstIndex, long prevTerm, boolean open) {
        this.path = path;
        this.handle = handle;
        this.firstIndex = firstIndex;
        this.prevTerm = prevTerm;
        this.open = open;
    }

    static String openName(long first) {
        return String.format("%s%020d", OPEN_PREFIX, first);
    }

    static String closedName(long first, long last) {
        return String.format("%s%020d-%020d", CLOSED_PREFIX, first, last);
    }

    int count() {
        return count;
    }

    /** The last index held, or {@code firstIndex - 1} if empty. */
    long lastIndex() {
        return firstIndex + count - 1;
    }

    boolean contains(long index) {
        return index >= firstIndex && index < firstIndex + count;
    }

    long offset(long index) {
        return offsets[(int) (index - firstIndex)];
    }

    int recordBytes(long index) {
        int k = (int) (index - firstIndex);
        long end = k + 1 < count ? offsets[k + 1] : dataEnd;
        return (int) (end - offsets[k]);
    }

    /** Records the next record at {@code offset}, ending at {@code end}. */
    void add(long offset, long end) {
        if (count == offsets.length) {
            offsets = Arrays.copyOf(offsets, count * 2);
        }
        offsets[count++] = (int) offset;
        dataEnd = end;
    }

    /** Forgets records from {@code index} on. */
    void truncateFrom(long index) {
        int k = (int) (index - firstIndex);
        if (k < count) {
            dataEnd = offsets[k];
            count = k;
        }
    }

    @Override
    public String toString() {
        return path.getFileName() + "[" + firstIndex + ".." + lastIndex() + "]";
    }
}
