package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.HeartbeatResponse;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.RequestVote;
import dev.raftkit.core.message.RequestVoteResponse;
import dev.raftkit.runtime.MemoryLogStorage;
import dev.raftkit.testkit.cluster.TestCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The rules for a node recovering lost state (issue 13; thesis §3.8): no vote, no campaign, its
 * acknowledgements not counted, recovery left only once caught up from a leader, and the flag
 * durable across restarts. Plus the leader's handling of a follower that lost what it acknowledged.
 */
class RecoveringNodeTest {

    /** Node 3 of a founded cluster {1,2,3} (log 1..3 at term 1) whose hard state says it is recovering. */
    private static RaftCore recoveringVoter(List<String> trace) {
        MemoryLogStorage s = MemoryLogStorage.bootstrap(Set.of(1L, 2L, 3L));
        s.setHardState(new HardState(1, 0, 3, true));
        RaftCore n = new RaftCore(RaftConfig.builder(3).preVote(true).checkQuorum(false).build(), s);
        n.setTracer((node, kind, detail) -> trace.add(kind + ": " + detail));
        n.ready(); // hands out the founding configuration: node 3 is a voter in its own view
        return n;
    }

    private static List<Message> sent(Ready r) {
        List<Message> all = new ArrayList<>(r.messages());
        all.addAll(r.messagesAfterPersist());
        return all;
    }

    @Test
    void aRecoveringNodeGrantsNoVoteOrPreVoteAndSaysWhy() {
        List<String> trace = new ArrayList<>();
        RaftCore n = recoveringVoter(trace);
        assertTrue(n.status().recovering());
        EntryId aheadOfAnyLog = new EntryId(9, 100);
        n.step(new RequestVote(2, 3, 2, aheadOfAnyLog, true, false));
        n.step(new RequestVote(2, 3, 2, aheadOfAnyLog, false, false));
        List<Message> out = sent(n.ready());
        assertEquals(2, out.size(), out.toString());
        for (Message m : out) {
            assertFalse(((RequestVoteResponse) m).granted(), "refused: " + m);
        }
        assertEquals(0, n.status().vote());
        assertEquals(2, trace.stream().filter(t -> t.startsWith("vote-refused") && t.contains("recovering lost state")).count(),
                trace.toString());
    }

    @Test
    void aRecoveringNodeNeverCampaigns() {
        List<String> trace = new ArrayList<>();
        RaftCore n = recoveringVoter(trace);
        n.campaign();
        for (int i = 0; i < 100; i++) {
            n.tick();
        }
        assertEquals(Role.FOLLOWER, n.role());
        assertEquals(1, n.term());
        assertTrue(sent(n.ready()).isEmpty());
        assertTrue(trace.contains("campaign-skipped: recovering lost state: no campaign until caught up from a leader"), trace.toString());
    }

    @Test
    void itLeavesRecoveryOnlyOnceItHoldsTheLeadersLogThroughAnEntryOfItsTermAndItsCommitIndex() {
        List<String> trace = new ArrayList<>();
        RaftCore n = recoveringVoter(trace);
        EntryId prev = new EntryId(1, 3);
        // Matching up to the leader's commit index is not enough while that entry is of an older
        // term: a leader's commit index may lag what earlier leaders committed.
        n.step(new AppendEntries(1, 3, 2, new LogSlice(prev, List.of()), 3));
        Ready r = n.ready();
        assertTrue(n.isRecovering());
        AppendEntriesResponse ack = (AppendEntriesResponse) r.messagesAfterPersist().get(0);
        assertTrue(ack.recovering() && !ack.reject() && ack.index() == 3, ack.toString());
        // The leader's entry of its own term, but its commit index beyond what we hold.
        n.step(new AppendEntries(1, 3, 2, new LogSlice(prev, List.of(Entry.normal(2, 4, new byte[0]))), 5));
        assertTrue(n.isRecovering());
        n.ready();
        n.step(new AppendEntries(1, 3, 2, new LogSlice(new EntryId(2, 4),
                List.of(Entry.normal(2, 5, new byte[] {7}))), 5));
        assertFalse(n.isRecovering());
        r = n.ready();
        assertEquals(new HardState(2, 1, 5, false), r.hardState(), "leaving recovery records a vote for the leader");
        assertTrue(r.mustSync());
        ack = (AppendEntriesResponse) r.messagesAfterPersist().get(0);
        assertFalse(ack.recovering(), "the answer sent once that is durable counts");
        assertTrue(trace.contains("recovered: caught up to 5@2 from leader 1 in term 2; it votes again"), trace.toString());
        // It votes again (in a later term, for an up-to-date candidate).
        n.step(new RequestVote(2, 3, 3, new EntryId(2, 5), false, false));
        assertTrue(((RequestVoteResponse) sent(n.ready()).get(0)).granted());
    }

    @Test
    void aLeaderDoesNotCountARecoveringFollowersAcknowledgementsOrHeartbeatAnswers() {
        TestCluster c = TestCluster.of(3);
        c.node(1).raft().campaign();
        c.stabilize();
        c.crash(2);
        RaftCore leader = c.node(1).raft();
        EntryId at = leader.propose(new byte[] {1});
        c.processReady(1);
        leader.step(new AppendEntriesResponse(3, 1, at.term(), false, at.index(), EntryId.ZERO, true));
        c.processReady(1);
        assertEquals(at.index() - 1, leader.committed(), "a recovering follower's ack commits nothing");
        assertTrue(leader.status().progress().get(3L).contains("recovering"), leader.status().progress().toString());
        // Its heartbeat answers confirm no read either.
        leader.readIndex(7, ReadMode.LINEARIZABLE);
        Ready r = c.takeReady(1);
        long round = r.messages().stream().filter(m -> m instanceof dev.raftkit.core.message.Heartbeat && m.to() == 3)
                .mapToLong(m -> ((dev.raftkit.core.message.Heartbeat) m).context()).findFirst().orElseThrow();
        c.persistAll(1);
        leader.step(new HeartbeatResponse(3, 1, at.term(), round, true));
        assertTrue(leader.ready().readStates().isEmpty(), "a recovering follower's heartbeat answer confirms no read");
        // Once it says it is no longer recovering, the same match counts.
        leader.step(new AppendEntriesResponse(3, 1, at.term(), false, at.index(), EntryId.ZERO, false));
        assertEquals(at.index(), leader.committed());
    }

    @Test
    void recoveringIsDurableAcrossARestartAndSoIsLeavingIt() {
        TestCluster c = TestCluster.of(3);
        c.node(1).raft().campaign();
        c.stabilize();
        c.wipe(3);
        c.processReady(3);
        assertTrue(c.node(3).storage().hardState().recovering());
        c.crash(3);
        c.restart(3);
        assertTrue(c.node(3).raft().isRecovering(), "a restart while recovering stays recovering");
        c.node(1).raft().propose(new byte[] {1});
        c.stabilize();
        assertFalse(c.node(3).raft().isRecovering());
        HardState hs = c.node(3).storage().hardState();
        assertFalse(hs.recovering());
        assertEquals(1, hs.vote());
        c.crash(3);
        c.restart(3);
        assertFalse(c.node(3).raft().isRecovering());
    }

    @Test
    void aFreshRejectionAtOrBelowMatchLowersTheMatchAndProbesFromTheHint() {
        Progress p = new Progress(0, 1, 4, 0, false);
        p.maybeUpdate(7);
        p.becomeReplicate();
        assertEquals(8, p.next());
        p.regressMatch(0, 0);
        assertEquals(0, p.match());
        assertEquals(1, p.next());
        assertEquals(Progress.State.PROBE, p.state());
        assertFalse(p.isPaused());
    }

    @Test
    void aRejectionAtTheMatchLowersItOnlyFromARecoveringFollower() {
        TestCluster c = TestCluster.of(3);
        c.node(1).raft().campaign();
        c.stabilize();
        RaftCore leader = c.node(1).raft();
        EntryId at = leader.propose(new byte[] {1});
        c.stabilize();
        assertEquals(at.index(), leader.matchIndex(2));
        EntryId hint = new EntryId(at.term(), at.index() - 1);
        // A rejection that was overtaken by 2's acceptance (reordered): 2 lost nothing.
        leader.step(new AppendEntriesResponse(2, 1, at.term(), true, at.index(), hint, false));
        assertEquals(at.index(), leader.matchIndex(2), "a stale rejection from a healthy follower changes nothing");
        // The same rejection from a follower that lost state and says so: its match goes back.
        leader.step(new AppendEntriesResponse(2, 1, at.term(), true, at.index(), hint, true));
        assertTrue(leader.matchIndex(2) < at.index(), "match " + leader.matchIndex(2));
    }

    @Test
    void aFullyMatchedFollowerThatComesBackRecoveringIsCaughtUpThoughNothingNewIsWritten() {
        // Found by the simulator (WIPE): the leader had node 3 matched through its last entry, so
        // with no new writes it sent only heartbeats, which reveal nothing; 3 stayed empty forever.
        TestCluster c = TestCluster.of(3);
        c.node(1).raft().campaign();
        c.stabilize();
        RaftCore leader = c.node(1).raft();
        EntryId at = leader.propose(new byte[] {1});
        c.stabilize();
        assertEquals(at.index(), leader.matchIndex(3));
        c.wipe(3);
        c.processReady(3);
        assertTrue(c.node(3).raft().isRecovering());
        for (int i = 0; i < 3; i++) {
            c.tickHeartbeat(1);
            c.stabilize();
        }
        assertEquals(at.index(), c.node(3).storage().lastIndex(), "the wiped follower holds the log again");
        assertEquals(at.index(), leader.matchIndex(3));
        assertFalse(c.node(3).raft().isRecovering());
    }

    @Test
    void anAcknowledgementFromBeforeAMembershipChangeNeverBecomesTheNewMembersMatch() {
        TestCluster c = TestCluster.of(3);
        c.node(1).raft().campaign();
        c.stabilize();
        RaftCore leader = c.node(1).raft();
        EntryId acked = leader.propose(new byte[] {1});
        c.stabilize();
        leader.proposeConfChange(dev.raftkit.core.confchange.ConfChange.remove(3));
        c.stabilize();
        c.crash(3);
        leader.proposeConfChange(dev.raftkit.core.confchange.ConfChange.addVoter(3));
        c.stabilize();
        assertTrue(leader.conf().isVoter(3));
        assertEquals(0, leader.matchIndex(3));
        // 3's answer from before its removal arrives only now.
        leader.step(AppendEntriesResponse.accept(3, 1, leader.term(), acked.index()));
        assertEquals(0, leader.matchIndex(3), "a stale acknowledgement is not the new member's match");
        assertTrue(leader.status().progress().get(3L).startsWith("PROBE"), leader.status().progress().toString());
    }
}
