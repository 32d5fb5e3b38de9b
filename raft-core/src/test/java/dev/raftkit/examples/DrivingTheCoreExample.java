package dev.raftkit.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftCore;
import dev.raftkit.core.Ready;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.runtime.MemoryLogStorage;
import dev.raftkit.testkit.docs.DocSnippets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The example of docs/user-guide.md ("Driving the core"), kept compiling, correct and identical to
 * the page by this test: a single-node cluster driven by hand through the Ready loop. The lines
 * between the {@code core-setup:} and {@code core-loop:} markers are the page's two blocks.
 */
class DrivingTheCoreExample {

    private static final Path SOURCE = Path.of("src/test/java/dev/raftkit/examples/DrivingTheCoreExample.java");

    @Test
    void aSingleNodeCommitsAndAppliesACommand() {
        // core-setup:start
        MemoryLogStorage storage = MemoryLogStorage.bootstrap(Set.of(1L));   // or SegmentedLogStorage
        RaftCore node = new RaftCore(RaftConfig.builder(1).build(), storage);
        // core-setup:end
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
            // core-loop:start
            while (node.hasReady()) {
                Ready ready = node.ready();          // taking it accepts it: nothing is handed out twice
                // 1. persist snapshot, entries, hard state; fsync (many Readys may share one fsync)
                if (ready.snapshot() != null) {
                    storage.installSnapshot(ready.snapshot());
                }
                storage.append(ready.entries());
                if (ready.hardState() != null) {
                    storage.setHardState(ready.hardState());
                }
                storage.sync();
                // 2. send ready.messages() and ready.snapshotsToSend() at once (a snapshot streams its bytes);
                //    ready.messagesAfterPersist() only now that it is durable (one node has no peers)
                node.onPersisted(ready.number());
                // 3. apply ready.committedEntries() in order; ready.confChanges() says the configuration
                //    after each configuration-change entry among them
                for (Entry e : ready.committedEntries()) {
                    if (e.type() == EntryType.NORMAL && e.data().length > 0) {
                        applied.add(new String(e.data(), StandardCharsets.UTF_8));
                    }
                }
                if (!ready.committedEntries().isEmpty()) {
                    node.onApplied(ready.lastCommittedIndex());
                }
            }
            // core-loop:end
        }
        assertEquals(List.of("hello"), applied);
    }

    @Test
    void theDocumentationShowsExactlyTheTestedCode() throws IOException {
        Path page = Path.of("../docs/user-guide.md");
        DocSnippets.assertShown(page, DocSnippets.between(SOURCE, "core-setup"));
        DocSnippets.assertShown(page, DocSnippets.between(SOURCE, "core-loop"));
    }
}
