package dev.raftkit.kv.examples;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.ReadMode;
import dev.raftkit.kv.KvEntry;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvResult;
import dev.raftkit.kv.KvStateMachine;
import dev.raftkit.node.RaftNode;
import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.testkit.docs.DocSnippets;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps section 4 of docs/embedding.md ("the ready-made key-value store") compiling, working and
 * identical to the page: a durable one-node {@link KvStateMachine} server from main artifacts
 * ({@code kv-server:} markers) and the {@link KvOps} calls the page shows ({@code kv-ops:}).
 */
class KvOpsExampleTest {

    private static final Path SOURCE = Path.of("src/test/java/dev/raftkit/kv/examples/KvOpsExampleTest.java");
    private static final Path PAGE = Path.of("../docs/embedding.md");

    @TempDir
    Path dir;

    @Test
    void putCasGetScanAndDigestOnAReplicatedKeyValueStore() throws Exception {
        // kv-server:start
        RaftNode node = RaftNode.builder("kv", 1)      // the node `raftkit server` runs
                .dataDir(dir)                             // fsync'd log and snapshots under it
                .bootstrap(Set.of(1L))
                .stateMachine(new KvStateMachine())
                .start();
        RaftServer server = node.server();
        // kv-server:end
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> server.status().isLeader());
            // kv-ops:start
            ClientSession session = server.newSession().get(5, SECONDS);
            long v = KvOps.written(session.submit(KvOps.put("user/1", "ada")).get(5, SECONDS));
            Optional<Long> won = KvOps.casWritten(session.submit(KvOps.casVersion("user/1", v, "ada lovelace")).get(5, SECONDS));
            Optional<KvEntry> e = KvOps.found(server.read(KvOps.get("user/1"), ReadMode.LINEARIZABLE).get(5, SECONDS));
            KvResult.Scanned page = KvOps.scanned(server.read(KvOps.scan("user/", 100), ReadMode.LEASE).get(5, SECONDS));
            String digest = KvOps.digestOf(server.read(KvOps.digest(), ReadMode.STALE).get(5, SECONDS)).hex();
            // kv-ops:end

            assertTrue(v > 0, "a key's version is the log index that wrote it");
            assertTrue(won.orElseThrow() > v, "the compare-and-set matched the version and won: " + won);
            assertEquals("ada lovelace", e.orElseThrow().valueString());
            assertEquals(won.get(), e.get().version());
            assertEquals(1, page.entries().size());
            assertFalse(page.more());
            assertEquals(64, digest.length(), "a SHA-256 in hex");
            assertTrue(KvOps.casWritten(session.submit(KvOps.casVersion("user/1", v, "stale")).get(5, SECONDS)).isEmpty(),
                    "a compare-and-set on an old version loses");
        } finally {
            node.close();
        }
    }

    @Test
    void theDocumentationShowsExactlyTheTestedCode() throws IOException {
        DocSnippets.assertShown(PAGE, DocSnippets.between(SOURCE, "kv-server"));
        DocSnippets.assertShown(PAGE, DocSnippets.between(SOURCE, "kv-ops"));
    }
}
