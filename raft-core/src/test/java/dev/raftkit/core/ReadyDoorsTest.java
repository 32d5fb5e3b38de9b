package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.confchange.AppliedConfChange;
import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.testkit.cluster.TestCluster;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What leaves the core does so through the Ready's own fields, not re-derived by the runtime. */
class ReadyDoorsTest {

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void proposeReturnsThePositionItProposedAt() {
        TestCluster c = TestCluster.elected(3);
        RaftCore leader = c.node(1).raft();
        EntryId at = leader.propose(bytes("x"));
        assertEquals(leader.term(), at.term());
        c.stabilize();
        Entry applied = c.node(2).applied().get(c.node(2).applied().size() - 1);
        assertEquals(at, applied.id());
        assertEquals("x", new String(applied.data(), StandardCharsets.UTF_8));
    }

    @Test
    void everyNodeIsToldTheConfigurationAfterEachAppliedChange() {
        TestCluster c = TestCluster.elected(3);
        c.addNode(4);
        List<Ready> readys = new ArrayList<>();
        List<Long> from = new ArrayList<>();
        c.observeReadys((id, r) -> {
            readys.add(r);
            from.add(id);
        });
        EntryId at = c.node(1).raft().proposeConfChange(ConfChange.addLearner(4));
        c.stabilize();

        for (long id = 1; id <= 4; id++) {
            List<AppliedConfChange> told = new ArrayList<>();
            int confEntries = 0;
            for (int i = 0; i < readys.size(); i++) {
                if (from.get(i) != id) {
                    continue;
                }
                Ready r = readys.get(i);
                told.addAll(r.confChanges());
                confEntries += (int) r.committedEntries().stream().filter(e -> e.type() == EntryType.CONF_CHANGE).count();
                assertEquals(r.committedEntries().stream().filter(e -> e.type() == EntryType.CONF_CHANGE).count(),
                        r.confChanges().size(), "one decision per configuration entry in the same Ready");
            }
            if (id == 4) {
                continue; // the learner catches up from the leader; whether by entries or snapshot varies
            }
            assertEquals(1, confEntries, "node " + id);
            AppliedConfChange change = told.get(0);
            assertEquals(at.index(), change.index());
            assertTrue(change.accepted());
            assertTrue(change.conf().learners().contains(4L), change.conf().toString());
            assertEquals(c.node(id).raft().conf(), change.conf());
        }
    }

    @Test
    void snapshotsToSendTravelApartFromMessages() {
        TestCluster c = TestCluster.elected(3);
        c.isolate(3);
        for (int i = 0; i < 5; i++) {
            c.node(1).raft().propose(bytes("v" + i));
        }
        c.stabilize();
        c.compact(1);
        List<Ready> readys = new ArrayList<>();
        c.observeReadys((id, r) -> {
            if (id == 1) {
                readys.add(r);
            }
        });
        c.heal();
        for (int i = 0; i < 4 && readys.stream().allMatch(r -> r.snapshotsToSend().isEmpty()); i++) {
            c.tickHeartbeat(1);
            c.stabilize();
        }
        assertTrue(readys.stream().anyMatch(r -> r.snapshotsToSend().stream()
                .anyMatch(s -> s.to() == 3 && s.snapshot().index() == c.node(1).appliedIndex())),
                "the leader sends node 3 its snapshot at its compacted index");
        for (Ready r : readys) {
            assertFalse(r.messages().stream().anyMatch(m -> m instanceof InstallSnapshot), "in messages: " + r);
            assertFalse(r.messagesAfterPersist().stream().anyMatch(m -> m instanceof InstallSnapshot));
        }
        assertEquals(TestCluster.describe(c.node(1).applied()), TestCluster.describe(c.node(3).applied()));
    }
}
