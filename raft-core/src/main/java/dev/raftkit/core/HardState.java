package dev.raftkit.core;

/**
 * The state a node must persist before it acts on it (§3.8): its current term, whom it voted
 * for in that term ({@code 0} for nobody), and the highest index it knows to be committed.
 */
public record HardState(long term, long vote, long commit) {

    public static final HardState EMPTY = new HardState(0, 0, 0);

    public HardState {
        if (term < 0 || vote < 0 || commit < 0) {
            throw new IllegalArgumentException("negative hard state " + term + "/" + vote + "/" + commit);
        }
    }

    /** True if persisting this instead of {@code previous} needs an fsync: term or vote changed. */
    public boolean needsSyncComparedTo(HardState previous) {
        return term != previous.term || vote != previous.vote;
    }

    @Override
    public String toString() {
        return "term=" + term + " vote=" + vote + " commit=" + commit;
    }
}
