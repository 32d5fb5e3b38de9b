package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The leader's bookkeeping of all members against brute force over the configuration. */
class ProgressTrackerTest {

    /** Node i's role: 0 absent, 1 incoming voter, 2 outgoing voter, 3 both, 4 learner, 5 learner-next (outgoing). */
    record Case(List<Integer> roles, List<Integer> matches, List<Integer> votes, List<Boolean> active, int self) {

        ConfState conf() {
            Set<Long> in = new TreeSet<>();
            Set<Long> out = new TreeSet<>();
            Set<Long> learners = new TreeSet<>();
            Set<Long> next = new TreeSet<>();
            for (int i = 0; i < roles.size(); i++) {
                long id = i + 1;
                switch (roles.get(i)) {
                    case 1 -> in.add(id);
                    case 2 -> out.add(id);
                    case 3 -> { in.add(id); out.add(id); }
                    case 4 -> learners.add(id);
                    case 5 -> { out.add(id); next.add(id); }
                    default -> { }
                }
            }
            boolean joint = !out.isEmpty();
            return new ConfState(in, out, learners, next, joint && roles.get(0) == 3);
        }
    }

    static final Gen<Case> CASES = source -> new Case(
            Gens.lists(Gens.ints(0, 5), 6, 6).generate(source),
            Gens.lists(Gens.ints(0, 5), 6, 6).generate(source),
            Gens.lists(Gens.ints(0, 2), 6, 6).generate(source),
            Gens.lists(Gens.booleans(), 6, 6).generate(source),
            source.nextInt(1, 6));

    private static boolean majority(Set<Long> half, java.util.function.Predicate<Long> yes) {
        return half.isEmpty() || 2 * half.stream().filter(yes).count() > half.size();
    }

    @Test
    void trackerAgreesWithBruteForce() {
        Property.check("ProgressTracker committed/votes/quorumActive = brute force", CASES, c -> {
            ConfState conf = c.conf();
            ProgressTracker t = new ProgressTracker(4, 0);
            t.applyConf(conf, 7);
            assertEquals(conf, t.conf());
            assertEquals(conf.members(), t.all().keySet());
            for (long id : conf.members()) {
                Progress p = t.get(id);
                assertEquals(0, p.match());
                assertEquals(7, p.next());
                assertEquals(!conf.isVoter(id), p.learner(), "learner flag of " + id + " in " + conf);
            }
            Map<Long, Long> match = new HashMap<>();
            for (long id : conf.members()) {
                long m = c.matches().get((int) id - 1);
                t.get(id).maybeUpdate(m);
                match.put(id, m);
                t.get(id).markRecentActive(c.active().get((int) id - 1));
                t.get(id).heartbeatAcknowledged(m); // acked heartbeat round = match, for quorumAckedRound
                t.get(id).markRecentActive(c.active().get((int) id - 1));
            }
            // Committed: the largest index both halves hold by majority.
            long want = 0;
            for (long i = 0; i <= 5; i++) {
                final long index = i;
                if (majority(conf.voters(), id -> match.getOrDefault(id, 0L) >= index)
                        && majority(conf.votersOutgoing(), id -> match.getOrDefault(id, 0L) >= index)) {
                    want = i;
                }
            }
            if (conf.voters().isEmpty() && conf.votersOutgoing().isEmpty()) {
                want = Long.MAX_VALUE;
            }
            assertEquals(want, t.committed(), "committed in " + conf + " with " + match);
            assertEquals(want, t.quorumAckedRound(), "quorum acked round in " + conf);
            // Votes: first answer counts; complete answers decide.
            Map<Long, Boolean> votes = new HashMap<>();
            for (long id = 1; id <= 6; id++) {
                int v = c.votes().get((int) id - 1);
                if (v != 0) {
                    t.recordVote(id, v == 1);
                    t.recordVote(id, v != 1); // a second answer is ignored
                    votes.put(id, v == 1);
                }
            }
            assertEquals(votes, t.votes());
            assertEquals(t.voters().voteResult(votes), t.tallyVotes());
            // CheckQuorum: voters heard from recently (self always) form a quorum in both halves.
            long self = c.self();
            java.util.function.Predicate<Long> heard = id -> id == self
                    || (conf.members().contains(id) && c.active().get(id.intValue() - 1));
            boolean active = majority(conf.voters(), heard) && majority(conf.votersOutgoing(), heard);
            assertEquals(active, t.quorumActive(self), "quorumActive(" + self + ") in " + conf + " active " + c.active());
            t.resetRecentActive(self);
            for (long id : conf.members()) {
                assertEquals(id == self, t.get(id).recentActive(), "recentActive of " + id + " after reset");
            }
            assertEquals(!conf.isJoint() && conf.voters().equals(Set.of(self)), t.isSingleton(self), "singleton " + conf);
            t.resetVotes();
            assertEquals(Map.of(), t.votes());
            assertEquals(conf.voters().isEmpty() && conf.votersOutgoing().isEmpty() ? VoteResult.WON
                    : VoteResult.PENDING, t.tallyVotes());
            // Progress survives a configuration change for members that stay; learner flags follow.
            Map<Long, Progress> before = new HashMap<>(t.all());
            ConfState simple = ConfState.ofVoters(conf.members().isEmpty() ? Set.of(1L) : conf.members());
            t.applyConf(simple, 9);
            for (long id : simple.members()) {
                if (before.containsKey(id)) {
                    assertSame(before.get(id), t.get(id), "progress of a staying member is kept");
                }
                assertTrue(!t.get(id).learner(), "voter " + id + " is not a learner");
            }
            t.resetProgress(11);
            for (Progress p : t.all().values()) {
                assertEquals(0, p.match());
                assertEquals(11, p.next());
            }
        });
    }

    @Test
    void progressDescribesItself() {
        Progress p = new Progress(3, 4, 2, 0, true);
        assertEquals("PROBE match=3 next=4 learner", p.toString());
        p.sentEntries(1, 10);
        assertEquals("PROBE match=3 next=4 learner paused", p.toString());
        p.becomeReplicate();
        p.sentEntries(2, 10);
        assertEquals("REPLICATE match=3 next=6 learner inflight=1", p.toString());
        p.setLearner(false);
        p.becomeSnapshot(9);
        assertEquals("SNAPSHOT match=3 next=6 paused pendingSnap=9", p.toString());
        assertEquals(false, p.learner());
        p.heartbeatAcknowledged(5);
        p.heartbeatAcknowledged(2);
        assertEquals(5, p.ackedRound());
        p.markRecentActive(false);
        assertEquals(false, p.recentActive());
    }

    @Test
    void replicateSendsAdvanceNextByTheEntriesSentAndPauseOnlyWhenFull() {
        Progress p = new Progress(0, 1, 2, 0, false);
        p.becomeReplicate();
        p.sentEntries(3, 10);
        assertEquals(4, p.next());
        assertEquals(false, p.isPaused());
        p.sentEntries(0, 0);
        assertEquals(4, p.next());
        assertEquals(1, p.inflights().count());
        p.sentEntries(1, 10);
        assertEquals(true, p.isPaused());
        p.freeInflightsUpTo(3);
        assertEquals(false, p.isPaused());
        assertEquals(1, p.inflights().count());
    }
}
