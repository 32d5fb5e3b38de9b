package dev.raftkit.core.log;

import java.util.Arrays;
import java.util.Objects;

/**
 * One log entry. The payload array is owned by the entry once it is created: callers must not
 * change it afterwards (the core never copies payloads, to keep the commit path allocation-free).
 */
public record Entry(long term, long index, EntryType type, byte[] data) {

    private static final byte[] EMPTY = new byte[0];
    /** Fixed bytes counted per entry beyond its payload, for the byte limits of messages and batches. */
    public static final int OVERHEAD_BYTES = 24;

    public Entry {
        Objects.requireNonNull(type, "type");
        if (term < 1 || index < 1) {
            throw new IllegalArgumentException("entries start at term 1 and index 1, got " + index + "@" + term);
        }
        data = data == null ? EMPTY : data;
    }

    public static Entry normal(long term, long index, byte[] data) {
        return new Entry(term, index, EntryType.NORMAL, data);
    }

    public EntryId id() {
        return new EntryId(term, index);
    }

    /** The bytes this entry counts for against size limits. */
    public long sizeBytes() {
        return OVERHEAD_BYTES + data.length;
    }

    /** The same entry at the same position with a new term; used only by tests and tools. */
    public Entry withTerm(long newTerm) {
        return new Entry(newTerm, index, type, data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Entry e && e.term == term && e.index == index && e.type == type
                && Arrays.equals(e.data, data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(term, index, type, Arrays.hashCode(data));
    }

    @Override
    public String toString() {
        return index + "@" + term + (type == EntryType.CONF_CHANGE ? " conf" : "") + " " + data.length + "B";
    }
}
