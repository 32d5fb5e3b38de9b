package dev.raftkit.core;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Two majority configurations that must both agree (joint consensus, §4.3). Outside a
 * configuration change the outgoing half is empty and agrees to everything.
 */
record JointConfig(MajorityConfig incoming, MajorityConfig outgoing) {

    public static JointConfig of(Set<Long> incoming, Set<Long> outgoing) {
        return new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing));
    }

    /** Every voter of either half. */
    public Set<Long> ids() {
        Set<Long> all = new TreeSet<>(incoming.ids());
        all.addAll(outgoing.ids());
        return all;
    }

    public boolean contains(long id) {
        return incoming.ids().contains(id) || outgoing.ids().contains(id);
    }

    /** The largest index both halves have committed. */
    public long committedIndex(AckedIndexer acked) {
        return Math.min(incoming.committedIndex(acked), outgoing.committedIndex(acked));
    }

    /** Won only if both halves won; lost if either lost. */
    public VoteResult voteResult(Map<Long, Boolean> votes) {
        VoteResult in = incoming.voteResult(votes);
        VoteResult out = outgoing.voteResult(votes);
        if (in == out) {
            return in;
        }
        if (in == VoteResult.LOST || out == VoteResult.LOST) {
            return VoteResult.LOST;
        }
        return VoteResult.PENDING;
    }

    @Override
    public String toString() {
        return outgoing.size() == 0 ? incoming.toString() : incoming + "&&" + outgoing;
    }
}
