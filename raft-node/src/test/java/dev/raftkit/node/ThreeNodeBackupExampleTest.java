package dev.raftkit.node;

import static dev.raftkit.node.CounterStateMachine.add;
import static dev.raftkit.node.CounterStateMachine.valueOf;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.testkit.docs.DocSnippets;
import dev.raftkit.testkit.net.FreePorts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the "a three-node cluster, a backup and a restore" example of docs/embedding.md compiling
 * and working: three networked nodes of your own state machine over gRPC, a backup taken from a
 * follower while the cluster serves, the whole cluster lost, and a new cluster restored from the
 * backup holding exactly the backed-up state.
 */
class ThreeNodeBackupExampleTest {

    private static final Path SOURCE = Path.of("src/test/java/dev/raftkit/node/ThreeNodeBackupExampleTest.java");

    @TempDir
    Path disk;

    private final List<RaftNode> cluster = new ArrayList<>();

    @AfterEach
    void closeEverything() {
        cluster.forEach(RaftNode::close);
    }

    /** Fixed addresses, as a deployment has; here free loopback ports. */
    private static Map<Long, InetSocketAddress> addresses(Set<Long> ids) throws IOException {
        Map<Long, InetSocketAddress> out = new TreeMap<>();
        for (long id : ids) {
            out.put(id, new InetSocketAddress("127.0.0.1", FreePorts.next()));
        }
        return out;
    }

    @Test
    void aClusterOfYourOwnStateMachineIsBackedUpAndRestored() throws Exception {
        Set<Long> ids = Set.of(1L, 2L, 3L);
        Map<Long, InetSocketAddress> peerAddress = addresses(ids);
        Map<Long, InetSocketAddress> clientAddress = addresses(ids);
        Map<Long, InetSocketAddress> restoredPeerAddress = addresses(ids);
        Map<Long, InetSocketAddress> restoredClientAddress = addresses(ids);
        Path backups = disk.resolve("backups");
        long backedUp;
        long afterBackup;
        long restoredCount;

        // cluster-example:start
        for (long id : ids) {                              // one process per node in production
            RaftNode.Builder node = RaftNode.builder("counters", id)
                    .dataDir(disk.resolve("node-" + id))
                    .peerListen(peerAddress.get(id))
                    .clientListen(clientAddress.get(id))
                    .bootstrap(ids)                        // the founding voters, on first start only
                    .stateMachine(new CounterStateMachine());
            for (long other : ids) {
                if (other != id) {
                    node.peer(other, peerAddress.get(other), hostPort(clientAddress.get(other)));
                }
            }
            cluster.add(node.start());
        }
        RaftClient.Builder clients = RaftClient.builder("counters");
        ids.forEach(id -> clients.node(id, hostPort(clientAddress.get(id))));
        try (RaftClient client = clients.build()) {
            client.submit(add(40));                        // committed on a majority, then applied
            RaftNode follower = cluster.stream().filter(n -> !n.server().status().isLeader()).findFirst().get();
            follower.backup(backups);                      // a full backup, taken while serving
            backedUp = valueOf(client.read(new byte[0], ReadMode.LINEARIZABLE));
            client.submit(add(2));                         // after the backup: not in it
            afterBackup = valueOf(client.read(new byte[0], ReadMode.LINEARIZABLE));
        }
        cluster.forEach(RaftNode::close);                  // the whole cluster is lost

        for (long id : ids) {                              // a new cluster, every node from the backup
            Path dir = disk.resolve("restored-" + id);
            RaftNode.restore(backups, dir);
            RaftNode.Builder node = RaftNode.builder("counters-restored", id)
                    .dataDir(dir)
                    .peerListen(restoredPeerAddress.get(id))
                    .clientListen(restoredClientAddress.get(id))
                    .stateMachine(new CounterStateMachine());
            for (long other : ids) {
                if (other != id) {
                    node.peer(other, restoredPeerAddress.get(other), hostPort(restoredClientAddress.get(other)));
                }
            }
            cluster.add(node.start());
        }
        RaftClient.Builder restoredClients = RaftClient.builder("counters-restored");
        ids.forEach(id -> restoredClients.node(id, hostPort(restoredClientAddress.get(id))));
        try (RaftClient client = restoredClients.build()) {
            restoredCount = valueOf(client.read(new byte[0], ReadMode.LINEARIZABLE));
        }
        // cluster-example:end

        assertEquals(40, backedUp);
        assertEquals(42, afterBackup);
        assertEquals(40, restoredCount, "the restored cluster holds exactly the backed-up count");
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    @Test
    void theDocumentationShowsExactlyTheTestedCode() throws IOException {
        DocSnippets.assertShown(Path.of("../docs/embedding.md"), DocSnippets.between(SOURCE, "cluster-example"));
    }
}
