package dev.raftkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftNode;
import dev.raftkit.core.Ready;
import dev.raftkit.core.log.Entry;
import dev.raftkit.runtime.MemoryLogStorage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The example of docs/user-guide.md ("Driving the core"), kept compiling and correct by this test:
 * a single-node cluster driven by hand through the Ready loop.
 */
class DrivingTheCoreExample {

    @Test
    void aSingleNodeCommitsAndAppliesACommand() {
        // Durable state. MemoryLogStorage stands in for raft-storage's SegmentedLogStorage.
        MemoryLogStorage storage = MemoryLogStorage.bootstrap(Set.of(1L));
        RaftNode node = new RaftNode(RaftConfig.builder(1).build(), storage);
        List<String> applied = new ArrayList<>();

        boolean proposed = false;
        for (int round = 0; round < 20; round++) {
            // A node learns its configuration from the committed entries its first Ready hands out;
            // until then it is not a voter and ignores campaign(). (With a ticking runtime the
            // election timeout fires long after that.)
            if (round == 1) {
                node.campaign();
            }
            if (node.isLeader() && !proposed) {
                node.propose("hello".getBytes(StandardCharsets.UTF_8));
                proposed = true;
            }
            while (node.hasReady()) {
                Ready ready = node.ready();
                // 1. Persist: snapshot, entries, hard state — then fsync (one per batch of Readys).
                if (ready.snapshot() != null) {
                    storage.installSnapshot(ready.snapshot());
                }
                storage.append(ready.entries());
                if (ready.hardState() != null) {
                    storage.setHardState(ready.hardState());
                }
                storage.sync();
                // 2. Send ready.messages() at once and ready.messagesAfterPersist() now that it is
                //    durable (a single node has no peers), then acknowledge.
                node.onPersisted(ready.number());
                // 3. Apply committed entries in order, then acknowledge.
                for (Entry e : ready.committedEntries()) {
                    if (e.data().length > 0 && e.type() == dev.raftkit.core.log.EntryType.NORMAL) {
                        applied.add(new String(e.data(), StandardCharsets.UTF_8));
                    }
                }
                if (!ready.committedEntries().isEmpty()) {
                    node.onApplied(ready.lastCommittedIndex());
                }
            }
        }
        assertEquals(List.of("hello"), applied);
    }
}
