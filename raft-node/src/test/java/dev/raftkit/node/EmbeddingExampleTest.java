package dev.raftkit.node;

import static dev.raftkit.node.CounterStateMachine.add;
import static dev.raftkit.node.CounterStateMachine.valueOf;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.ReadMode;
import dev.raftkit.core.Role;
import dev.raftkit.grpc.GrpcTransport;
import dev.raftkit.grpc.GrpcTransportConfig;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftListener;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.testkit.docs.DocSnippets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps sections 1 and 2 of docs/embedding.md compiling, working and identical to the page: the
 * state machine ({@link CounterStateMachine}, between its {@code counter:} markers) and a durable
 * one-node server assembled from main artifacts only (raft-core's runtime, raft-storage's log and
 * snapshot store, raft-grpc's transport), between the {@code example:} markers below.
 */
class EmbeddingExampleTest {

    private static final Path SOURCE = Path.of("src/test/java/dev/raftkit/node/EmbeddingExampleTest.java");
    private static final Path MACHINE = Path.of("src/test/java/dev/raftkit/node/CounterStateMachine.java");
    private static final Path PAGE = Path.of("../docs/embedding.md");

    @TempDir
    Path dataDir;

    @Test
    void aDurableSingleNodeCounterServiceCountsReadsBackAndSurvivesARestart() throws Exception {
        // example:start
        CompletableFuture<Void> elected = new CompletableFuture<>();
        RaftServer server = RaftServer.builder(RaftConfig.builder(1).build())
                .logStorage(SegmentedLogStorage.open(dataDir.resolve("log")))            // fsync'd segments
                .snapshotStore(FileSnapshotStore.open(dataDir.resolve("snapshots")))
                .stateMachine(new CounterStateMachine())
                .transport(new GrpcTransport(GrpcTransportConfig.builder("counters", 1).build()))  // peers: .peer(id, address)
                .bootstrap(Set.of(1L))                     // found a new one-node cluster, on first start only
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
        server.close();                                    // closes the log, the store, the transport, the machine
        // example:end
        assertEquals(5, five);
        assertEquals(3, three);

        CompletableFuture<Void> again = new CompletableFuture<>();
        RaftServer restarted = RaftServer.builder(RaftConfig.builder(1).build())
                .logStorage(SegmentedLogStorage.open(dataDir.resolve("log")))
                .snapshotStore(FileSnapshotStore.open(dataDir.resolve("snapshots")))
                .stateMachine(new CounterStateMachine())
                .transport(new GrpcTransport(GrpcTransportConfig.builder("counters", 1).build()))
                .tickMillis(20)
                .listener(new RaftListener() {
                    @Override
                    public void onRoleChange(Role role, long term, long leader) {
                        if (leader != 0) {
                            again.complete(null);
                        }
                    }
                })
                .start();
        try {
            again.get(10, SECONDS);
            assertEquals(3, valueOf(restarted.read(new byte[0], ReadMode.LINEARIZABLE).get(5, SECONDS)),
                    "the server's state is durable: a restart rebuilds the count from its log");
        } finally {
            restarted.close();
        }
    }

    @Test
    void theDocumentationShowsExactlyTheTestedCode() throws IOException {
        DocSnippets.assertShown(PAGE, DocSnippets.between(MACHINE, "counter"));
        List<String> code = DocSnippets.between(SOURCE, "example");
        DocSnippets.assertShown(PAGE, code);
        // Any other page that shows it (the README) must show it exactly.
        if (Files.readAllLines(Path.of("../README.md")).stream().map(String::strip).anyMatch(code.get(0)::equals)) {
            DocSnippets.assertShown(Path.of("../README.md"), code);
        }
    }
}
