package dev.raftkit.node;

import static dev.raftkit.node.CounterStateMachine.add;
import static dev.raftkit.node.CounterStateMachine.valueOf;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.testkit.docs.DocSnippets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the "a durable, networked node" example of docs/embedding.md compiling and working: the
 * lines between the two {@code example:} marker comments are the text the page shows, and the
 * second test fails if the two drift apart.
 */
class RaftNodeExampleTest {

    private static final Path SOURCE = Path.of("src/test/java/dev/raftkit/node/RaftNodeExampleTest.java");

    @TempDir
    Path dataDir;

    @Test
    void aDurableOneNodeCounterServesClientsAndKeepsItsCountAcrossARestart() throws Exception {
        // example:start
        RaftNode node = RaftNode.builder("counters", 1)
                .dataDir(dataDir)                        // log/ and snapshots/ live here
                .bootstrap(Set.of(1L))                   // found a one-node cluster on first start
                .stateMachine(new CounterStateMachine())
                .start();                                // peer and client ports: loopback, any free port
        long count;
        try (RaftClient client = RaftClient.builder("counters").node(1, node.clientHostPort()).build()) {
            client.submit(add(5));                       // returns once applied, fsync'd on a majority
            client.submit(add(-2));
            count = valueOf(client.read(new byte[0], ReadMode.LINEARIZABLE));
        }
        node.close();                                    // closes the state machine too
        // example:end
        assertEquals(3, count);
        RaftNode again = RaftNode.builder("counters", 1).dataDir(dataDir)
                .stateMachine(new CounterStateMachine()).start();
        try (RaftClient client = RaftClient.builder("counters").node(1, again.clientHostPort()).build()) {
            assertEquals(3, valueOf(client.read(new byte[0], ReadMode.LINEARIZABLE)),
                    "a restarted node rebuilds its count from its log");
        } finally {
            again.close();
        }
    }

    @Test
    void theDocumentationShowsExactlyTheTestedCode() throws IOException {
        List<String> code = DocSnippets.between(SOURCE, "example");
        DocSnippets.assertShown(Path.of("../docs/embedding.md"), code);
        DocSnippets.assertShown(Path.of("../README.md"), code);
    }
}
