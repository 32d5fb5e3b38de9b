package dev.raftkit.core;

import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The leader's and candidate's bookkeeping over the current configuration: one {@link Progress}
 * per member, and the votes of the current election.
 */
final class ProgressTracker {

    private final int maxInflight;
    private final long maxInflightBytes;
    private ConfState conf = ConfState.EMPTY;
    private JointConfig voters = JointConfig.of(java.util.Set.of(), java.util.Set.of());
    private final TreeMap<Long, Progress> progress = new TreeMap<>();
    private final Map<Long, Boolean> votes = new HashMap<>();

    public ProgressTracker(int maxInflight, long maxInflightBytes) {
        this.maxInflight = maxInflight;
        this.maxInflightBytes = maxInflightBytes;
    }

    /**
     * Switches to {@code newConf}: new members get a fresh progress probing from {@code nextIndex},
     * removed members are forgotten, the rest keep theirs.
     */
    public void applyConf(ConfState newConf, long nextIndex) {
        conf = newConf;
        voters = JointConfig.of(newConf.voters(), newConf.votersOutgoing());
        progress.keySet().retainAll(newConf.members());
        for (long id : newConf.members()) {
            boolean learner = newConf.isLearner(id) && !newConf.isVoter(id);
            Progress p = progress.get(id);
            if (p == null) {
                progress.put(id, new Progress(0, nextIndex, maxInflight, maxInflightBytes, learner));
            } else {
                p.setLearner(learner);
            }
        }
    }

    /** Forgets every follower's progress: all probe from {@code nextIndex}, nothing matched. */
    public void resetProgress(long nextIndex) {
        for (Map.Entry<Long, Progress> e : progress.entrySet()) {
            e.setValue(new Progress(0, nextIndex, maxInflight, maxInflightBytes, e.getValue().learner()));
        }
    }

    public ConfState conf() {
        return conf;
    }

    public JointConfig voters() {
        return voters;
    }

    public Progress get(long id) {
        return progress.get(id);
    }

    /** Every member's progress, by id. */
    public SortedMap<Long, Progress> all() {
        return Collections.unmodifiableSortedMap(progress);
    }

    /**
     * The highest index a quorum of voters has matched. A voter recovering lost state counts as
     * matching nothing: it may have acknowledged, in an earlier life, entries it no longer holds,
     * and it does not know its old term, so it could be following a stale leader (docs/divergence.md,
     * "Lost state").
     */
    public long committed() {
        return voters.committedIndex(id -> {
            Progress p = progress.get(id);
            return p == null || p.recovering() ? 0 : p.match();
        });
    }

    /**
     * The highest heartbeat round a quorum of voters has acknowledged; a recovering voter's answer
     * confirms nothing (it may be answering a stale leader in a term it has forgotten it left).
     */
    public long quorumAckedRound() {
        return voters.committedIndex(id -> {
            Progress p = progress.get(id);
            return p == null || p.recovering() ? 0 : p.ackedRound();
        });
    }

    /** True if the only voter is {@code id}. */
    public boolean isSingleton(long id) {
        return conf.votersOutgoing().isEmpty() && conf.voters().size() == 1 && conf.voters().contains(id);
    }

    public void resetVotes() {
        votes.clear();
    }

    /** Records a vote; only the first answer from each voter counts. */
    public void recordVote(long id, boolean granted) {
        votes.putIfAbsent(id, granted);
    }

    public VoteResult tallyVotes() {
        return voters.voteResult(votes);
    }

    public Map<Long, Boolean> votes() {
        return Collections.unmodifiableMap(votes);
    }

    /** CheckQuorum (§6.2): did a quorum of voters (counting {@code self}) answer recently? */
    public boolean quorumActive(long self) {
        Map<Long, Boolean> active = new HashMap<>();
        for (Map.Entry<Long, Progress> e : progress.entrySet()) {
            if (!e.getValue().learner()) {
                active.put(e.getKey(), e.getKey() == self || e.getValue().recentActive());
            }
        }
        return voters.voteResult(active) == VoteResult.WON;
    }

    /** Starts a new CheckQuorum period: everyone but {@code self} must be heard from again. */
    public void resetRecentActive(long self) {
        progress.forEach((id, p) -> p.markRecentActive(id == self));
    }
}
