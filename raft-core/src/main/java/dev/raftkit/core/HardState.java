package dev.raftkit.core;

/**
 * The state a node must persist before it acts on it (§3.8): its current term, whom it voted
 * for in that term ({@code 0} for nobody), the highest index it knows to be committed, and
 * whether it is <em>recovering</em> lost state.
 *
 * <p>A node is recovering when it started with no durable state (a fresh or wiped directory, or a
 * damaged log tail was cut) and is not founding a cluster: in an earlier life under the same id it
 * may have voted and acknowledged entries it no longer holds. Until it has caught up from a leader
 * it grants no vote, never campaigns, and its acknowledgements do not count (see
 * docs/divergence.md, "Lost state"). The flag is persisted so a restart while recovering stays
 * recovering.
 */
public record HardState(long term, long vote, long commit, boolean recovering) {

    public static final HardState EMPTY = new HardState(0, 0, 0);

    /** The empty hard state of a node that lost its state and must recover it before it votes. */
    public static final HardState LOST = new HardState(0, 0, 0, true);

    public HardState {
        if (term < 0 || vote < 0 || commit < 0) {
            throw new IllegalArgumentException("negative hard state " + term + "/" + vote + "/" + commit);
        }
    }

    /** A hard state of a node that is not recovering. */
    public HardState(long term, long vote, long commit) {
        this(term, vote, commit, false);
    }

    /**
     * True if persisting this instead of {@code previous} needs an fsync: term, vote or the
     * recovering flag changed (leaving recovery records a vote, §3.8).
     */
    public boolean needsSyncComparedTo(HardState previous) {
        return term != previous.term || vote != previous.vote || recovering != previous.recovering;
    }

    @Override
    public String toString() {
        return "term=" + term + " vote=" + vote + " commit=" + commit + (recovering ? " recovering" : "");
    }
}
