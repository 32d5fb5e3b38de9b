package dev.raftkit.node.cluster;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotSource;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.runtime.RaftMetrics;
import dev.raftkit.spi.SnapshotDescriptor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshot source {@code PEERS} between real nodes over gRPC: a follower far behind the leader's
 * compacted log gets its snapshot streamed by the other, up-to-date follower; the leader streams
 * no byte of it, and the follower ends with the same state.
 */
class PeerSnapshotClusterTest {

    @TempDir
    Path dir;

    private GrpcCluster cluster;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Snapshot bytes a node streamed, per receiver, and those it received from a non-leader peer. */
    static final class Counts implements RaftMetrics {
        final Map<Long, AtomicLong> sentTo = new ConcurrentHashMap<>();
        final AtomicLong receivedFromPeer = new AtomicLong();

        @Override
        public void snapshotBytesSent(long peer, long bytes, long resentBytes) {
            sentTo.computeIfAbsent(peer, k -> new AtomicLong()).addAndGet(bytes);
        }

        @Override
        public void snapshotReceivedFromPeer(long peer, long bytes) {
            receivedFromPeer.addAndGet(bytes);
        }

        long sentTo(long peer) {
            AtomicLong n = sentTo.get(peer);
            return n == null ? 0 : n.get();
        }
    }

    @Test
    void aFarBehindFollowerGetsItsSnapshotFromTheOtherFollower() throws Exception {
        Map<Long, Counts> counts = new ConcurrentHashMap<>();
        cluster = new GrpcCluster(dir, "test", Set.of(1L, 2L, 3L), id -> null,
                (id, b) -> b.snapshotThresholds(100, 1 << 20).metrics(counts.computeIfAbsent(id, k -> new Counts())));
        cluster.segmentBytes(8 << 10).snapshotSource(SnapshotSource.PEERS).startAll();
        long leader = cluster.awaitLeader().id;
        long lagging = leader == 3 ? 2 : 3;
        long peer = 6 - leader - lagging;
        RaftClient client = cluster.client();
        cluster.kill(lagging);
        List<CompletableFuture<byte[]>> writes = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            writes.add(client.submitAsync(put("k" + i, "v".repeat(200) + i)));
            if (writes.size() >= 32) {
                writes.remove(0).join();
            }
        }
        writes.forEach(CompletableFuture::join);
        cluster.awaitSameState(Set.of(leader, peer), 600);
        // The peer snapshots at everything it applied, so its newest snapshot reaches the leader's.
        SnapshotDescriptor peers = cluster.node(peer).server.snapshotNow().get(30, TimeUnit.SECONDS);
        SnapshotDescriptor leaders = cluster.node(leader).node.snapshotStore().latest().orElseThrow();
        assertTrue(peers.meta().index() >= leaders.meta().index(), peers.meta() + " vs " + leaders.meta());
        assertTrue(leaders.meta().index() > 1, "the leader snapshotted and compacted its log");

        cluster.start(lagging);
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 600);

        assertEquals(0, counts.get(leader).sentTo(lagging), "the leader streamed no snapshot bytes to node " + lagging);
        assertTrue(counts.get(peer).sentTo(lagging) > 0, "node " + peer + " streamed the snapshot");
        assertTrue(counts.get(lagging).receivedFromPeer.get() > 0, "received from a non-leader peer");
        assertTrue(cluster.node(lagging).snapshotsInstalled.get() >= 1);
        assertEquals(cluster.node(leader).machine.digest(), cluster.node(lagging).machine.digest(), "the same state");
    }
}
