package dev.raftkit.cli.demo;

import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.kv.KvEntry;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvResult;
import dev.raftkit.node.RaftNode;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.BackupService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * The key-value tour of {@code raftkit demo}: a 3-node cluster through a leader crash, online
 * backups, a node that lost its disk replaced by a new node seeded from the backup chain, and a
 * whole-cluster crash, checking at every step that no acknowledged write was lost.
 */
final class KvTour {

    private final DemoCluster cluster;
    private final int writesPerBatch;
    /** Every write the cluster acknowledged: key → value. */
    private final Map<String, String> acknowledged = new LinkedHashMap<>();
    private int nextKey;

    /** @param writesPerBatch writes in each batch of the tour */
    KvTour(DemoCluster cluster, int writesPerBatch) {
        this.cluster = cluster;
        this.writesPerBatch = writesPerBatch;
    }

    /** Runs the tour; returns the summary line, or throws saying what went wrong. */
    String run() throws Exception {
        say("Starting 3 key-value nodes on 127.0.0.1 with fsync'd logs in %s", cluster.dataDir());
        cluster.startFounders();
        RaftClient client = cluster.client();

        long leader = cluster.awaitLeader(0);
        say("Election: node %d leads (elected %d ms after start)", leader, cluster.millisSinceStart());

        long t = System.nanoTime();
        write(writesPerBatch);
        say("Wrote %,d keys in %d ms, each acknowledged only once fsync'd on a majority", writesPerBatch, millisSince(t));

        say("Killing the leader, node %d, abruptly", leader);
        t = System.nanoTime();
        cluster.kill(leader);
        long newLeader = cluster.awaitLeader(leader);
        say("Failover: node %d elected leader %d ms after the kill", newLeader, millisSince(t));
        checkNoAcknowledgedWriteLost("after the failover");
        cluster.start(leader);
        say("Node %d restarted from its own log and caught up", leader);

        long backupNode = cluster.follower();
        Path backups = cluster.dataDir().resolve("backups");
        t = System.nanoTime();
        BackupService.Result full = backupService(backupNode, backups).full();
        say("Full backup from follower %d while serving: up to index %d, %,d bytes, %d ms",
                backupNode, full.manifest().lastIndex(), size(full.backup().dir()), millisSince(t));

        write(writesPerBatch);
        t = System.nanoTime();
        BackupService.Result incremental = backupService(backupNode, backups).incremental();
        if (incremental.fellBackToFull()) {
            throw new IllegalStateException("the incremental backup fell back to a full one: " + incremental.fallbackReason());
        }
        say("Wrote %,d more keys; incremental backup: entries %d..%d, %d ms", writesPerBatch,
                incremental.manifest().prevIndex() + 1, incremental.manifest().lastIndex(), millisSince(t));
        BackupChain chain = BackupChain.discover(backups);
        say("Verified the backup chain: %d backups, checksums and index continuity ok", chain.backups().size());

        // A node whose disk is lost must not come back under its old id: it would have forgotten its
        // votes and the entries it acknowledged (§3.8). It is replaced: removed, and a new node
        // seeded from the backups joins as a learner, catches up, and is promoted.
        long currentLeader = cluster.awaitLeader(0);
        long lost = cluster.running().stream().filter(id -> id != currentLeader && id != backupNode).findFirst()
                .orElseThrow();
        long replacement = 4;
        say("Node %d loses its disk: removing it from the configuration", lost);
        client.remove(lost);
        cluster.lose(lost);
        t = System.nanoTime();
        BackupRestore.Result restored = BackupRestore.restoreLatest(backups, cluster.nodeDir(replacement));
        cluster.startNew(replacement);
        client.addLearner(replacement);
        cluster.awaitConverged();
        client.promote(replacement);
        say("Node %d seeded from the backup chain (up to index %d), joined as a learner, caught up and was"
                + " promoted to voter in %d ms", replacement, restored.lastIndex(), millisSince(t));
        write(writesPerBatch / 2);
        checkNoAcknowledgedWriteLost("after the replacement");

        say("Stopping the whole cluster abruptly and restarting it");
        t = System.nanoTime();
        cluster.killAll();
        cluster.restartAll();
        long finalLeader = cluster.awaitLeader(0);
        say("Cluster back: node %d leads, %d ms after the crash", finalLeader, millisSince(t));
        checkNoAcknowledgedWriteLost("after the cluster restart");

        cluster.awaitConverged().forEach((id, d) -> say("  node %d state digest %s", id, d.shortHex()));
        return String.format("demo ok: %,d writes acknowledged, 0 lost; failover, full + incremental backup,"
                + " replacement of a lost node from the backups and a whole-cluster restart survived;"
                + " digests equal on all 3 nodes (%.1f s)", acknowledged.size(), cluster.secondsSinceStart());
    }

    private BackupService backupService(long id, Path root) {
        RaftNode n = cluster.node(id);
        return new BackupService(n.server(), n.snapshotStore(), DemoCluster.CLUSTER, root);
    }

    /** Writes {@code count} new keys, 32 in flight at a time, remembering what was acknowledged. */
    private void write(int count) {
        List<CompletableFuture<Void>> inFlight = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String key = String.format("user:%06d", nextKey++);
            String value = "value-" + key.substring(5) + "-" + Long.toHexString(System.nanoTime());
            inFlight.add(cluster.client().submitAsync(KvOps.put(key, value)).thenAccept(r -> {
                KvOps.written(r);
                synchronized (acknowledged) {
                    acknowledged.put(key, value);
                }
            }));
            if (inFlight.size() == 32) {
                inFlight.forEach(CompletableFuture::join);
                inFlight.clear();
            }
        }
        inFlight.forEach(CompletableFuture::join);
    }

    private void checkNoAcknowledgedWriteLost(String when) {
        Map<String, String> found = new TreeMap<>();
        byte[] startAfter = new byte[0];
        while (true) {
            KvResult.Scanned page = KvOps.scanned(cluster.client().read(
                    KvOps.scan("user:".getBytes(StandardCharsets.UTF_8), startAfter, 5_000), ReadMode.LINEARIZABLE));
            for (KvEntry e : page.entries()) {
                found.put(new String(e.key(), StandardCharsets.UTF_8), new String(e.value(), StandardCharsets.UTF_8));
            }
            if (!page.more() || page.entries().isEmpty()) {
                break;
            }
            startAfter = page.entries().get(page.entries().size() - 1).key();
        }
        int lost = 0;
        synchronized (acknowledged) {
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                if (!e.getValue().equals(found.get(e.getKey()))) {
                    lost++;
                }
            }
            if (lost > 0) {
                throw new IllegalStateException(lost + " acknowledged writes lost " + when);
            }
            say("Checked %,d acknowledged writes %s with a linearizable read: none lost", acknowledged.size(), when);
        }
    }

    private void say(String format, Object... args) {
        cluster.say(format, args);
    }

    private static long millisSince(long nanos) {
        return DemoCluster.millisSince(nanos);
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        }
    }
}
