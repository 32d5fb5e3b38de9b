package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.jepsen.real.Cluster;
import dev.raftkit.jepsen.real.NodeCommand;
import dev.raftkit.jepsen.real.PowerLossFileIo;
import dev.raftkit.kv.KvOps;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power loss on real processes ({@code --testing-lose-unsynced}): a coordinated power loss of
 * every node keeps every acknowledged write of the shipped node, and it sees a planted durability
 * bug (the log's fsync skipped) that a plain SIGKILL of every node cannot see.
 */
class PowerLossTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static String value(byte[] getResult) {
        return KvOps.found(getResult).map(e -> new String(e.value(), StandardCharsets.UTF_8)).orElse(null);
    }

    private static NodeCommand command(boolean skipFsync) {
        NodeCommand c = JepsenCommand.withArgs(JepsenCommand.nodeCommand("96m"), "--testing-lose-unsynced", "true");
        return skipFsync ? JepsenCommand.withArgs(c, "--testing-skip-entries-fsync", "true") : c;
    }

    private static void write(Cluster cluster, String prefix, int n) throws Exception {
        try (RaftClient client = cluster.adminClient()) {
            for (int i = 0; i < n; i++) {
                client.submit(KvOps.put(prefix + i, "v" + i)); // returns once committed: acknowledged
            }
        }
    }

    /** The acknowledged keys {@code prefix0..} that a linearizable read no longer finds, after a restart of every node. */
    private static List<String> lostAfterRestart(Cluster cluster, String prefix, int n) throws Exception {
        List<Cluster.Restart> restarts = cluster.restartAll(cluster.ids(), TIMEOUT);
        for (Cluster.Restart r : restarts) {
            if (r.replaced()) {
                // Refusing data it no longer has (commit index past its log) is how the bug shows too.
                return List.of("node " + r.node() + " refused its data: " + r.reason());
            }
        }
        cluster.awaitLeader(TIMEOUT);
        List<String> lost = new ArrayList<>();
        try (RaftClient client = cluster.adminClient()) {
            for (int i = 0; i < n; i++) {
                if (!("v" + i).equals(value(client.read(KvOps.get(prefix + i), ReadMode.LINEARIZABLE)))) {
                    lost.add(prefix + i);
                }
            }
        }
        return lost;
    }

    @Test
    void aCoordinatedPowerLossKeepsEveryAcknowledgedWrite(@TempDir Path dir) throws Exception {
        try (Cluster cluster = new Cluster(3, "power", dir.resolve("data"), dir.resolve("logs"), command(false))) {
            cluster.start(TIMEOUT);
            write(cluster, "k", 40);
            cluster.killAll(cluster.ids());
            assertEquals(List.of(), lostAfterRestart(cluster, "k", 40), "acknowledged writes lost at power loss");
        }
    }

    @Test
    void aSkippedFsyncIsSeenByAPowerLossButNotByAKill(@TempDir Path dir) throws Exception {
        try (Cluster cluster = new Cluster(3, "power", dir.resolve("data"), dir.resolve("logs"), command(true))) {
            cluster.start(TIMEOUT);
            write(cluster, "a", 40);
            // A plain SIGKILL of every node: the page cache keeps the unsynced entries, nothing is lost.
            List<Long> ids = cluster.ids();
            cluster.killAll(ids);
            for (long id : ids) {
                PowerLossFileIo.keepPageCache(cluster.dataDir(id));
            }
            assertEquals(List.of(), lostAfterRestart(cluster, "a", 40), "a kill cannot see a skipped fsync");

            write(cluster, "b", 40);
            cluster.killAll(cluster.ids());
            List<String> lost = lostAfterRestart(cluster, "b", 40);
            assertTrue(!lost.isEmpty(), "the power loss must lose the entries acknowledged without an fsync");
            System.out.println("planted skipped fsync, after a coordinated power loss: " + lost);
        }
    }
}
