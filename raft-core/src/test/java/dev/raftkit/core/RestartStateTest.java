package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.MemoryLogStorage;
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
        RaftNode node = new RaftNode(RaftConfig.builder(1).applied(5).build(), logOfFive());
        assertEquals(5, node.committed());
        assertEquals(5, node.status().applied());
    }

    @Test
    void aStateMachineAheadOfTheLogIsRefusedWithWhatToDo() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new RaftNode(RaftConfig.builder(1).applied(7).build(), logOfFive()));
        assertTrue(e.getMessage().contains("applied up to 7 but the log ends at 5"), e.getMessage());
        assertTrue(e.getMessage().contains("restore this node"), e.getMessage());
    }

    @Test
    void aCommitIndexBeyondTheLogIsRefused() {
        MemoryLogStorage s = logOfFive();
        s.setHardState(new HardState(2, 1, 9));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new RaftNode(RaftConfig.builder(1).build(), s));
        assertTrue(e.getMessage().contains("durable commit index 9 is beyond the last log index 5"), e.getMessage());
    }
}
