package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.Heartbeat;
import dev.raftkit.core.message.HeartbeatResponse;
import dev.raftkit.core.message.Message;
import dev.raftkit.testkit.cluster.TestCluster;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Numbers a peer sends (terms, indexes) are bounded before the core does arithmetic on them, and
 * the core itself never overflows a term: issue 12's "one heartbeat with term 2^63−1 ends
 * elections forever", and a forged answer that would let a leader commit alone.
 */
class PeerNumberBoundsTest {

    @Test
    void oneHeartbeatWithTermMaxLongDoesNotEndElections() {
        TestCluster c = TestCluster.elected(3);
        long before = c.node(1).raft().term();
        List<String> trace = new ArrayList<>();
        c.setTracer((node, kind, detail) -> trace.add(node + " " + kind + " " + detail));
        // The exact input of the issue, to every node, claiming to come from another member.
        for (long to = 1; to <= 3; to++) {
            long from = to == 3 ? 1 : 3;
            c.node(to).raft().step(new Heartbeat(from, to, Long.MAX_VALUE, 0, 1));
        }
        c.stabilize();
        for (long id = 1; id <= 3; id++) {
            assertEquals(before, c.node(id).raft().term(), "node " + id + " adopted the forged term");
        }
        assertTrue(trace.stream().anyMatch(l -> l.contains("message-ignored")), trace.toString());

        // Elections still work: the leader goes away and another node is elected in term + 1.
        c.isolate(1);
        c.tickElection(2);
        c.stabilize();
        assertEquals(Role.LEADER, c.node(2).raft().role());
        assertEquals(before + 1, c.node(2).raft().term());
    }

    @Test
    void aNodeAtTheLargestTermNeverCampaignsIntoAnOverflowedTerm() {
        TestCluster c = TestCluster.elected(3);
        // MAX_TERM itself is within bounds (a peer may legitimately be there), so it is adopted.
        c.node(2).raft().step(new Heartbeat(1, 2, EntryId.MAX_TERM, 0, 1));
        c.stabilize();
        assertEquals(EntryId.MAX_TERM, c.node(2).raft().term());
        List<String> trace = new ArrayList<>();
        c.setTracer((node, kind, detail) -> trace.add(node + " " + kind + " " + detail));
        c.isolate(1);
        c.tickElection(2);
        c.node(2).raft().campaign();
        while (c.node(2).raft().hasReady()) {
            c.processReady(2);
        }
        for (Message m : c.inFlight()) {
            assertTrue(m.term() >= 0 && m.term() <= EntryId.MAX_TERM, "malformed term in " + m);
        }
        assertEquals(EntryId.MAX_TERM, c.node(2).raft().term());
        assertTrue(trace.stream().anyMatch(l -> l.contains("campaign-skipped") && l.contains("largest allowed")),
                trace.toString());
    }

    @Test
    void forgedAppendResponseBeyondTheLeadersLogDoesNotCommit() {
        TestCluster c = TestCluster.elected(3);
        long committed = c.node(1).raft().log().committed();
        c.isolate(1);
        c.node(1).raft().propose("only-on-the-leader".getBytes(StandardCharsets.UTF_8));
        c.stabilize();
        long last = c.node(1).raft().log().lastIndex();
        assertTrue(last > committed);
        // Node 3 "answers" that it matches far beyond anything the leader ever sent.
        c.node(1).raft().step(AppendEntriesResponse.accept(3, 1, c.node(1).raft().term(), last + 1_000_000));
        c.stabilize();
        assertEquals(committed, c.node(1).raft().log().committed(),
                "the leader committed an entry that only it holds on a forged answer");
    }

    @Test
    void forgedHeartbeatAnswersForAFutureRoundDoNotConfirmReads() {
        TestCluster c = TestCluster.elected(3);
        c.isolate(1);
        c.node(1).raft().readIndex(42, ReadMode.LINEARIZABLE);
        List<ReadState> served = new ArrayList<>();
        while (c.node(1).raft().hasReady()) {
            served.addAll(c.processReady(1).readStates());
        }
        long term = c.node(1).raft().term();
        // Cut off from both followers, the leader "hears" both answer a round it never sent.
        c.node(1).raft().step(new HeartbeatResponse(2, 1, term, Long.MAX_VALUE));
        c.node(1).raft().step(new HeartbeatResponse(3, 1, term, Long.MAX_VALUE));
        while (c.node(1).raft().hasReady()) {
            served.addAll(c.processReady(1).readStates());
        }
        assertTrue(served.isEmpty(), "a read was confirmed without a quorum: " + served);
    }
}
