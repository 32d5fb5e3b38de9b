package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.log.LogView;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.TimeoutNow;
import dev.raftkit.testkit.cluster.TestCluster;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, "impersonating the leader makes replicas diverge": a member that is not its term's
 * leader sends leader-only messages in that term. A follower that knows its term's leader ignores
 * them (one leader per term), so a node whose identity is proven (mTLS) cannot make replicas
 * diverge by speaking as a leader it is not.
 */
class ForgedSenderTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aLeadersMessagesFromAnotherMemberInTheSameTermAreIgnored() {
        TestCluster c = TestCluster.of(3);
        c.node(1).raft().campaign();
        c.stabilize();
        c.node(1).raft().propose(bytes("real"));
        c.stabilize();
        LogView log2 = c.node(2).raft().log();
        long term = c.node(2).raft().term();
        EntryId last = log2.lastEntryId();
        List<String> trace = new ArrayList<>();
        c.setTracer((node, kind, detail) -> trace.add(node + " " + kind + " " + detail));

        // Node 3 "appends" a forged put at last + 1 in the current term, and tells node 2 to campaign.
        Entry forged = Entry.normal(term, last.index() + 1, bytes("forged"));
        c.node(2).raft().step(new AppendEntries(3, 2, term, new LogSlice(last, List.of(forged)), last.index() + 1));
        c.node(2).raft().step(new TimeoutNow(3, 2, term));
        c.stabilize();
        assertEquals(last, log2.lastEntryId(), "node 2 appended the forged entry");
        assertEquals(Role.FOLLOWER, c.node(2).raft().role());
        assertTrue(trace.stream().anyMatch(l -> l.startsWith("2 message-ignored AppendEntries from 3")), trace.toString());

        // The real leader's next entry lands at that index on every node: no divergence.
        c.node(1).raft().propose(bytes("next"));
        c.stabilize();
        for (long id = 1; id <= 3; id++) {
            LogView log = c.node(id).raft().log();
            Entry at = log.slice(last.index() + 1, last.index() + 2, Long.MAX_VALUE).get(0);
            assertArrayEquals(bytes("next"), at.data(), "node " + id + " diverged");
        }
    }
}
