package dev.raftkit.core.log;

/**
 * A position in the log: an index and the term of the entry stored there. Two logs that hold an
 * entry with the same {@code EntryId} are identical up to and including it (Log Matching, §3.5).
 *
 * <p>Used everywhere a (term, index) pair would otherwise travel as two bare {@code long}s.
 */
public record EntryId(long term, long index) implements Comparable<EntryId> {

    /** The position before the first entry of an empty, never-compacted log. */
    public static final EntryId ZERO = new EntryId(0, 0);

    /**
     * The largest term a node enters or accepts from a peer: {@code Long.MAX_VALUE / 2}. Bounding
     * terms (and indexes, {@link #MAX_INDEX}) where they enter means no arithmetic on a peer's
     * number can overflow: {@code term + 1}, and the sum of any two bounded values, is still a
     * positive {@code long}. A cluster holding one election per millisecond needs about 146 million
     * years to reach it, so only a forged or corrupt message ever carries a larger one.
     */
    public static final long MAX_TERM = Long.MAX_VALUE / 2;

    /** The largest log index accepted from a peer (see {@link #MAX_TERM} for why it is bounded). */
    public static final long MAX_INDEX = Long.MAX_VALUE / 2;

    public EntryId {
        if (term < 0 || index < 0) {
            throw new IllegalArgumentException("negative term or index: " + term + "/" + index);
        }
    }

    /**
     * Orders logs by up-to-dateness (§5.4.1): the higher last term wins; with equal terms the
     * longer log wins.
     */
    @Override
    public int compareTo(EntryId other) {
        int byTerm = Long.compare(term, other.term);
        return byTerm != 0 ? byTerm : Long.compare(index, other.index);
    }

    /** True if a log ending at this position is at least as up to date as one ending at {@code other}. */
    public boolean isUpToDateWith(EntryId other) {
        return compareTo(other) >= 0;
    }

    @Override
    public String toString() {
        return index + "@" + term;
    }
}
