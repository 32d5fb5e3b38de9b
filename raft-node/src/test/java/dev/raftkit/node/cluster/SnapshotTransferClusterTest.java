package dev.raftkit.node.cluster;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.grpc.RaftClient;
import dev.raftkit.runtime.RaftMetrics;
import dev.raftkit.spi.SnapshotDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshot transfers between real nodes over gRPC: a transfer cut at a random chunk resumes from
 * the last chunk the receiver verified and made durable, and only the bytes after it are sent again.
 */
class SnapshotTransferClusterTest {

    static final int CHUNK = 4096;

    @TempDir
    Path dir;

    private GrpcCluster cluster;
    private CuttingProxy proxy;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    /** What a node's runtime reported about the snapshots it streamed, in order. */
    static final class StreamLog implements RaftMetrics {
        record Event(String kind, long peer, long a, long b) {
        }

        final List<Event> events = new ArrayList<>();

        @Override
        public synchronized void snapshotBytesSent(long peer, long bytes, long resentBytes) {
            events.add(new Event("bytes", peer, bytes, resentBytes));
        }

        @Override
        public synchronized void snapshotResumed(long peer, long offset, long sizeBytes) {
            events.add(new Event("resumed", peer, offset, sizeBytes));
        }

        @Override
        public synchronized void snapshotSent(long peer, long nanos, long bytes) {
            events.add(new Event("delivered", peer, nanos, bytes));
        }

        synchronized List<Event> to(long peer) {
            return events.stream().filter(e -> e.peer() == peer).toList();
        }
    }

    private static void submitAll(RaftClient client, int from, int n, String value) {
        List<CompletableFuture<byte[]>> all = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            all.add(client.submitAsync(put("k" + i, value + i)));
            if (all.size() >= 32) {
                all.remove(0).join();
            }
        }
        all.forEach(CompletableFuture::join);
    }

    /**
     * The end of the verified chunks a receiving partial under {@code snapshots} records, or -1 if
     * none. A partial that goes between the listing and the read (committed: its {@code chunks} is
     * deleted and the directory renamed) counts as none: the receipt is no longer in progress.
     */
    static long recordedOnDisk(Path snapshots) throws IOException {
        try (Stream<Path> list = Files.list(snapshots)) {
            List<Path> partials = list.filter(p -> p.getFileName().toString().endsWith(".receiving")).toList();
            if (partials.size() != 1) {
                return -1;
            }
            byte[] records;
            try {
                records = Files.readAllBytes(partials.get(0).resolve("chunks"));
            } catch (NoSuchFileException e) {
                return -1;
            }
            ByteBuffer b = ByteBuffer.wrap(records);
            long end = 0;
            while (b.remaining() >= 20) {
                long offset = b.getLong();
                int length = b.getInt();
                b.getLong(); // the chunk's CRC32C and the record's own
                assertEquals(end, offset, "chunk records are contiguous");
                end = offset + length;
            }
            return end;
        }
    }

    @Test
    void aTransferCutAtARandomChunkResumesFromTheLastVerifiedChunk() throws Exception {
        Map<Long, StreamLog> logs = new ConcurrentHashMap<>();
        cluster = new GrpcCluster(dir, "test", Set.of(1L, 2L, 3L), id -> null,
                // A leader must not step down over a slow fsync on a loaded machine (the default
                // stall bound is 2 election timeouts, 400 ms here): a new leader would send its own
                // image, which no partial of the old one can resume.
                (id, b) -> b.snapshotThresholds(100, 1 << 20).diskStallTicks(250).diskSlowMillis(5000)
                        .metrics(logs.computeIfAbsent(id, k -> new StreamLog())));
        cluster.segmentBytes(8 << 10).snapshotChunkBytes(CHUNK).startAll();
        long leader = cluster.awaitLeader().id;
        long lagging = leader == 3 ? 2 : 3;
        RaftClient client = cluster.client();
        submitAll(client, 0, 20, "v");
        cluster.kill(lagging);
        // About 450 KB of state: a snapshot of some 110 chunks the lagging node must be sent.
        submitAll(client, 20, 1000, "x".repeat(400));
        // The image the leader will send: a snapshot of everything written, taken now, so that a
        // threshold snapshot finishing after this line cannot be the one sent instead.
        cluster.node(leader).node.server().snapshotNow().get(GrpcCluster.PATIENCE.toSeconds(), TimeUnit.SECONDS);
        SnapshotDescriptor image = cluster.node(leader).node.snapshotStore().latest().orElseThrow();
        assertTrue(image.sizeBytes() > 50L * CHUNK, "snapshot of " + image.sizeBytes() + " bytes");

        proxy = new CuttingProxy(cluster.peerAddress(lagging));
        cluster.route(lagging, proxy.address());
        // Slow enough that the test sees the chunks arrive, and cuts at a seeded random one.
        proxy.throttle(256 << 10);
        int chunks = (int) (image.sizeBytes() / CHUNK);
        long target = (long) (chunks / 10 + new Random(16).nextInt(chunks / 2)) * CHUNK;
        cluster.start(lagging);
        Path snapshots = dir.resolve("node-" + lagging).resolve("snapshots");
        await().atMost(GrpcCluster.PATIENCE).pollInterval(Duration.ofMillis(5))
                .failFast("node " + lagging + " installed a snapshot before " + target + " bytes of it were seen"
                        + " recorded: the transfer ended before the test could cut it",
                        () -> cluster.node(lagging).snapshotsInstalled.get() > 0)
                .until(() -> Files.isDirectory(snapshots) && recordedOnDisk(snapshots) >= target);
        proxy.cutNow();

        // What the receiver kept: its partial's chunk records, once its end of the call has closed.
        AtomicLong last = new AtomicLong(-2);
        await().atMost(GrpcCluster.PATIENCE).pollInterval(Duration.ofMillis(50)).until(() -> {
            long now = recordedOnDisk(snapshots);
            return now > 0 && now == last.getAndSet(now);
        });
        await().during(Duration.ofMillis(300)).atMost(GrpcCluster.PATIENCE)
                .until(() -> recordedOnDisk(snapshots) == last.get());
        long verified = last.get();
        assertEquals(0, verified % CHUNK, "the receiver records whole chunks");

        proxy.reopen();
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 1020);

        List<Long> senders = logs.entrySet().stream().filter(e -> e.getKey() != leader && !e.getValue().to(lagging)
                .isEmpty()).map(Map.Entry::getKey).toList();
        assertEquals(List.of(), senders, "only the leader, node " + leader + ", streamed to node " + lagging
                + " (leadership moved during the test?)");
        // The leader learns of the delivery from the receiver's acknowledgement, after the receiver
        // installed it: the state can converge a moment before the leader reports it.
        await().atMost(GrpcCluster.PATIENCE).pollInterval(Duration.ofMillis(20)).until(() -> logs.get(leader)
                .to(lagging).stream().anyMatch(e -> e.kind().equals("delivered")));
        List<StreamLog.Event> events = logs.get(leader).to(lagging);
        List<StreamLog.Event> resumes = events.stream().filter(e -> e.kind().equals("resumed")).toList();
        assertEquals(1, resumes.size(), "one resume: " + resumes);
        assertEquals(verified, resumes.get(0).a(), "resumed at the receiver's last verified chunk");
        long sentBefore = 0;
        long sentAfter = 0;
        long resent = 0;
        boolean resumed = false;
        for (StreamLog.Event e : events) {
            if (e.kind().equals("resumed")) {
                resumed = true;
            } else if (e.kind().equals("bytes")) {
                if (resumed) {
                    sentAfter += e.a();
                    resent += e.b();
                } else {
                    sentBefore += e.a();
                }
            }
        }
        assertEquals(sentBefore - verified, resent, "the bytes sent again are those sent after the last verified chunk");
        assertEquals(image.sizeBytes() - verified, sentAfter, "the resumed transfer sent the rest of the image only");
        assertTrue(resent < image.sizeBytes(), "less than a full resend");
        assertEquals(image.sizeBytes(), events.stream().filter(e -> e.kind().equals("delivered"))
                .mapToLong(StreamLog.Event::b).sum(), "delivered once");
        assertTrue(cluster.node(lagging).snapshotsInstalled.get() >= 1);
        System.out.printf("snapshot of %d bytes cut once %d bytes were recorded; %d verified; %d sent before the cut,"
                + " %d re-sent%n", image.sizeBytes(), target, verified, sentBefore, resent);
    }
}
