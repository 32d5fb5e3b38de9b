package dev.raftkit.cli.demo;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.node.BackupPolicy;
import dev.raftkit.node.RaftNode;
import dev.raftkit.storage.FileIo;
import dev.raftkit.testkit.net.FreePorts;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The stage both demo tours play on: nodes of one state machine kind in this process, over real
 * gRPC on loopback with fsync'd logs under one data directory, a client of them, and the
 * narration (one line per step, with the time since the start). Nodes can be killed abruptly,
 * restarted from their own data, lost for good and replaced by new ones.
 */
final class DemoCluster implements AutoCloseable {

    static final String CLUSTER = "raftkit-demo";
    static final Set<Long> FOUNDERS = Set.of(1L, 2L, 3L);
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private final PrintWriter out;
    private final Path dataDir;
    private final StateMachineKind kind;
    private final String clusterId;
    /** Whether each node gets a backup root, {@link #backupRoot}, as {@code raftkit server --backup-root}. */
    private final boolean backupRoots;
    private final long started = System.nanoTime();
    private final Map<Long, RaftNode> running = new TreeMap<>();
    /** Every member's addresses, running or not (a lost node is forgotten). */
    private final Map<Long, InetSocketAddress> peerAddresses = new TreeMap<>();
    private final Map<Long, String> clientAddresses = new TreeMap<>();
    private RaftClient client;

    DemoCluster(PrintWriter out, Path dataDir, StateMachineKind kind) {
        this(out, dataDir, kind, CLUSTER, false);
    }

    /**
     * A cluster named {@code clusterId}; with {@code backupRoots}, every node may take backups
     * (and a SQL node writes its table artifacts) under its own {@link #backupRoot}.
     */
    DemoCluster(PrintWriter out, Path dataDir, StateMachineKind kind, String clusterId, boolean backupRoots) {
        this.out = out;
        this.dataDir = dataDir;
        this.kind = kind;
        this.clusterId = clusterId;
        this.backupRoots = backupRoots;
    }

    /** Starts the three founding nodes of a new cluster, and the client. */
    void startFounders() throws IOException {
        for (long id : FOUNDERS) {
            // Ports chosen up front, so every node starts knowing where its peers are.
            chooseAddresses(id);
        }
        for (long id : FOUNDERS) {
            start(id, true);
        }
        RaftClient.Builder cb = RaftClient.builder(clusterId).timeout(Duration.ofSeconds(60))
                .attemptTimeout(Duration.ofSeconds(10));
        clientAddresses.forEach(cb::node);
        client = cb.build();
    }

    RaftClient client() {
        return client;
    }

    Path dataDir() {
        return dataDir;
    }

    Path nodeDir(long id) {
        return dataDir.resolve("node-" + id);
    }

    /** Node {@code id}'s backup root (used only by a cluster made with backup roots). */
    Path backupRoot(long id) {
        return dataDir.resolve("backup-root-" + id);
    }

    String clusterId() {
        return clusterId;
    }

    /** The client addresses of every member, comma-separated, as {@code raftkit -c} takes them. */
    String addresses() {
        return String.join(",", clientAddresses.values());
    }

    RaftNode node(long id) {
        return running.get(id);
    }

    /** Ids of the running nodes. */
    Set<Long> running() {
        return running.keySet();
    }

    /** Starts (or restarts, from its own data) member {@code id}. */
    void start(long id) throws IOException {
        start(id, false);
    }

    private void start(long id, boolean bootstrap) throws IOException {
        String client = clientAddresses.get(id);
        RaftNode.Builder b = RaftNode.builder(clusterId, id).dataDir(nodeDir(id)).peerListen(peerAddresses.get(id))
                .clientListen(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                        Integer.parseInt(client.substring(client.lastIndexOf(':') + 1))))
                .bootstrap(bootstrap ? FOUNDERS : Set.of()).tickMillis(50)
                // Plaintext in one process on loopback: the tour replaces a lost node (membership
                // changes are admin calls), and nobody else can reach these ports' callers.
                .insecureAdmin(true)
                .configure(c -> c.snapshotThresholds(2_000, 16L << 20));
        if (backupRoots) {
            // The policy checks the root against the data directory, which must exist for that.
            Files.createDirectories(nodeDir(id));
            BackupPolicy backups = BackupPolicy.open(backupRoot(id), null, nodeDir(id));
            // As raftkit server: a live restore rebuilds the backup's state in a scratch state
            // machine that writes no files of its own, never in the node's.
            b.backups(backups).stateMachine(kind.create(nodeDir(id), clusterId, backups))
                    .stateMachineFactory(kind::createScratch);
        } else {
            b.stateMachine(kind.create(nodeDir(id)));
        }
        peerAddresses.forEach((peer, address) -> {
            if (peer != id) {
                b.peer(peer, address, clientAddresses.get(peer));
            }
        });
        running.put(id, b.start());
    }

    /** Cuts node {@code id} off at once and stops it, like a crash; its data stays. */
    void kill(long id) {
        running.remove(id).kill();
    }

    /** Kills every running node. */
    void killAll() {
        for (long id : new ArrayList<>(running.keySet())) {
            kill(id);
        }
    }

    /** Restarts every member from its own data. */
    void restartAll() throws IOException {
        for (long id : peerAddresses.keySet()) {
            if (!running.containsKey(id)) {
                start(id);
            }
        }
    }

    /** Node {@code id} lost its disk: killed, its data deleted, its addresses forgotten. */
    void lose(long id) throws IOException {
        if (running.containsKey(id)) {
            kill(id);
        }
        FileIo.real().deleteRecursively(nodeDir(id));
        peerAddresses.remove(id);
        clientAddresses.remove(id);
    }

    /**
     * Starts new node {@code id} on whatever its data directory holds (no bootstrap: it waits to
     * be added), and tells the running nodes and the client where it listens.
     */
    void startNew(long id) throws IOException {
        chooseAddresses(id);
        start(id);
        for (RaftNode n : running.values()) {
            if (n.id() != id) {
                n.addPeer(id, peerAddresses.get(id), clientAddresses.get(id));
            }
        }
        client.setNode(id, clientAddresses.get(id));
    }

    private void chooseAddresses(long id) throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        peerAddresses.put(id, new InetSocketAddress(loopback, FreePorts.next()));
        clientAddresses.put(id, loopback.getHostAddress() + ":" + FreePorts.next());
    }


    /** Waits for a leader other than {@code not} that all running nodes follow; returns its id. */
    long awaitLeader(long not) {
        long[] leader = {0};
        await("a leader", () -> {
            for (RaftNode n : running.values()) {
                if (n.server().status().isLeader() && n.id() != not) {
                    long id = n.id();
                    if (running.values().stream().allMatch(o -> o.server().status().leader() == id)) {
                        leader[0] = id;
                        return true;
                    }
                }
            }
            return false;
        });
        return leader[0];
    }

    /** A running node that does not lead. */
    long follower() {
        long leader = awaitLeader(0);
        return running.keySet().stream().filter(id -> id != leader).findFirst().orElseThrow();
    }

    /**
     * Waits until every running node has applied all that any of them has committed, with equal
     * state digests; returns each node's digest.
     */
    Map<Long, StateMachineKind.Digest> awaitConverged() {
        Map<Long, StateMachineKind.Digest> digests = new LinkedHashMap<>();
        await("all nodes to converge", () -> {
            long commit = running.values().stream().mapToLong(n -> n.server().status().commit()).max().orElse(0);
            digests.clear();
            for (RaftNode n : running.values()) {
                if (n.server().status().applied() < commit) {
                    return false;
                }
                digests.put(n.id(), kind.digest(n.server()));
            }
            return digests.values().stream().map(StateMachineKind.Digest::hex).distinct().count() == 1;
        });
        return digests;
    }

    /** Polls {@code condition} until it holds; fails, with every node's state, after 60 s. */
    void await(String what, BooleanSupplier condition) {
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
        running.values().forEach(n -> sb.append(" [").append(n.server().status()).append(']'));
        return sb.toString();
    }

    /** One narration line, stamped with the seconds since the start. */
    void say(String format, Object... args) {
        out.printf("[%5.1fs] %s%n", secondsSinceStart(), String.format(format, args));
        out.flush();
    }

    /** Text as it is, for what a shell would print. */
    void print(String text) {
        out.print(text);
        out.flush();
    }

    long millisSinceStart() {
        return millisSince(started);
    }

    double secondsSinceStart() {
        return (System.nanoTime() - started) / 1e9;
    }

    static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    /** Closes the client and stops every running node. */
    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
        running.values().forEach(RaftNode::close);
        running.clear();
    }


    /** The digests as lines for the narration: one per node. */
    static List<String> digestLines(Map<Long, StateMachineKind.Digest> digests) {
        List<String> lines = new ArrayList<>();
        digests.forEach((id, d) -> lines.add(String.format("  node %d state digest %s (applied index %d)", id,
                d.shortHex(), d.appliedIndex())));
        return lines;
    }
}
