package dev.raftkit.node.cluster;

import static org.awaitility.Awaitility.await;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.SnapshotSource;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.InitialState;
import dev.raftkit.grpc.ClientEndpoint;
import dev.raftkit.grpc.GrpcTransport;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.node.RaftNode;
import dev.raftkit.runtime.RaftListener;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.RaftServerBuilder;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.testkit.runtime.MapStateMachine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.LongFunction;

/**
 * Real nodes on loopback, each built by {@link RaftNode#builder} as an embedder would: a
 * {@link RaftServer} running a {@link MapStateMachine} on a {@link SegmentedLogStorage} in its own
 * directory, the gRPC transport, the client and admin services. Ports are picked by the OS on a
 * node's first start and kept for its restarts. Every node is told every other node's peer and
 * client address (the operator's address book; addresses are not replicated through the log).
 */
final class GrpcCluster implements AutoCloseable {

    static final Duration PATIENCE = Duration.ofSeconds(30);

    /** One node, for one life: the {@link RaftNode} and the pieces tests look at. */
    static final class Node {
        final long id;
        final RaftNode node;
        final RaftServer server;
        final GrpcTransport transport;
        final ClientEndpoint endpoint;
        final MapStateMachine machine;
        final AtomicInteger snapshotsInstalled;

        Node(RaftNode node, MapStateMachine machine, AtomicInteger snapshotsInstalled) {
            this.id = node.id();
            this.node = node;
            this.server = node.server();
            this.transport = node.transport();
            this.endpoint = node.clientEndpoint();
            this.machine = machine;
            this.snapshotsInstalled = snapshotsInstalled;
        }
    }

    private final Path dir;
    private final String clusterId;
    private final Set<Long> founders;
    private final LongFunction<TlsConfig> tls;
    private final BiConsumer<Long, RaftServerBuilder> customize;
    private final Map<Long, Node> nodes = new ConcurrentHashMap<>();
    private final Map<Long, InetSocketAddress> peerAddresses = new ConcurrentHashMap<>();
    private final Map<Long, InetSocketAddress> clientAddresses = new ConcurrentHashMap<>();
    private final List<RaftClient> clients = new ArrayList<>();
    private SegmentedLogStorage.Options logOptions = SegmentedLogStorage.Options.defaults();
    private final Map<Long, DiskFullLog> fillableLogs = new ConcurrentHashMap<>();
    private boolean fillable;
    private TlsConfig clientTls;
    private boolean clientTlsSet;
    private boolean insecureAdmin = true;
    /** Where the other nodes are told node {@code id} listens, when not its own port (a proxy in between). */
    private final Map<Long, InetSocketAddress> routes = new ConcurrentHashMap<>();
    private int snapshotChunkBytes;
    private SnapshotSource snapshotSource = SnapshotSource.LEADER;

    GrpcCluster(Path dir, String clusterId, Set<Long> founders, LongFunction<TlsConfig> tls,
                BiConsumer<Long, RaftServerBuilder> customize) {
        this.dir = dir;
        this.clusterId = clusterId;
        this.founders = Set.copyOf(founders);
        this.tls = tls;
        this.customize = customize;
    }

    /** Small segments let compaction delete whole segments soon, so followers fall behind it. */
    GrpcCluster segmentBytes(long bytes) {
        logOptions = logOptions.withSegmentBytes(bytes);
        return this;
    }

    /** Who streams lagging nodes their snapshots, on every node started from now on. */
    GrpcCluster snapshotSource(SnapshotSource source) {
        snapshotSource = source;
        return this;
    }

    /** Wraps every node's log so a test can fill its disk ({@link #fillDisk}). */
    GrpcCluster fillableDisks() {
        fillable = true;
        return this;
    }

    /** From now on node {@code id}'s log fails every write and sync with ENOSPC, as a full disk would. */
    void fillDisk(long id) {
        fillableLogs.get(id).full = true;
    }

    /** TLS of the clients {@link #client()} makes (default: node 1's certificate, like a node would). */
    synchronized GrpcCluster clientTls(TlsConfig tls) {
        clientTls = tls;
        clientTlsSet = true;
        return this;
    }

    /**
     * Whether client ports admit admin calls from callers without a certificate (default true:
     * these clusters run on loopback in a test, and most tests change membership over plaintext).
     */
    synchronized GrpcCluster insecureAdmin(boolean allow) {
        insecureAdmin = allow;
        return this;
    }

    /** Snapshot chunks of {@code bytes} on every node started from now on (default: the transport's). */
    GrpcCluster snapshotChunkBytes(int bytes) {
        snapshotChunkBytes = bytes;
        return this;
    }

    /**
     * From now on the other nodes reach node {@code id} at {@code via} (a proxy to its own peer
     * port, {@link #peerAddress}): nodes running now are re-pointed, nodes started later told so.
     */
    synchronized void route(long id, InetSocketAddress via) {
        routes.put(id, via);
        for (Node other : nodes.values()) {
            if (other.id != id) {
                other.node.addPeer(id, via, hostPort(id));
            }
        }
    }

    /** Node {@code id}'s own peer port (known once it has started). */
    InetSocketAddress peerAddress(long id) {
        return peerAddresses.get(id);
    }

    GrpcCluster startAll() {
        founders.stream().sorted().forEach(this::start);
        return this;
    }

    /** Starts node {@code id} on its directory (fresh on first start). */
    Node start(long id) {
        return start(id, clusterId);
    }

    /** Starts node {@code id} believing it belongs to cluster {@code cluster} (for misconfiguration tests). */
    synchronized Node start(long id, String cluster) {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        MapStateMachine machine = new MapStateMachine();
        AtomicInteger installed = new AtomicInteger();
        RaftNode.Builder b = RaftNode.builder(cluster, id)
                .dataDir(dir.resolve("node-" + id))
                .peerListen(peerAddresses.getOrDefault(id, new InetSocketAddress(loopback, 0)))
                .clientListen(clientAddresses.getOrDefault(id, new InetSocketAddress(loopback, 0)))
                .tls(tls.apply(id))
                .insecureAdmin(insecureAdmin)
                .tickMillis(20)
                .snapshotSource(snapshotSource)
                .stateMachine(machine)
                .logStorage(logDir -> log(id, SegmentedLogStorage.open(logDir, logOptions)))
                // Short back-off, so a restarted node is reached again within a test's patience.
                .configureTransport(t -> {
                    t.backoff(Duration.ofMillis(20), Duration.ofMillis(500));
                    if (snapshotChunkBytes > 0) {
                        t.snapshotChunkBytes(snapshotChunkBytes);
                    }
                })
                .listener(new RaftListener() {
                    @Override
                    public void onSnapshotInstalled(SnapshotMeta snapshot) {
                        installed.incrementAndGet();
                    }
                })
                .configure(server -> customize.accept(id, server));
        // Peer addresses only: with the others' client addresses a founder would ask them, on its
        // first start, whether the cluster exists already, and one started after a quorum of
        // founders elected a leader would rejoin as a recovering member instead of founding.
        peerAddresses.forEach((peer, address) -> {
            if (peer != id) {
                b.peer(peer, routes.getOrDefault(peer, address));
            }
        });
        if (founders.contains(id)) {
            b.bootstrap(founders);
        }
        RaftNode raftNode;
        try {
            raftNode = b.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        peerAddresses.put(id, raftNode.peerAddress());
        clientAddresses.put(id, raftNode.clientEndpoint().address());
        // The operator's address book, both ways: peer addresses, and client addresses for redirects.
        for (Node other : nodes.values()) {
            if (other.id != id) {
                other.node.addPeer(id, routes.getOrDefault(id, raftNode.peerAddress()), hostPort(id));
                raftNode.addPeer(other.id, routes.getOrDefault(other.id, peerAddresses.get(other.id)), hostPort(other.id));
            }
        }
        Node node = new Node(raftNode, machine, installed);
        nodes.put(id, node);
        return node;
    }

    private LogStorage log(long id, LogStorage log) {
        if (!fillable) {
            return log;
        }
        DiskFullLog wrapped = new DiskFullLog(log);
        fillableLogs.put(id, wrapped);
        return wrapped;
    }

    /** A log on a disk that can fill up: once {@link #full}, writes and syncs fail with ENOSPC. */
    static final class DiskFullLog implements LogStorage {
        private final LogStorage d;
        volatile boolean full;

        DiskFullLog(LogStorage d) {
            this.d = d;
        }

        private void check() throws IOException {
            if (full) {
                throw new IOException("write of log_inprogress failed: No space left on device");
            }
        }

        @Override public InitialState initialState() { return d.initialState(); }
        @Override public long firstIndex() { return d.firstIndex(); }
        @Override public long lastIndex() { return d.lastIndex(); }
        @Override public long term(long index) { return d.term(index); }
        @Override public List<Entry> entries(long lo, long hi, long maxBytes) { return d.entries(lo, hi, maxBytes); }
        @Override public void append(List<Entry> entries) throws IOException { check(); d.append(entries); }
        @Override public void setHardState(HardState hs) throws IOException { d.setHardState(hs); }
        @Override public void installSnapshot(SnapshotMeta s) throws IOException { check(); d.installSnapshot(s); }
        @Override public void sync() throws IOException { check(); d.sync(); }
        @Override public void compact(SnapshotMeta s) throws IOException { d.compact(s); }
        @Override public void compact(SnapshotMeta s, long keepFrom) throws IOException { d.compact(s, keepFrom); }
        @Override public void close() throws IOException { d.close(); }
    }

    /** Cuts node {@code id} off the network at once, then stops it; its directory stays. */
    synchronized void kill(long id) {
        Node n = nodes.remove(id);
        if (n != null) {
            n.node.kill();
        }
    }

    Node node(long id) {
        return nodes.get(id);
    }

    List<Node> running() {
        return new ArrayList<>(nodes.values());
    }

    String hostPort(long id) {
        InetSocketAddress a = clientAddresses.get(id);
        return a.getHostString() + ":" + a.getPort();
    }

    /** A client that knows every node started so far. */
    RaftClient client() {
        return client(clusterId, Duration.ofSeconds(20));
    }

    synchronized RaftClient client(String cluster, Duration timeout) {
        RaftClient.Builder b = RaftClient.builder(cluster).timeout(timeout).tls(clientTlsSet ? clientTls : tls.apply(1));
        clientAddresses.keySet().forEach(id -> b.node(id, hostPort(id)));
        RaftClient c = b.build();
        clients.add(c);
        return c;
    }

    /** Waits for a running node that leads (in this cluster's view), and returns it. */
    Node awaitLeader() {
        Node[] found = new Node[1];
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(10)).until(() -> {
            for (Node n : running()) {
                if (n.server.status().isLeader()) {
                    found[0] = n;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    /** Waits until the given nodes applied the same commands (same count and digest, at least {@code min}). */
    void awaitSameState(Set<Long> ids, long min) {
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(20)).until(() -> {
            long count = -1;
            long digest = 0;
            for (long id : ids) {
                Node n = nodes.get(id);
                if (n == null || n.machine.appliedCount() < min) {
                    return false;
                }
                if (count < 0) {
                    count = n.machine.appliedCount();
                    digest = n.machine.digest();
                } else if (count != n.machine.appliedCount() || digest != n.machine.digest()) {
                    return false;
                }
            }
            return true;
        });
    }

    @Override
    public synchronized void close() {
        clients.forEach(RaftClient::close);
        new ArrayList<>(nodes.keySet()).forEach(this::kill);
    }
}
