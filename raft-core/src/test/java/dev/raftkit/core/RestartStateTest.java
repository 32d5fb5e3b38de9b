package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.confchange.ConfChangeCodec;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.message.RequestVote;
import dev.raftkit.runtime.MemoryLogStorage;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a node accepts, and refuses, as its durable state at start-up. */
class RestartStateTest {

    private static MemoryLogStorage logOfFive() {
        MemoryLogStorage s = MemoryLogStorage.bootstrap(Set.of(1L, 2L, 3L));
        s.append(List.of(Entry.normal(2, 4, new byte[] {1}), Entry.normal(2, 5, new byte[] {2})));
        s.setHardState(new HardState(2, 1, 3));
        return s;
    }

    @Test
    void aStateMachineAheadOfTheDurableCommitIndexMeansThoseEntriesWereCommitted() {
        RaftCore node = new RaftCore(RaftConfig.builder(1).applied(5).build(), logOfFive());
        assertEquals(5, node.committed());
        assertEquals(5, node.status().applied());
    }

    @Test
    void aStateMachineAheadOfTheLogIsRefusedWithWhatToDo() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new RaftCore(RaftConfig.builder(1).applied(7).build(), logOfFive()));
        assertTrue(e.getMessage().contains("applied up to 7 but the log ends at 5"), e.getMessage());
        assertTrue(e.getMessage().contains("restore this node"), e.getMessage());
    }

    @Test
    void aCommitIndexBeyondTheLogIsRefused() {
        MemoryLogStorage s = logOfFive();
        s.setHardState(new HardState(2, 1, 9));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new RaftCore(RaftConfig.builder(1).build(), s));
        assertTrue(e.getMessage().contains("durable commit index 9 is beyond the last log index 5"), e.getMessage());
    }

    @Test
    void everyConfigurationChangeButTheLastCountsAsCommittedSoANodeNeverCampaignsTwoChangesBehind() {
        // Simulator, seed 1734 of a five-node SQL sweep: node 4's log held "remove 3" and "remove 1"
        // (voters [2, 4, 5]), but its lazily stored commit index was 5. Restarted, it counted votes
        // in [1..5]; removed nodes 1 and 3 elected it, and it overwrote committed entries.
        MemoryLogStorage s = MemoryLogStorage.bootstrap(Set.of(1L, 2L, 3L, 4L, 5L));
        s.append(List.of(
                new Entry(2, 6, EntryType.CONF_CHANGE, ConfChangeCodec.encode(ConfChange.remove(3))),
                Entry.normal(2, 7, new byte[] {1}),
                new Entry(2, 8, EntryType.CONF_CHANGE, ConfChangeCodec.encode(ConfChange.remove(1))),
                Entry.normal(2, 9, new byte[] {2})));
        s.setHardState(new HardState(2, 0, 5));
        RaftCore node = new RaftCore(RaftConfig.builder(4).electionTicks(10).build(), s);
        // "remove 1" was proposed only after "remove 3" was applied, so "remove 3" is committed.
        assertEquals(6, node.committed());
        // And with a committed change not yet applied, the node does not campaign (it would count
        // votes in a configuration the cluster has left).
        node.campaign();
        assertTrue(node.ready().messages().stream().noneMatch(m -> m instanceof RequestVote),
                "campaigned with a committed configuration change unapplied");
    }
}
