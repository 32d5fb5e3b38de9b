package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.message.Message;
import dev.raftkit.runtime.MemoryLogStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A state machine that does not keep up holds back the committed entries a node hands out: no
 * more than {@code maxCommittedBytesPerReady} (plus the one entry that crosses it) wait to be
 * applied at any time, so a slow apply thread cannot make committed entries pile up in memory.
 */
class ApplyBackPressureTest {

    private final MemoryLogStorage storage = MemoryLogStorage.bootstrap(Set.of(1L));
    private final RaftCore node = new RaftCore(RaftConfig.builder(1).maxCommittedBytesPerReady(2_000).build(), storage);

    /** Persists every Ready; returns the committed entries handed out, without reporting them applied. */
    private List<Entry> drive() {
        List<Entry> handedOut = new ArrayList<>();
        while (node.hasReady()) {
            Ready r = node.ready();
            if (r.snapshot() != null) {
                storage.installSnapshot(r.snapshot());
            }
            storage.append(r.entries());
            if (r.hardState() != null) {
                storage.setHardState(r.hardState());
            }
            handedOut.addAll(r.committedEntries());
            for (Message m : r.messages()) {
                node.step(m);
            }
            node.onPersisted(r.number());
            // A lone voter's own votes and acknowledgements come back as messages to itself.
            for (Message m : r.messagesAfterPersist()) {
                node.step(m);
            }
        }
        return handedOut;
    }

    private static long bytes(List<Entry> entries) {
        return entries.stream().mapToLong(Entry::sizeBytes).sum();
    }

    @Test
    void noMoreThanTheCapWaitsToBeApplied() {
        // Start-up hands out the founding configuration; a node campaigns once it is applied.
        List<Entry> founding = drive();
        node.onApplied(founding.get(founding.size() - 1).index());
        node.campaign();
        List<Entry> empty = drive(); // the new leader's empty entry
        assertEquals(Role.LEADER, node.role());
        node.onApplied(empty.get(empty.size() - 1).index());
        for (int i = 0; i < 100; i++) {
            node.propose(new byte[100]);
        }
        List<Entry> first = drive();
        // At most the cap, plus the one entry that may cross it (so that any entry, however large, goes out).
        long oneEntry = first.get(0).sizeBytes();
        assertTrue(!first.isEmpty() && bytes(first) <= 2_000 + oneEntry, "handed out " + bytes(first) + " bytes");
        assertTrue(node.committed() > first.get(first.size() - 1).index(), "more is committed than handed out");
        assertTrue(drive().isEmpty(), "nothing more until the state machine catches up");

        // The state machine applies the batch: the next one comes, until all 100 are applied.
        long applied = first.get(first.size() - 1).index();
        int batches = 1;
        while (applied < node.committed()) {
            node.onApplied(applied);
            List<Entry> next = drive();
            assertTrue(!next.isEmpty() && bytes(next) <= 2_000 + oneEntry, "batch of " + bytes(next) + " bytes");
            assertEquals(applied + 1, next.get(0).index(), "in order, nothing skipped");
            applied = next.get(next.size() - 1).index();
            batches++;
        }
        assertTrue(batches >= 5, "100 entries of ~130 B in batches of at most 2,000 B: " + batches + " batches");
    }
}
