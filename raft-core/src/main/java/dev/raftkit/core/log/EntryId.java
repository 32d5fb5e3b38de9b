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
