package dev.raftkit.kv.examples;

import static dev.raftkit.kv.examples.CounterStateMachine.add;
import static dev.raftkit.kv.examples.CounterStateMachine.valueOf;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.Role;
import dev.raftkit.runtime.MemoryLogStorage;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftListener;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.core.ReadMode;
import dev.raftkit.testkit.runtime.LocalNetwork;
import dev.raftkit.testkit.runtime.MemorySnapshotStore;
import dev.raftkit.testkit.docs.DocSnippets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Keeps the "embedding Raftkit in a service" example of docs/embedding.md compiling and working.
 * The lines between the two {@code example:} marker comments below are the text the
 * documentation shows; a second test fails if the two drift apart.
 */
class EmbeddingExampleTest {

    private static final Path SOURCE = Path.of("src/test/java/dev/raftkit/kv/examples/EmbeddingExampleTest.java");

    @Test
    void aSingleNodeCounterServiceCountsAndReadsBack() throws Exception {
        try (LocalNetwork network = new LocalNetwork()) {
            // example:start
            CompletableFuture<Void> elected = new CompletableFuture<>();
            RaftServer server = RaftServer.builder(RaftConfig.builder(1).build())
                    .logStorage(new MemoryLogStorage())        // durable: SegmentedLogStorage.open(dir)
                    .snapshotStore(new MemorySnapshotStore())  // durable: FileSnapshotStore.open(dir)
                    .stateMachine(new CounterStateMachine())
                    .transport(network.transport(1))           // between machines: the gRPC transport
                    .bootstrap(Set.of(1L))                     // found a new one-node cluster
                    .tickMillis(20)
                    .listener(new RaftListener() {
                        @Override
                        public void onRoleChange(Role role, long term, long leader) {
                            if (leader != 0) {
                                elected.complete(null);
                            }
                        }
                    })
                    .start();
            elected.get(10, SECONDS);

            // A session makes retries exactly-once: a resent command is applied at most once.
            ClientSession session = server.newSession().get(5, SECONDS);
            long five = valueOf(session.submit(add(5)).get(5, SECONDS));
            session.submit(add(-2)).get(5, SECONDS);
            long three = valueOf(server.read(new byte[0], ReadMode.LINEARIZABLE).get(5, SECONDS));
            server.close();
            // example:end
            assertEquals(5, five);
            assertEquals(3, three);
        }
    }

    @Test
    void theDocumentationShowsExactlyTheTestedCode() throws IOException {
        List<String> code = DocSnippets.between(SOURCE, "example");
        DocSnippets.assertShown(Path.of("../docs/embedding.md"), code);
        // Any other page that shows it (the README) must show it exactly.
        if (Files.readAllLines(Path.of("../README.md")).stream().map(String::strip).anyMatch(code.get(0)::equals)) {
            DocSnippets.assertShown(Path.of("../README.md"), code);
        }
    }
}
