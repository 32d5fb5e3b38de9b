package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.NodeStatus;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.jepsen.real.Cluster;
import dev.raftkit.kv.KvOps;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real-process harness replaces a node that refuses its corrupt data by a brand-new node
 * under a new id — never by the old id with an empty disk — and the cluster keeps every
 * acknowledged write through the change.
 */
class JepsenReplacementTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String value(byte[] getResult) {
        return KvOps.found(getResult).map(e -> new String(e.value(), StandardCharsets.UTF_8)).orElse(null);
    }

    @Test
    void aNodeThatRefusesItsDataIsReplacedUnderANewId(@TempDir Path dir) throws Exception {
        Duration timeout = Duration.ofSeconds(60);
        try (Cluster cluster = new Cluster(3, "replace", dir.resolve("data"), dir.resolve("logs"),
                JepsenCommand.nodeCommand("96m"))) {
            long leader = cluster.start(timeout);
            try (RaftClient client = cluster.adminClient()) {
                for (int i = 0; i < 50; i++) {
                    client.submit(KvOps.put("k" + i, "v" + i));
                }
                long victim = leader == 1 ? 2 : 1;
                cluster.kill(victim);
                // A corrupt hard-state file: the node must refuse to start rather than guess.
                Files.write(cluster.dataDir(victim).resolve("log").resolve("hardstate"), utf8("garbage, not a hard state"));

                Cluster.Restart r = cluster.restart(victim, timeout);

                assertTrue(r.replaced(), "the node refused its data: " + r);
                assertEquals(4, r.replacement(), "a new id, never the old one");
                assertTrue(r.reason().contains("orrupt") || r.reason().contains("could not start"), r.reason());
                List<Long> members = cluster.ids();
                assertEquals(3, members.size(), "members " + members);
                assertTrue(members.contains(4L) && !members.contains(victim), "members " + members);
                long now = cluster.awaitLeader(timeout);
                NodeStatus s = cluster.status(now).orElseThrow();
                assertEquals(members, s.voters().stream().sorted().toList(), "the configuration's voters");

                client.submit(KvOps.put("after", "replacement"));
                for (int i = 0; i < 50; i++) {
                    assertEquals("v" + i, value(client.read(KvOps.get("k" + i), ReadMode.LINEARIZABLE)),
                            "acknowledged write k" + i);
                }
                // The new node holds everything, including what was written after it joined.
                await().atMost(timeout).ignoreExceptions().until(() ->
                        "replacement".equals(value(cluster.pinnedClient(4).read(KvOps.get("after"), ReadMode.STALE))));
                for (int i = 0; i < 50; i++) {
                    assertEquals("v" + i, value(cluster.pinnedClient(4).read(KvOps.get("k" + i), ReadMode.STALE)),
                            "node 4's copy of k" + i);
                }
            }
        }
    }
}
