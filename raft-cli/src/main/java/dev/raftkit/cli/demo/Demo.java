package dev.raftkit.cli.demo;

import dev.raftkit.cli.node.LocalNode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.kv.KvEntry;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvResult;
import dev.raftkit.runtime.ReadMode;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.BackupService;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The guided tour behind {@code raftkit demo}: a 3-node key-value cluster in this process, over
 * real gRPC on loopback with fsync'd logs, through a leader crash, online backups, a node that lost its disk
 * replaced by a new node seeded from the backup chain, and a whole-cluster crash — narrating each step with timings and
 * checking, at every step, that no acknowledged write was lost.
 */
public final class Demo {

    /** What the tour found. */
    public record Result(boolean ok, String summary) {
    }

    private static final String CLUSTER = "raftkit-demo";
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final Set<Long> VOTERS = Set.of(1L, 2L, 3L);

    private final PrintWriter out;
    private final Path dataDir;
    private final int writesPerBatch;
    private final long started = System.nanoTime();
    private final Map<Long, LocalNode> nodes = new TreeMap<>();
    private final Map<Long, InetSocketAddress> peerAddresses = new TreeMap<>();
    private final Map<Long, String> clientAddresses = new TreeMap<>();
    /** Every write the cluster acknowledged: key → value. */
    private final Map<String, String> acknowledged = new LinkedHashMap<>();
    private RaftClient client;
    private int nextKey;
    /** The voters, as they change. */
    private final Set<Long> members = new java.util.TreeSet<>(VOTERS);

    /**
     * @param dataDir        where the three nodes keep their logs and snapshots, and the backups
     * @param writesPerBatch writes in each batch of the tour
     */
    public Demo(PrintWriter out, Path dataDir, int writesPerBatch) {
        this.out = out;
        this.dataDir = dataDir;
        this.writesPerBatch = writesPerBatch;
    }

    /** Runs the tour; stops every node it started, whatever happens. */
    public Result run() throws Exception {
        try {
            return tour();
        } finally {
            if (client != null) {
                client.close();
            }
            nodes.values().forEach(LocalNode::close);
        }
    }

    private Result tour() throws Exception {
        say("Starting 3 nodes on 127.0.0.1 with fsync'd logs in %s", dataDir);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        for (long id : VOTERS) {
            // Ports chosen up front, so every node starts knowing where its peers are.
            peerAddresses.put(id, new InetSocketAddress(loopback, freePort()));
            clientAddresses.put(id, loopback.getHostAddress() + ":" + freePort());
        }
        for (long id : VOTERS) {
            start(id, true);
        }
        RaftClient.Builder cb = RaftClient.builder(CLUSTER).timeout(Duration.ofSeconds(60)).attemptTimeout(Duration.ofSeconds(10));
        clientAddresses.forEach(cb::node);
        client = cb.build();

        long leader = awaitLeader(0);
        say("Election: node %d leads (elected %d ms after start)", leader, millisSince(started));

        long t = System.nanoTime();
        write(writesPerBatch);
        say("Wrote %,d keys in %d ms, each acknowledged only once fsync'd on a majority", writesPerBatch, millisSince(t));

        say("Killing the leader, node %d, abruptly", leader);
        t = System.nanoTime();
        nodes.remove(leader).kill();
        long newLeader = awaitLeader(leader);
        say("Failover: node %d elected leader %d ms after the kill", newLeader, millisSince(t));
        checkNoAcknowledgedWriteLost("after the failover");
        start(leader, false);
        say("Node %d restarted from its own log and caught up", leader);

        long backupNode = follower();
        Path backups = dataDir.resolve("backups");
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
        long lost = otherThan(awaitLeader(0), backupNode);
        long replacement = 4;
        say("Node %d loses its disk: removing it from the configuration", lost);
        client.remove(lost);
        nodes.remove(lost).kill();
        deleteTree(nodeDir(lost));
        peerAddresses.remove(lost);
        clientAddresses.remove(lost);
        members.remove(lost);
        t = System.nanoTime();
        BackupRestore.Result restored = BackupRestore.restoreLatest(backups, nodeDir(replacement));
        peerAddresses.put(replacement, new InetSocketAddress(InetAddress.getLoopbackAddress(), freePort()));
        clientAddresses.put(replacement, InetAddress.getLoopbackAddress().getHostAddress() + ":" + freePort());
        start(replacement, false);
        for (LocalNode n : nodes.values()) {
            if (n.id() != replacement) {
                n.addPeer(replacement, peerAddresses.get(replacement), clientAddresses.get(replacement));
            }
        }
        client.setNode(replacement, clientAddresses.get(replacement));
        client.addLearner(replacement);
        awaitConverged();
        client.promote(replacement);
        members.add(replacement);
        say("Node %d seeded from the backup chain (up to index %d), joined as a learner, caught up and was"
                + " promoted to voter in %d ms", replacement, restored.lastIndex(), millisSince(t));
        write(writesPerBatch / 2);
        checkNoAcknowledgedWriteLost("after the replacement");

        say("Stopping the whole cluster abruptly and restarting it");
        t = System.nanoTime();
        for (long id : new ArrayList<>(nodes.keySet())) {
            nodes.remove(id).kill();
        }
        for (long id : members) {
            start(id, false);
        }
        long finalLeader = awaitLeader(0);
        say("Cluster back: node %d leads, %d ms after the crash", finalLeader, millisSince(t));
        checkNoAcknowledgedWriteLost("after the cluster restart");

        List<String> digests = awaitConverged();
        int i = 0;
        for (long id : nodes.keySet()) {
            say("  node %d state digest %s", id, digests.get(i++));
        }
        String summary = String.format("demo ok: %,d writes acknowledged, 0 lost; failover, full + incremental backup,"
                + " replacement of a lost node from the backups and a whole-cluster restart survived;"
                + " digests equal on all 3 nodes (%.1f s)", acknowledged.size(), (System.nanoTime() - started) / 1e9);
        return new Result(true, summary);
    }

    // ---------------------------------------------------------------------------------------

    private void start(long id, boolean bootstrap) throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        Map<Long, InetSocketAddress> peers = new TreeMap<>(peerAddresses);
        peers.remove(id);
        String client = clientAddresses.get(id);
        LocalNode.Spec spec = new LocalNode.Spec(id, CLUSTER, nodeDir(id), peerAddresses.get(id),
                new InetSocketAddress(loopback, Integer.parseInt(client.substring(client.lastIndexOf(':') + 1))),
                peers, clientAddresses, bootstrap ? VOTERS : Set.of(), null, 50);
        nodes.put(id, LocalNode.start(spec, b -> b.snapshotThresholds(2_000, 16L << 20)));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Path nodeDir(long id) {
        return dataDir.resolve("node-" + id);
    }

    private BackupService backupService(long id, Path root) {
        LocalNode n = nodes.get(id);
        return new BackupService(n.server(), n.snapshotStore(), CLUSTER, root);
    }

    /** Writes {@code count} new keys, 32 in flight at a time, remembering what was acknowledged. */
    private void write(int count) {
        List<CompletableFuture<Void>> inFlight = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String key = String.format("user:%06d", nextKey++);
            String value = "value-" + key.substring(5) + "-" + Long.toHexString(System.nanoTime());
            inFlight.add(client.submitAsync(KvOps.put(key, value)).thenAccept(r -> {
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
            KvResult.Scanned page = KvOps.scanned(client.read(
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

    /** Waits for a leader other than {@code not} that all running nodes follow; returns its id. */
    private long awaitLeader(long not) {
        long[] leader = {0};
        await("a leader", () -> {
            for (LocalNode n : nodes.values()) {
                if (n.server().status().isLeader() && n.id() != not) {
                    long id = n.id();
                    boolean followed = nodes.values().stream().allMatch(o -> o.server().status().leader() == id);
                    if (followed) {
                        leader[0] = id;
                        return true;
                    }
                }
            }
            return false;
        });
        return leader[0];
    }

    private long follower() {
        long leader = awaitLeader(0);
        return nodes.keySet().stream().filter(id -> id != leader).findFirst().orElseThrow();
    }

    private long otherThan(long a, long b) {
        return members.stream().filter(id -> id != a && id != b).findFirst().orElseThrow();
    }

    /** Waits until every node has applied the same index with the same data; returns the digests. */
    private List<String> awaitConverged() {
        List<String> digests = new ArrayList<>();
        await("all nodes to converge", () -> {
            long commit = nodes.values().stream().mapToLong(n -> n.server().status().commit()).max().orElse(0);
            digests.clear();
            for (LocalNode n : nodes.values()) {
                if (n.server().status().applied() < commit) {
                    return false;
                }
                digests.add(n.digest().shortHex());
            }
            return digests.stream().distinct().count() == 1;
        });
        return digests;
    }

    private void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gave up waiting for " + what + " after " + PATIENCE.toSeconds()
                        + " s; node states: " + states());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    private String states() {
        StringBuilder sb = new StringBuilder();
        nodes.values().forEach(n -> sb.append(" [").append(n.server().status()).append(']'));
        return sb.toString();
    }

    private void say(String format, Object... args) {
        out.printf("[%5.1fs] %s%n", (System.nanoTime() - started) / 1e9, String.format(format, args));
        out.flush();
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
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

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
