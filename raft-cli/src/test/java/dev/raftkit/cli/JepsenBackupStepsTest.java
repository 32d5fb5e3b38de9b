package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.jepsen.real.BackupNemesis;
import dev.raftkit.jepsen.real.Cluster;
import dev.raftkit.jepsen.real.FaultEvent;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvStateMachine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each step of the {@code backup} nemesis on real processes, while a client writes: a SIGKILL
 * timed into a snapshot; one timed into a follower's snapshot install; a backup; and a follower
 * replaced by a new node restored from the backup chain, the restore SIGKILLed half-way first.
 * Every acknowledged write survives, the restored node holds everything, and the audit passes.
 */
class JepsenBackupStepsTest {

    private static String value(byte[] getResult) {
        return KvOps.found(getResult).map(e -> new String(e.value(), StandardCharsets.UTF_8)).orElse(null);
    }

    @Test
    void crashesIntoSnapshotsInstallsAndRestoresLoseNothing(@TempDir Path dir) throws Exception {
        Duration timeout = Duration.ofSeconds(60);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger acked = new AtomicInteger();
        try (Cluster cluster = new Cluster(3, "steps", dir.resolve("data"), dir.resolve("logs"),
                JepsenCommand.nodeCommand("96m"))) {
            cluster.start(timeout);
            Thread writer = new Thread(() -> {
                try (RaftClient c = cluster.adminClient()) {
                    while (!stop.get()) {
                        int i = acked.get();
                        try {
                            c.submit(KvOps.put("k" + i, "v" + i));
                            acked.incrementAndGet();
                        } catch (RuntimeException retry) {
                            // a leader change or a killed node: the same key again, the same value
                        }
                    }
                }
            }, "writer");
            writer.start();
            // Every restore in this test is cut by a SIGKILL first (the nemesis cuts half of them).
            Random alwaysCut = new Random(7) {
                @Override
                public boolean nextBoolean() {
                    return true;
                }
            };
            BackupNemesis nemesis = new BackupNemesis(cluster, alwaysCut).stateMachine("kv");
            List<String> seen = new java.util.ArrayList<>();
            try {
                await().atMost(timeout).until(() -> acked.get() > 50);
                FaultEvent snapshot = nemesis.run(BackupNemesis.Step.CRASH_SNAPSHOT, timeout);
                seen.add(snapshot.description());
                assertTrue(snapshot.description().contains("snapshot"), seen.toString());

                FaultEvent install = nemesis.run(BackupNemesis.Step.CRASH_INSTALL, timeout);
                seen.add(install.description());
                assertTrue(install.description().contains("as the leader sent it its snapshot"), seen.toString());

                // The backup after the install: a node's log stays pinned from its last backup (for the
                // next incremental), and a pinned leader keeps the entries a follower catches up from.
                FaultEvent backup = nemesis.run(BackupNemesis.Step.BACKUP, timeout);
                assertNotNull(backup);
                seen.add(backup.description());
                assertEquals(1, nemesis.taken().size(), seen.toString());

                await().atMost(timeout).until(() -> acked.get() > 150);
                FaultEvent restore = nemesis.run(BackupNemesis.Step.REPLACE_FROM_BACKUP, timeout);
                seen.add(restore.description());
                assertTrue(restore.description().contains("replaced by node 4"), seen.toString());
                assertEquals(1, nemesis.restoredMembers());
                assertTrue(nemesis.crashes().stream().anyMatch(c -> c.startsWith("snapshot install at node")),
                        nemesis.crashes().toString());
            } finally {
                stop.set(true);
                writer.join(30_000);
            }
            assertTrue(cluster.ids().contains(4L), "members " + cluster.ids() + "; " + seen);
            int n = acked.get();
            try (RaftClient c = cluster.adminClient()) {
                for (int i = 0; i < n; i++) {
                    assertEquals("v" + i, value(c.read(KvOps.get("k" + i), ReadMode.LINEARIZABLE)),
                            "acknowledged write k" + i + "; " + seen);
                }
            }
            // The restored node caught up from the backup's index to the end.
            await().atMost(timeout).ignoreExceptions().until(() ->
                    ("v" + (n - 1)).equals(value(cluster.pinnedClient(4).read(KvOps.get("k" + (n - 1)), ReadMode.STALE))));
            assertEquals("v0", value(cluster.pinnedClient(4).read(KvOps.get("k0"), ReadMode.STALE)), "from the backup");

            System.out.println("backup nemesis steps: " + seen + "; crashes " + nemesis.crashes());
            BackupNemesis.Audit audit = nemesis.audit(dir.resolve("audit"), KvStateMachine::new, sm -> "read");
            assertTrue(audit.problems().isEmpty(), audit.problems().toString());
            assertEquals(1, audit.restored());
        }
    }
}
