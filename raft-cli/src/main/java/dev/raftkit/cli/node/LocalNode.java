package dev.raftkit.cli.node;

import dev.raftkit.core.Bootstrap;
import dev.raftkit.core.RaftConfig;
import dev.raftkit.grpc.ClientEndpoint;
import dev.raftkit.grpc.ClientService;
import dev.raftkit.grpc.GrpcTransport;
import dev.raftkit.grpc.GrpcTransportConfig;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.proto.StatusResponse;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.ReadMode;
import dev.raftkit.runtime.SizeLimits;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import io.grpc.BindableService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One node as a service runs it: a {@link RaftServer} running the key-value or the SQL state
 * machine ({@link StateMachineKind}) on a {@link SegmentedLogStorage} and a {@link FileSnapshotStore}
 * under {@code dataDir}, a {@link GrpcTransport} for its peers, and a client endpoint. Used by
 * {@code raftkit server}, the demo and the benchmark.
 *
 * <p>Layout of {@code dataDir}: {@code log/} (the log), {@code snapshots/} (snapshots), and for
 * SQL {@code sql-backups/} (the file images of {@code BACKUP DATABASE}).
 */
public final class LocalNode implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LocalNode.class);

    /**
     * How to run a node.
     *
     * @param id          this node's id
     * @param clusterId   the cluster's name; messages of other clusters are refused
     * @param dataDir     where the log and snapshots live
     * @param peerListen  address for the other nodes (port 0: any free port)
     * @param clientListen address for clients (port 0: any free port)
     * @param peers       the other nodes' peer addresses (may be completed later with {@link #addPeer})
     * @param clientAddresses every node's client address, for redirecting clients to the leader
     * @param bootstrap   founding voters when this is a brand-new cluster; empty to join or restart
     * @param tls         TLS for both listeners, or null for plaintext
     * @param tickMillis  length of a tick (election timeout 10–20 ticks)
     * @param stateMachine which state machine the node runs
     * @param insecureAdmin let callers without a certificate make admin calls (membership, leadership
     *                    transfer, backups, peers) on the client port; for a plaintext cluster on a
     *                    network where everyone is trusted (the demo, tests). Logged loudly at start.
     * @param diskStallTicks ticks the log writer may hold a write unfinished before the node counts
     *                    its disk as stalled and, if it leads, steps down ({@code
     *                    RaftServer.Builder#diskStallTicks}); 0: the runtime's default
     */
    public record Spec(long id, String clusterId, Path dataDir, InetSocketAddress peerListen,
                       InetSocketAddress clientListen, Map<Long, InetSocketAddress> peers,
                       Map<Long, String> clientAddresses, Set<Long> bootstrap, TlsConfig tls, long tickMillis,
                       StateMachineKind stateMachine, boolean insecureAdmin, int diskStallTicks) {
        public Spec {
            Objects.requireNonNull(clusterId, "clusterId");
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(stateMachine, "stateMachine");
            peers = Map.copyOf(peers);
            clientAddresses = Map.copyOf(clientAddresses);
            bootstrap = Set.copyOf(bootstrap);
            if (tickMillis <= 0) {
                throw new IllegalArgumentException("tickMillis must be positive, got " + tickMillis);
            }
            if (diskStallTicks < 0) {
                throw new IllegalArgumentException("diskStallTicks must not be negative, got " + diskStallTicks);
            }
        }

        /** A node with the runtime's default disk-stall bound. */
        public Spec(long id, String clusterId, Path dataDir, InetSocketAddress peerListen,
                    InetSocketAddress clientListen, Map<Long, InetSocketAddress> peers,
                    Map<Long, String> clientAddresses, Set<Long> bootstrap, TlsConfig tls, long tickMillis,
                    StateMachineKind stateMachine, boolean insecureAdmin) {
            this(id, clusterId, dataDir, peerListen, clientListen, peers, clientAddresses, bootstrap, tls, tickMillis,
                    stateMachine, insecureAdmin, 0);
        }

        /** A node whose admin calls need an admin certificate (no insecure admin). */
        public Spec(long id, String clusterId, Path dataDir, InetSocketAddress peerListen,
                    InetSocketAddress clientListen, Map<Long, InetSocketAddress> peers,
                    Map<Long, String> clientAddresses, Set<Long> bootstrap, TlsConfig tls, long tickMillis,
                    StateMachineKind stateMachine) {
            this(id, clusterId, dataDir, peerListen, clientListen, peers, clientAddresses, bootstrap, tls, tickMillis,
                    stateMachine, false);
        }

        /** The same node with insecure admin on or off. */
        public Spec withInsecureAdmin(boolean allow) {
            return new Spec(id, clusterId, dataDir, peerListen, clientListen, peers, clientAddresses, bootstrap, tls,
                    tickMillis, stateMachine, allow, diskStallTicks);
        }

        /** The same node with another disk-stall bound (0: the runtime's default). */
        public Spec withDiskStallTicks(int ticks) {
            return new Spec(id, clusterId, dataDir, peerListen, clientListen, peers, clientAddresses, bootstrap, tls,
                    tickMillis, stateMachine, insecureAdmin, ticks);
        }

        /** A key-value node (the default state machine). */
        public Spec(long id, String clusterId, Path dataDir, InetSocketAddress peerListen,
                    InetSocketAddress clientListen, Map<Long, InetSocketAddress> peers,
                    Map<Long, String> clientAddresses, Set<Long> bootstrap, TlsConfig tls, long tickMillis) {
            this(id, clusterId, dataDir, peerListen, clientListen, peers, clientAddresses, bootstrap, tls, tickMillis,
                    StateMachineKind.KV);
        }
    }

    private final Spec spec;
    private final GrpcTransport transport;
    private final RaftServer server;
    private final ClientService clientService;
    private final ClientEndpoint endpoint;
    private final StateMachine machine;
    private final FileSnapshotStore snapshots;

    private LocalNode(Spec spec, GrpcTransport transport, RaftServer server, ClientService clientService,
                      ClientEndpoint endpoint, StateMachine machine, FileSnapshotStore snapshots) {
        this.spec = spec;
        this.transport = transport;
        this.server = server;
        this.clientService = clientService;
        this.endpoint = endpoint;
        this.machine = machine;
        this.snapshots = snapshots;
    }

    /** Opens the node's durable log in the given directory. */
    @FunctionalInterface
    public interface LogOpener {
        LogStorage open(Path dir) throws IOException;
    }

    /** Starts a node; {@code customize} may adjust the server (snapshot thresholds, listeners). */
    public static LocalNode start(Spec spec, Consumer<RaftServer.Builder> customize) throws IOException {
        return start(spec, customize, List.of());
    }

    /**
     * Starts a node that also serves {@code extraClientServices} on its client port (the admin
     * service of {@code raftkit server}).
     */
    public static LocalNode start(Spec spec, Consumer<RaftServer.Builder> customize,
                                  List<BindableService> extraClientServices) throws IOException {
        return start(spec, customize, extraClientServices, SegmentedLogStorage::open);
    }

    /**
     * Whether anything accepts connections at {@code hostPort}. On a cluster's first start the
     * other founders are often not up yet: a refused connection answers at once, where the client
     * would retry until its timeout, adding seconds to every founder's start.
     */
    private static boolean listening(String hostPort) {
        try (Socket socket = new Socket()) {
            socket.connect(HostPort.parse(hostPort, "client address"), (int) FOUNDING_CONNECT.toMillis());
            return true;
        } catch (IOException | RuntimeException notThere) {
            return false;
        }
    }

    /** How long founding waits to connect to another founder's client port. */
    private static final Duration FOUNDING_CONNECT = Duration.ofMillis(500);

    /** How long founding waits for each other founder's status before taking it as unreachable. */
    private static final Duration FOUNDING_PROBE = Duration.ofSeconds(2);

    /**
     * Asks the other founders (those with a client address) for their status before an empty
     * directory founds a cluster: if any holds entries past the founding ones, a leader has been
     * elected (only a leader appends, and its first entry is its no-op), so a majority of founders
     * founded long ago and this directory lost its state. A term above 1 would not prove it: a
     * founder alone, without pre-vote, raises its term campaigning, and a sibling that then refused
     * to found would leave neither able to win. Returns what was found, or null if no reachable
     * founder shows one. A founder that does not answer proves nothing either way, so a node whose
     * directory was wiped while every other founder is down still founds (docs/divergence.md,
     * "Lost state"): start such a node without --bootstrap.
     */
    static String existingCluster(Spec spec) {
        long founding = Bootstrap.entries(spec.bootstrap()).size();
        for (long peer : spec.bootstrap()) {
            String address = spec.clientAddresses().get(peer);
            if (peer == spec.id() || address == null || !listening(address)) {
                continue;
            }
            try (RaftClient client = RaftClient.builder(spec.clusterId()).node(peer, address).tls(spec.tls())
                    .timeout(FOUNDING_PROBE).attemptTimeout(FOUNDING_PROBE).build()) {
                StatusResponse status = client.status(peer);
                if (status.getLastIndex() > founding) {
                    return "node " + peer + " at " + address + " is at term " + status.getTerm() + " with log index "
                            + status.getLastIndex();
                }
            } catch (RuntimeException unreachable) {
                LOG.info("node {}: founder {} at {} did not answer before founding: {}", spec.id(), peer, address,
                        unreachable.getMessage());
            }
        }
        return null;
    }

    /**
     * Starts a node whose durable log {@code openLog} opens in {@code dataDir/log}: other log
     * options (the Jepsen harness's small segments), or a decorator (the benchmark counts syncs and
     * entries).
     */
    public static LocalNode start(Spec spec, Consumer<RaftServer.Builder> customize,
                                  List<BindableService> extraClientServices, LogOpener openLog) throws IOException {
        GrpcTransportConfig.Builder tb = GrpcTransportConfig.builder(spec.clusterId(), spec.id())
                .listen(spec.peerListen())
                .tls(spec.tls());
        spec.peers().forEach(tb::peer);
        GrpcTransportConfig peerConfig = tb.build();
        GrpcTransport transport = new GrpcTransport(peerConfig);
        StateMachine machine = spec.stateMachine().create(spec.dataDir());
        RaftConfig config = RaftConfig.builder(spec.id()).electionTicks(10).heartbeatTicks(2)
                .randomSeed(spec.id() ^ System.nanoTime()).build();
        RaftServer server = null;
        FileSnapshotStore snapshots = null;
        LogStorage log = null;
        try {
            // The log first: its segments stay locked by a running server even if someone deleted
            // the LOCK files, so a second server stops there before the snapshot store's start-up
            // could remove the running one's partial snapshot.
            log = openLog.open(spec.dataDir().resolve("log"));
            snapshots = FileSnapshotStore.open(spec.dataDir().resolve("snapshots"));
            RaftServer.Builder b = RaftServer.builder(config)
                    .logStorage(log)
                    .snapshotStore(snapshots)
                    .stateMachine(machine)
                    .transport(transport)
                    .tickMillis(spec.tickMillis())
                    .shutdownTimeout(Duration.ofSeconds(10));
            if (spec.diskStallTicks() > 0) {
                b.diskStallTicks(spec.diskStallTicks());
            }
            if (!spec.bootstrap().isEmpty()) {
                String existing = RaftServer.hasNoDurableState(log, snapshots) ? existingCluster(spec) : null;
                if (existing == null) {
                    b.bootstrap(spec.bootstrap());
                } else {
                    // Founding again would let this node vote with an empty log and a forgotten
                    // vote, and elect a leader without entries it acknowledged before (§3.8).
                    LOG.warn("node {}: its data directory {} is empty but the cluster already exists ({}): it does"
                            + " not found it again; it rejoins as a recovering member and votes once it has caught up"
                            + " from a leader. Start it without --bootstrap from now on", spec.id(), spec.dataDir(),
                            existing);
                }
            }
            customize.accept(b);
            server = b.start();
            // The client port's limit derives from the server's command limit, and the peers must
            // carry the largest such command, or it would be appended and never replicated.
            SizeLimits.checkPeerLimit(server.maxCommandBytes(), peerConfig.maxMessageBytes());
            Map<Long, String> clients = new TreeMap<>(spec.clientAddresses());
            ClientService service = new ClientService(spec.clusterId(), server, clients);
            List<BindableService> services = new ArrayList<>(List.of(service));
            services.addAll(extraClientServices);
            if (spec.insecureAdmin()) {
                LOG.warn("node {}: INSECURE ADMIN: any caller without a certificate may change membership, transfer"
                        + " leadership, take backups and re-point peers on the client port{}; use it only on a network"
                        + " where everyone is trusted, or use mutual TLS with admin certificates ('raftkit certs')",
                        spec.id(), spec.tls() == null ? "" : " (callers with a certificate still need the admin role)");
            }
            ClientEndpoint endpoint = ClientEndpoint.start(spec.clientListen(), services, spec.tls(),
                    SizeLimits.clientMessageBytes(server.maxCommandBytes()),
                    new ClientEndpoint.Access(spec.clusterId(), spec.id(), spec.insecureAdmin()));
            service.setClientAddress(spec.id(), endpoint.hostPort());
            return new LocalNode(spec, transport, server, service, endpoint, machine, snapshots);
        } catch (IOException | RuntimeException e) {
            transport.close();
            if (server != null) {
                server.close();
            } else {
                // The server never took them: release the directory locks (a retry would find them
                // held) and the log's preallocation.
                for (AutoCloseable c : new AutoCloseable[] {machine, log, snapshots}) {
                    try {
                        if (c != null) {
                            c.close();
                        }
                    } catch (Exception closing) {
                        e.addSuppressed(closing);
                    }
                }
            }
            throw e;
        }
    }

    public long id() {
        return spec.id();
    }

    public RaftServer server() {
        return server;
    }

    /** The state machine; use it only through the server (its threads own it), e.g. {@link #digest()}. */
    public StateMachine machine() {
        return machine;
    }

    /**
     * This node's own state-machine digest (a stale read on this node: what it has applied, not
     * what the cluster has committed).
     *
     * @throws IllegalStateException if the node does not answer within 10 s
     */
    public StateMachineKind.Digest digest() {
        try {
            return spec.stateMachine().digestOf(server.read(spec.stateMachine().digestQuery(), ReadMode.STALE)
                    .get(10, TimeUnit.SECONDS));
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("node " + spec.id() + " did not answer its digest: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking node " + spec.id() + " for its digest", e);
        }
    }

    public Spec spec() {
        return spec;
    }

    /**
     * The snapshot store the server writes to: a backup of this node copies its snapshots from here,
     * and must use this very instance (it locks its directory).
     */
    public FileSnapshotStore snapshotStore() {
        return snapshots;
    }

    public InetSocketAddress peerAddress() {
        return transport.localAddress();
    }

    /** host:port of the client endpoint. */
    public String clientHostPort() {
        return endpoint.hostPort();
    }

    /** Tells this node where node {@code id} listens (for peers and for client redirects). */
    public void addPeer(long id, InetSocketAddress peerAddress, String clientHostPort) {
        transport.addPeer(id, peerAddress);
        clientService.setClientAddress(id, clientHostPort);
    }

    /** Cuts the node off at once (network first, no goodbyes), then stops it: like a crash. */
    public void kill() {
        transport.close();
        endpoint.close();
        server.close();
    }

    /** Graceful shutdown: stop taking work, drain, close files. */
    @Override
    public void close() {
        endpoint.close();
        server.close();
        transport.close();
    }
}
