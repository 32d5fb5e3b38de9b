package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.log.LogView;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.RequestVote;
import dev.raftkit.core.message.RequestVoteResponse;
import dev.raftkit.testkit.cluster.TestCluster;
import dev.raftkit.testkit.cluster.TestNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The rules of the Raft paper (Ongaro and Ousterhout, "In Search of an Understandable Consensus
 * Algorithm", §5.2–§5.4), one test each: setup, fault, expectation. Randomized runs are seeded.
 */
class PaperRulesTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<Entry> entries(TestNode n) {
        LogView log = n.raft().log();
        return log.slice(log.firstIndex(), log.lastIndex() + 1, Long.MAX_VALUE);
    }

    private static TestCluster electedCluster(int n) {
        TestCluster c = TestCluster.of(n);
        c.node(1).raft().campaign();
        c.stabilize();
        assertEquals(Role.LEADER, c.node(1).raft().role());
        return c;
    }

    // ---------------------------------------------------------------------------------------
    // A seeded random run with partitions, drops, ticks and proposals, observed after every step.

    interface Observer {
        void after(TestCluster c, int step);
    }

    private static void chaos(long seed, int nodes, int steps, Observer observer) {
        SplittableRandom random = new SplittableRandom(seed);
        TestCluster c = TestCluster.of(nodes);
        int proposals = 0;
        for (int step = 0; step < steps; step++) {
            int what = random.nextInt(100);
            long id = 1 + random.nextInt(nodes);
            if (what < 25) {
                c.tick(id, 1 + random.nextInt(4));
            } else if (what < 35) {
                for (long other : c.ids()) {
                    c.tick(other, 1);
                }
            } else if (what < 50) {
                for (TestNode n : c.nodes()) {
                    if (n.raft().isLeader()) {
                        try {
                            n.raft().propose(bytes("p" + proposals++));
                        } catch (RaftException refused) {
                            // A leader may refuse (transfer, limits): not what this run checks.
                        }
                    }
                }
            } else if (what < 85) {
                List<Message> flight = new ArrayList<>(c.inFlight());
                if (!flight.isEmpty()) {
                    Message m = flight.get(random.nextInt(flight.size()));
                    if (random.nextInt(10) == 0) {
                        c.drop(x -> x == m);
                    } else {
                        c.deliver(x -> x == m);
                    }
                }
            } else if (what < 90) {
                c.isolate(id);
            } else {
                c.heal();
            }
            for (TestNode n : c.nodes()) {
                while (n.raft().hasReady()) {
                    c.processReady(n.id());
                }
            }
            observer.after(c, step);
        }
    }

    /** Seeds of the randomized runs; {@code -Dpaper.seeds=n} runs fewer (the mutation profile does). */
    private static final long[] SEEDS = java.util.stream.LongStream.rangeClosed(1, Integer.getInteger("paper.seeds", 8))
            .toArray();

    // ---------------------------------------------------------------------------------------
    // §5.2 Leader election.

    @Test
    @DisplayName("§5.2 ElectionSafety: at most one leader per term")
    void electionSafety_atMostOneLeaderPerTerm() {
        int[] leadersSeen = {0};
        for (long seed : SEEDS) {
            Map<Long, Long> leaderOfTerm = new HashMap<>();
            // Setup: 5 nodes; fault: random partitions, drops and timeouts; expectation: no term
            // ever has two leaders.
            chaos(seed, 5, 1500, (c, step) -> {
                for (TestNode n : c.nodes()) {
                    if (n.raft().isLeader()) {
                        Long before = leaderOfTerm.putIfAbsent(n.raft().term(), n.id());
                        if (before == null) {
                            leadersSeen[0]++;
                        }
                        assertTrue(before == null || before == n.id(), "term " + n.raft().term() + " has leaders "
                                + before + " and " + n.id() + " (step " + step + ")");
                    }
                }
            });
        }
        assertTrue(leadersSeen[0] >= SEEDS.length, "the runs elected too few leaders to mean anything");
    }

    @Test
    @DisplayName("§5.2 a candidate that wins votes from a majority becomes leader")
    void candidateWithMajorityBecomesLeader() {
        // Setup: 3 nodes, node 3 cut off; node 1 times out.
        TestCluster c = TestCluster.of(3);
        c.isolate(3);
        c.tickElection(1);
        c.stabilize();
        // Expectation: votes from 1 and 2 (a majority) make it leader; 2 follows it.
        assertEquals(Role.LEADER, c.node(1).raft().role());
        assertEquals(1, c.node(2).raft().leader());
        assertEquals(c.node(1).raft().term(), c.node(2).raft().term());
        assertEquals(Role.FOLLOWER, c.node(3).raft().role());
    }

    @Test
    @DisplayName("§5.2 a candidate without a majority does not become leader")
    void candidateWithoutMajorityStaysCandidate() {
        TestCluster c = TestCluster.of(3);
        c.isolate(1);
        c.tickElection(1);
        c.stabilize();
        assertEquals(Role.CANDIDATE, c.node(1).raft().role());
    }

    @Test
    @DisplayName("§5.2 a follower votes for at most one candidate per term")
    void followerVotesAtMostOncePerTerm() {
        // Setup: 3 nodes at term 1. Fault: two candidates (2 and 3) ask node 1 for term 2.
        TestCluster c = TestCluster.of(3);
        EntryId last = c.node(1).raft().log().lastEntryId();
        c.node(1).raft().step(new RequestVote(2, 1, 2, last, false, false));
        c.node(1).raft().step(new RequestVote(3, 1, 2, last, false, false));
        c.processReady(1);
        Map<Long, Boolean> granted = new HashMap<>();
        for (Message m : c.inFlight()) {
            if (m instanceof RequestVoteResponse r && r.from() == 1) {
                granted.put(r.to(), r.granted());
            }
        }
        // Expectation: the first gets the vote, the second is refused; asking again is idempotent.
        assertEquals(Map.of(2L, true, 3L, false), granted);
        c.drop(m -> true);
        c.node(1).raft().step(new RequestVote(2, 1, 2, last, false, false));
        c.processReady(1);
        assertTrue(c.inFlight().stream().anyMatch(m -> m instanceof RequestVoteResponse r && r.to() == 2 && r.granted()));
    }

    @Test
    @DisplayName("§5.2 a leader that sees a higher term steps down")
    void higherTermMakesLeaderStepDown() {
        // Setup: 1 leads; fault: it is cut off and 2 is elected in a higher term.
        TestCluster c = electedCluster(3);
        long oldTerm = c.node(1).raft().term();
        c.isolate(1);
        c.tickElection(2);
        c.stabilize();
        assertEquals(Role.LEADER, c.node(2).raft().role());
        assertEquals(Role.LEADER, c.node(1).raft().role(), "cut off, the old leader does not know yet");
        // Expectation: the first message from the new term makes it a follower of that term.
        c.heal();
        c.tickHeartbeat(2);
        c.stabilize();
        assertEquals(Role.FOLLOWER, c.node(1).raft().role());
        assertTrue(c.node(1).raft().term() > oldTerm);
        assertEquals(2, c.node(1).raft().leader());
    }

    @Test
    @DisplayName("§5.2 election timeouts are randomized (seeded) in [election, 2·election)")
    void electionTimeoutsAreRandomized() {
        Set<Integer> seen = new HashSet<>();
        for (long seed = 1; seed <= 40; seed++) {
            final long s = seed;
            List<Integer> timeouts = new ArrayList<>();
            List<Integer> again = new ArrayList<>();
            for (List<Integer> out : List.of(timeouts, again)) {
                // Setup: a node that hears nothing; it times out, campaigns, times out again...
                TestCluster c = TestCluster.of(3, b -> b.randomSeed(s));
                c.isolate(1);
                long term = c.node(1).raft().term();
                int ticks = 0;
                while (out.size() < 5) {
                    c.tick(1, 1);
                    ticks++;
                    if (c.node(1).raft().term() != term) {
                        out.add(ticks);
                        ticks = 0;
                        term = c.node(1).raft().term();
                    }
                    assertTrue(ticks < 100, "no election after 100 ticks");
                }
            }
            int election = RaftConfig.builder(1).build().electionTicks();
            for (int t : timeouts) {
                assertTrue(t >= election && t < 2 * election, "timeout " + t + " outside [" + election + ", "
                        + 2 * election + ") with seed " + seed);
            }
            assertEquals(timeouts, again, "the same seed gives the same timeouts");
            seen.addAll(timeouts);
        }
        assertTrue(seen.size() >= 5, "timeouts are not spread: " + seen);
    }

    // ---------------------------------------------------------------------------------------
    // §5.3 Log replication.

    @Test
    @DisplayName("§5.3 Leader Append-Only: a leader never overwrites or deletes its entries")
    void leaderAppendOnly() {
        for (long seed : SEEDS) {
            Map<Long, List<Entry>> leaderLogs = new HashMap<>();
            chaos(seed, 3, 800, (c, step) -> {
                for (TestNode n : c.nodes()) {
                    List<Entry> key = leaderLogs.get(n.raft().term() * 100 + n.id());
                    if (!n.raft().isLeader()) {
                        continue;
                    }
                    List<Entry> now = entries(n);
                    if (key != null) {
                        assertTrue(now.size() >= key.size() && now.subList(0, key.size()).equals(key),
                                "leader " + n.id() + " changed its log in term " + n.raft().term() + " (step " + step + ")");
                    }
                    leaderLogs.put(n.raft().term() * 100 + n.id(), now);
                }
            });
        }
    }

    @Test
    @DisplayName("§5.3 Log Matching: a follower rejects an append whose prev it does not hold")
    void logMatching_followerRejectsMismatchedPrev() {
        TestCluster c = electedCluster(3);
        c.drainLog();
        long term = c.node(1).raft().term();
        long last = c.node(2).raft().log().lastIndex();
        List<Entry> before = entries(c.node(2));
        // Fault: a leader of the next term claims prev = its last entry, but with a term the
        // follower does not hold there; then a prev past the follower's end.
        EntryId wrongTerm = new EntryId(term + 1, last);
        assertNotEquals(term + 1, c.node(2).raft().log().term(last));
        for (EntryId prev : List.of(wrongTerm, new EntryId(term + 1, last + 5))) {
            c.drop(m -> true);
            c.node(2).raft().step(new AppendEntries(1, 2, term + 1, new LogSlice(prev,
                    List.of(Entry.normal(term + 1, prev.index() + 1, bytes("x")))), 0));
            c.processReady(2);
            // Expectation: rejected, and the log is untouched.
            assertEquals(before, entries(c.node(2)));
            assertTrue(c.inFlight().stream().anyMatch(m -> m instanceof AppendEntriesResponse r && r.reject()
                    && r.index() == prev.index()), "rejection of " + prev + ": " + c.inFlight());
        }
    }

    @Test
    @DisplayName("§5.3 Log Matching: logs that share an entry are identical up to it")
    void logMatching_acrossNodes() {
        for (long seed : SEEDS) {
            chaos(seed, 5, 800, (c, step) -> {
                List<TestNode> nodes = c.nodes();
                for (TestNode a : nodes) {
                    for (TestNode b : nodes) {
                        if (a.id() >= b.id()) {
                            continue;
                        }
                        List<Entry> la = entries(a);
                        List<Entry> lb = entries(b);
                        int n = Math.min(la.size(), lb.size());
                        int lastSame = -1;
                        for (int i = 0; i < n; i++) {
                            if (la.get(i).id().equals(lb.get(i).id())) {
                                lastSame = i;
                            }
                        }
                        assertEquals(la.subList(0, lastSame + 1), lb.subList(0, lastSame + 1),
                                "nodes " + a.id() + " and " + b.id() + " share " + (lastSame + 1) + " entries but differ before");
                    }
                }
            });
        }
    }

    @Test
    @DisplayName("§5.3 a follower truncates its conflicting suffix to match the leader")
    void followerTruncatesConflictingSuffix() {
        // Setup: 1 leads; fault: cut off, it appends entries nobody else gets.
        TestCluster c = electedCluster(3);
        c.isolate(1);
        c.node(1).raft().propose(bytes("lost-1"));
        c.node(1).raft().propose(bytes("lost-2"));
        c.stabilize();
        long oldLast = c.node(1).raft().log().lastIndex();
        // 2 is elected and commits its own entries.
        c.tickElection(2);
        c.stabilize();
        assertEquals(Role.LEADER, c.node(2).raft().role());
        c.node(2).raft().propose(bytes("kept"));
        c.stabilize();
        assertNotEquals(entries(c.node(1)), entries(c.node(2)));
        // Expectation: once healed, 1 replaces its suffix with the leader's.
        c.heal();
        c.tickHeartbeat(2);
        c.stabilize();
        assertEquals(entries(c.node(2)), entries(c.node(1)));
        assertTrue(entries(c.node(1)).stream().noneMatch(e -> new String(e.data(), StandardCharsets.UTF_8).startsWith("lost")));
        assertTrue(c.node(1).raft().log().lastIndex() >= oldLast - 1);
        assertEquals(TestCluster.describe(c.node(2).applied()), TestCluster.describe(c.node(1).applied()));
    }

    @Test
    @DisplayName("§5.3 committed entries are applied in log order, the same on every node")
    void committedEntriesAreAppliedInOrder() {
        for (long seed : SEEDS) {
            chaos(seed, 5, 800, (c, step) -> {
                List<TestNode> nodes = c.nodes();
                for (TestNode n : nodes) {
                    List<Entry> applied = n.applied();
                    for (int i = 0; i < applied.size(); i++) {
                        assertEquals(i + 1, applied.get(i).index(), "node " + n.id() + " applied out of order");
                    }
                    assertTrue(n.appliedIndex() <= n.raft().committed(), "applied beyond commit on " + n.id());
                }
                // State Machine Safety: one applied sequence is a prefix of every longer one.
                for (TestNode a : nodes) {
                    for (TestNode b : nodes) {
                        if (a.applied().size() <= b.applied().size()) {
                            assertEquals(a.applied(), b.applied().subList(0, a.applied().size()),
                                    "nodes " + a.id() + " and " + b.id() + " applied different entries (step " + step + ")");
                        }
                    }
                }
            });
        }
    }

    // ---------------------------------------------------------------------------------------
    // §5.4 Safety.

    @Test
    @DisplayName("§5.4.1 a voter refuses a candidate whose log is less up to date")
    void voterRefusesCandidateWithStaleLog() {
        // Setup: 1 leads and replicates to 2 only; 3 misses the entry.
        TestCluster c = electedCluster(3);
        c.cut(1, 3);
        c.node(1).raft().propose(bytes("x"));
        c.stabilize();
        assertTrue(c.node(2).raft().log().lastEntryId().compareTo(c.node(3).raft().log().lastEntryId()) > 0);
        // Fault: 3 times out and campaigns.
        c.heal();
        c.isolate(1);
        c.tickElection(3);
        c.processReady(3);
        c.deliver(m -> m instanceof RequestVote && m.to() == 2);
        c.processReady(2);
        // Expectation: 2 refuses, and 3 does not become leader.
        List<Message> answers = c.deliver(m -> m instanceof RequestVoteResponse && m.from() == 2 && m.to() == 3);
        assertEquals(1, answers.size());
        assertFalse(((RequestVoteResponse) answers.get(0)).granted(), "2 voted for a candidate behind it");
        c.stabilize();
        assertNotEquals(Role.LEADER, c.node(3).raft().role());
    }

    @Test
    @DisplayName("§5.4.2 a leader commits by counting replicas only entries of its own term (Figure 8)")
    void leaderCommitsOnlyCurrentTermEntriesByCounting() {
        // One entry per AppendEntries, so replication can be stopped between two entries.
        TestCluster c = TestCluster.of(3, b -> b.maxMsgBytes(1));
        c.node(1).raft().campaign();
        c.stabilize();
        // Setup (Figure 8): leader 1 (term 2) appends x, which only it holds.
        c.isolate(1);
        c.node(1).raft().propose(bytes("x"));
        c.stabilize();
        long x = c.node(1).raft().log().lastIndex();
        // 2 is elected in term 3 with 3's vote and appends a no-op that nobody else gets.
        c.heal();
        c.isolate(1);
        c.tickElection(2);
        c.processReady(2);
        c.deliver(m -> m instanceof RequestVote);
        c.processReady(3);
        c.deliver(m -> m instanceof RequestVoteResponse);
        c.processReady(2);
        assertEquals(Role.LEADER, c.node(2).raft().role());
        c.drop(m -> m.from() == 2);
        c.heal();
        c.isolate(2);
        // 3 campaigns and loses (1's log is ahead), but moves 1 to its term; then 1 campaigns.
        c.tickElection(3);
        c.stabilize();
        assertNotEquals(Role.LEADER, c.node(3).raft().role());
        c.tickElection(1);
        // Fault: replicate one message at a time; x (term 2) reaches 3 before 1's own no-op does.
        boolean xOnMajorityUncommitted = false;
        for (int i = 0; i < 1000; i++) {
            for (long id : List.of(1L, 3L)) {
                while (c.node(id).raft().hasReady()) {
                    c.processReady(id);
                }
            }
            if (c.inFlight().isEmpty()) {
                break;
            }
            Message next = c.inFlight().get(0);
            c.deliver(m -> m == next);
            TestNode leader = c.node(1);
            long commit = leader.raft().committed();
            // Expectation: whenever the leader commits, the entry it commits is of its own term.
            if (leader.raft().isLeader() && commit >= x) {
                assertEquals(leader.raft().term(), leader.raft().log().term(commit),
                        "leader committed " + commit + " of an earlier term by counting replicas");
            }
            if (leader.raft().isLeader() && c.node(3).raft().log().matchTerm(new EntryId(2, x)) && commit < x) {
                xOnMajorityUncommitted = true;
            }
        }
        assertEquals(Role.LEADER, c.node(1).raft().role());
        assertTrue(xOnMajorityUncommitted, "x was never on a majority while uncommitted: the scenario did not happen");
        // x commits with the leader's no-op, once that is on a majority.
        assertEquals(x + 1, c.node(1).raft().committed());
        assertEquals(c.node(1).raft().term(), c.node(1).raft().log().term(x + 1));
        assertEquals(2, c.node(1).raft().log().term(x));
    }

    @Test
    @DisplayName("§5.4 Leader Completeness: every leader holds every committed entry")
    void leaderCompleteness() {
        for (long seed : SEEDS) {
            Map<Long, Long> committedTerms = new HashMap<>();
            chaos(seed, 5, 1500, (c, step) -> {
                for (TestNode n : c.nodes()) {
                    LogView log = n.raft().log();
                    for (long i = log.firstIndex(); i <= log.committed(); i++) {
                        Long before = committedTerms.putIfAbsent(i, log.term(i));
                        assertTrue(before == null || before == log.term(i), "index " + i + " committed at two terms");
                    }
                }
                for (TestNode n : c.nodes()) {
                    if (!n.raft().isLeader()) {
                        continue;
                    }
                    LogView log = n.raft().log();
                    committedTerms.forEach((index, term) -> {
                        if (index >= log.firstIndex()) {
                            assertEquals(term, log.termOrZero(index), "leader " + n.id() + " of term "
                                    + n.raft().term() + " lacks committed entry " + index + "@" + term + " (step " + step + ")");
                        }
                    });
                }
            });
        }
    }
}
