package dev.raftkit.node;

import dev.raftkit.core.Bootstrap;
import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.SnapshotSource;
import dev.raftkit.core.Tracer;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.grpc.ClientEndpoint;
import dev.raftkit.grpc.ClientService;
import dev.raftkit.grpc.GrpcTransport;
import dev.raftkit.grpc.GrpcTransportConfig;
import dev.raftkit.grpc.NodeStatus;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.metrics.MicrometerRaftMetrics;
import dev.raftkit.runtime.RaftListener;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.RaftServerBuilder;
import dev.raftkit.runtime.SizeLimits;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.spi.StagedState;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.BackupSchedule;
import dev.raftkit.storage.backup.BackupScheduler;
import dev.raftkit.storage.backup.BackupService;
import dev.raftkit.storage.backup.DirectoryTarget;
import io.grpc.BindableService;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * One networked Raft node, assembled: a {@link RaftServer} running your {@link StateMachine} on a
 * {@link SegmentedLogStorage} and a {@link FileSnapshotStore} under one data directory, a
 * {@link GrpcTransport} for its peers, and a client port serving the client service (submit,
 * read, status, membership, leadership transfer) and the admin service (backups, snapshots, peer
 * addresses learnt at run time). This is what {@code raftkit server} runs; a service that embeds
 * Raftkit builds the same node in a few lines:
 *
 * <pre>{@code
 * try (RaftNode node = RaftNode.builder("orders", 1)
 *         .dataDir(Path.of("/var/lib/orders"))
 *         .peerListen(new InetSocketAddress("10.0.0.1", 7001))
 *         .clientListen(new InetSocketAddress("10.0.0.1", 8001))
 *         .peer(2, new InetSocketAddress("10.0.0.2", 7001), "10.0.0.2:8001")
 *         .peer(3, new InetSocketAddress("10.0.0.3", 7001), "10.0.0.3:8001")
 *         .bootstrap(Set.of(1L, 2L, 3L))          // first start of a new cluster only
 *         .tls(TlsConfig.mutual(cert, key, ca))
 *         .stateMachine(new KvStateMachine())
 *         .start()) {
 *     node.server().submit(command);              // or, from anywhere, a RaftClient
 * }
 * }</pre>
 *
 * <p><b>Layout of the data directory:</b> {@code log/} (the log and hard state), {@code
 * snapshots/} (snapshots); a state machine may keep files of its own beside them.
 *
 * <p><b>Founding:</b> a node given {@link Builder#bootstrap} founds the cluster only if its
 * directory holds no state and no reachable founder shows that the cluster already exists; a
 * founder whose directory was wiped instead rejoins as a recovering member that neither votes nor
 * acknowledges until a leader has caught it up (thesis §3.8, docs/divergence.md "Lost state").
 *
 * <p><b>Logging:</b> the node logs through SLF4J; the runtime's important lines carry {@code node},
 * {@code cluster} and {@code term} as key-value fields, and its own threads carry {@code node} and
 * {@code cluster} in the MDC (docs/user-guide.md, "Logs"). gRPC logs through
 * {@code java.util.logging}: by default {@link Builder#start} routes it to SLF4J too, replacing the
 * JUL root logger's handlers (an embedder whose JUL set-up is its own opts out with
 * {@link Builder#routeJulToSlf4j routeJulToSlf4j(false)}).
 *
 * <p><b>Threads:</b> all methods are safe from any thread. {@link #close} and {@link #kill} block
 * until the node's threads have stopped.
 */
public final class RaftNode implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RaftNode.class);

    /** Opens the node's durable log in the given directory ({@code dataDir/log}). */
    @FunctionalInterface
    public interface LogOpener {
        /**
         * Called once, on the thread that calls {@link Builder#start}; may block on disk.
         *
         * @throws IOException if the log cannot be opened: the node does not start
         */
        LogStorage open(Path dir) throws IOException;
    }

    /** A node to start: {@link #dataDir} and {@link #stateMachine} are required, the rest has defaults. */
    public static final class Builder {
        private final String clusterId;
        private final long id;
        private Path dataDir;
        private InetSocketAddress peerListen = new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0);
        private InetSocketAddress clientListen = new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0);
        private final Map<Long, InetSocketAddress> peers = new TreeMap<>();
        private final Map<Long, String> clientAddresses = new TreeMap<>();
        private Set<Long> bootstrap = Set.of();
        private TlsConfig tls;
        private long tickMillis = 50;
        private StateMachine stateMachine;
        private Supplier<StateMachine> stateMachineFactory;
        private boolean insecureAdmin;
        private int diskStallTicks;
        private SnapshotSource snapshotSource = SnapshotSource.LEADER;
        private long diskSlowMillis;
        private int diskStuckTicks;
        private long minFreeDiskBytes = -1;
        private BackupPolicy backups = BackupPolicy.none();
        private BackupSchedule backupSchedule;
        private int backupKeepChains;
        private Clock backupClock = Clock.systemUTC();
        private Duration backupCheckEvery = Duration.ofSeconds(10);
        private Duration backupStall = Duration.ofMinutes(10);
        private LogOpener logOpener = SegmentedLogStorage::open;
        private FileIo snapshotFileIo = FileIo.real();
        private Consumer<RaftServerBuilder> configure = b -> { };
        private Consumer<GrpcTransportConfig.Builder> configureTransport = b -> { };
        private InetSocketAddress http;
        private MeterRegistry meterRegistry;
        private Tracer tracer;
        private boolean routeJulToSlf4j = true;
        private boolean started;

        private static long notNegative(long v, String what) {
            if (v < 0) {
                throw new IllegalArgumentException(what + " must not be negative, got " + v);
            }
            return v;
        }

        private Builder(String clusterId, long id) {
            this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
            if (clusterId.isBlank()) {
                throw new IllegalArgumentException("the cluster id must not be empty");
            }
            if (id <= 0) {
                throw new IllegalArgumentException("a node id is between 1 and 2^63-1, got " + id);
            }
            this.id = id;
        }

        /** Where the log and snapshots live; required. The node locks it for as long as it runs. */
        public Builder dataDir(Path v) { dataDir = Objects.requireNonNull(v, "dataDir"); return this; }

        /** Address the other nodes reach this one at (port 0: any free port); default loopback, any port. */
        public Builder peerListen(InetSocketAddress v) { peerListen = Objects.requireNonNull(v, "peerListen"); return this; }

        /** Address for clients and admin calls (port 0: any free port); default loopback, any port. */
        public Builder clientListen(InetSocketAddress v) { clientListen = Objects.requireNonNull(v, "clientListen"); return this; }

        /** Where another node listens for peers; more may be learnt later ({@link RaftNode#addPeer}). */
        public Builder peer(long peerId, InetSocketAddress peerAddress) {
            checkPeerId(peerId);
            if (peerId == id) {
                throw new IllegalArgumentException("node " + id + " cannot be its own peer; name the other nodes");
            }
            peers.put(peerId, Objects.requireNonNull(peerAddress, "peerAddress"));
            return this;
        }

        /**
         * Where another node listens for peers and for clients ({@code host:port}): with the client
         * address this node redirects clients to that node when it leads, and a founder asks it
         * whether the cluster already exists.
         */
        public Builder peer(long peerId, InetSocketAddress peerAddress, String clientHostPort) {
            peer(peerId, peerAddress);
            clientAddresses.put(peerId, Objects.requireNonNull(clientHostPort, "clientHostPort"));
            return this;
        }

        /** This node's own client address as others should reach it, when it differs from {@link #clientListen}. */
        public Builder clientAddress(String hostPort) {
            clientAddresses.put(id, Objects.requireNonNull(hostPort, "hostPort"));
            return this;
        }

        /**
         * The founding voters, for the first start of a brand-new cluster (this node among them);
         * empty (the default) to restart or to join a running cluster as a new member.
         */
        public Builder bootstrap(Set<Long> voters) {
            Set<Long> v = new LinkedHashSet<>(voters);
            if (!v.isEmpty() && !v.contains(id)) {
                throw new IllegalArgumentException("bootstrap voters " + v + " do not include this node (" + id
                        + "); a founder is one of the voters it names");
            }
            v.forEach(RaftNode::checkVoterId);
            bootstrap = Set.copyOf(v);
            return this;
        }

        /** Mutual TLS for both ports ({@code raftkit certs} makes the certificates); default none, plaintext. */
        public Builder tls(TlsConfig v) { tls = v; return this; }

        /** Length of a tick in milliseconds (election timeout 10–20 ticks, heartbeats every 2); default 50. */
        public Builder tickMillis(long v) {
            if (v <= 0) {
                throw new IllegalArgumentException("tickMillis must be positive, got " + v);
            }
            tickMillis = v;
            return this;
        }

        /**
         * The state machine this node replicates; required. The node owns it from {@link #start}
         * on: it closes it when it closes, or when it fails to start.
         */
        public Builder stateMachine(StateMachine v) { stateMachine = Objects.requireNonNull(v, "stateMachine"); return this; }

        /**
         * Makes new, empty state machines of the kind {@link #stateMachine} is, each closed by the
         * node after use: a live restore ({@link RaftNode#liveRestore}) rebuilds a backup's state
         * in one before it switches the cluster to it. Without it a live restore is refused. The
         * state machines it makes must not share state (files, tables) with the node's own.
         */
        public Builder stateMachineFactory(Supplier<StateMachine> v) {
            stateMachineFactory = Objects.requireNonNull(v, "stateMachineFactory");
            return this;
        }

        /**
         * Let callers without a certificate make admin calls (membership, leadership transfer,
         * backups, peers) on the client port; for a plaintext cluster on a network where everyone
         * is trusted (a demo, tests). Logged loudly at start. Default off.
         */
        public Builder insecureAdmin(boolean v) { insecureAdmin = v; return this; }

        /**
         * Ticks the log writer may hold a write unfinished before this node counts its disk as
         * stalled and, if it leads, steps down ({@link RaftServerBuilder#diskStallTicks}); 0, the
         * default: the runtime's default.
         */
        public Builder diskStallTicks(int v) {
            diskStallTicks = (int) notNegative(v, "diskStallTicks");
            return this;
        }

        /**
         * Who streams a lagging follower the snapshot it needs when this node leads:
         * {@link SnapshotSource#LEADER} (the default) or {@link SnapshotSource#PEERS}, an
         * up-to-date follower or learner the leader names, sparing the leader's bandwidth; the
         * leader sends its own when none qualifies or the peer's transfer is not acknowledged
         * within 100 ticks ({@link RaftConfig#peerSnapshotTimeoutTicks}). Every member should use the
         * same setting (a member of an older version ignores the leader's request, and the leader
         * then falls back after the timeout).
         */
        public Builder snapshotSource(SnapshotSource v) {
            if (v == null) {
                throw new IllegalArgumentException("snapshotSource must be LEADER or PEERS, got null");
            }
            snapshotSource = v;
            return this;
        }

        /**
         * Whether {@link #start} routes {@code java.util.logging} (gRPC's and Netty's logging) to
         * SLF4J, so their warnings reach the same backend as the node's own lines. Default on: the
         * first node of the process that starts removes the JUL root logger's handlers (the console
         * handler that would print them a second time, in JUL's two-line format) and installs
         * {@code SLF4JBridgeHandler}; later nodes see it installed and do nothing. Turn it off when
         * the application configures JUL itself (its own handlers, or a bridge of its own).
         */
        public Builder routeJulToSlf4j(boolean v) { routeJulToSlf4j = v; return this; }

        /**
         * The longest a single log write or fsync may take before this node, if it leads, steps
         * down ({@link RaftServerBuilder#diskSlowMillis}); 0, the default: the runtime's default
         * (1000 ms).
         */
        public Builder diskSlowMillis(long v) {
            diskSlowMillis = notNegative(v, "diskSlowMillis");
            return this;
        }

        /**
         * Ticks the log writer may hold a write unfinished before this node fails stop
         * ({@link RaftServerBuilder#diskStuckTicks}); 0, the default: the runtime's default (30
         * election timeouts, 300 ticks).
         */
        public Builder diskStuckTicks(int v) {
            diskStuckTicks = (int) notNegative(v, "diskStuckTicks");
            return this;
        }

        /**
         * The free-space watermark of the data directory's disk: below it, this node as leader
         * refuses new proposals with DISK_FULL ({@link RaftServerBuilder#minFreeDiskBytes}); 0 turns
         * the check off. Default: the runtime's, 256 MiB.
         */
        public Builder minFreeDiskBytes(long v) {
            minFreeDiskBytes = notNegative(v, "minFreeDiskBytes");
            return this;
        }

        /** Where the admin service may write backups, and their key; default {@link BackupPolicy#none()}. */
        public Builder backups(BackupPolicy v) { backups = Objects.requireNonNull(v, "backups"); return this; }

        /**
         * Takes backups on {@code schedule} into the backup root of {@link #backups} (which must be
         * set), keeping the {@code keepChains} newest chains (0: all) and deleting older whole chains
         * after each backup. Run by the node's {@code raftkit-backup-scheduler} thread; every node
         * given a schedule runs it into its own root. Default: no schedule.
         */
        public Builder backupSchedule(BackupSchedule schedule, int keepChains) {
            backupSchedule = Objects.requireNonNull(schedule, "schedule");
            backupKeepChains = (int) notNegative(keepChains, "keepChains");
            return this;
        }

        /** The scheduler's clock (tests pass one they move); default the system clock. */
        public Builder backupClock(Clock v) { backupClock = Objects.requireNonNull(v, "backupClock"); return this; }

        /** How often the scheduler looks whether a backup is due; default 10 s. */
        public Builder backupCheckEvery(Duration v) {
            backupCheckEvery = Objects.requireNonNull(v, "backupCheckEvery");
            if (v.isNegative() || v.isZero()) {
                throw new IllegalArgumentException("backupCheckEvery must be positive, got " + v);
            }
            return this;
        }

        /**
         * How long a backup may wait on the server with no step done (no snapshot, no batch of
         * entries) before it fails as stalled; there is no limit on a backup's total time. Default 10
         * minutes: above the time a large state takes to snapshot.
         */
        public Builder backupStall(Duration v) {
            backupStall = Objects.requireNonNull(v, "backupStall");
            if (v.isNegative() || v.isZero()) {
                throw new IllegalArgumentException("backupStall must be positive, got " + v);
            }
            return this;
        }

        /**
         * How to open the durable log in {@code dataDir/log}; default {@link SegmentedLogStorage#open}.
         * For other log options, or a decorator (the benchmark counts syncs).
         */
        public Builder logStorage(LogOpener v) { logOpener = Objects.requireNonNull(v, "logStorage"); return this; }

        /**
         * The file system under the snapshot store in {@code dataDir/snapshots}; default the real
         * one. A fault harness passes the same testing layer as the log's (one that loses unsynced
         * writes at a kill), so that no durable file of the node bypasses it.
         */
        public Builder snapshotFileIo(FileIo v) { snapshotFileIo = Objects.requireNonNull(v, "snapshotFileIo"); return this; }

        /**
         * Serve the read-only HTTP port ({@link HttpPort}: {@code /metrics}, {@code /health},
         * {@code /status} and a status page at {@code /}) at this address (port 0: any free port);
         * default null, no HTTP port. It has no authentication and no TLS: bind it to loopback or
         * a trusted network.
         */
        public Builder http(InetSocketAddress v) { http = Objects.requireNonNull(v, "http"); return this; }

        /**
         * Publishes the node's metrics to {@code registry}: the server records through a
         * {@link MicrometerRaftMetrics} bound to it, with the tags {@code cluster} (the cluster id)
         * and {@code node} (this node's id); docs/user-guide.md ("Metrics") lists every meter.
         * Default none: without {@link #http} the server then measures nothing
         * ({@code RaftMetrics.NONE}); with it the node binds them to the registry the HTTP port
         * serves. With {@link #http}, {@code /metrics} serves this registry: directly if it is a
         * Prometheus registry, else through a Prometheus registry the node adds beside it. The node
         * removes its meters from the registry when it closes.
         */
        public Builder meterRegistry(MeterRegistry registry) {
            meterRegistry = Objects.requireNonNull(registry, "meterRegistry");
            return this;
        }

        /**
         * Hears the core's protocol decisions ({@link RaftServerBuilder#tracer}) as they are made
         * (the node's own event stream and HTTP port hear them as {@link RaftListener#onProtocolEvent}
         * on the events thread, whatever tracer is set). Called on the raft loop, in
         * decision order, as each decision is made (before anything it implies is durable): it must
         * return quickly and must not block or call back into the node. An exception it throws is
         * a fault of the raft loop and stops the server (fail-stop), like a bug in the core.
         */
        public Builder tracer(Tracer v) { tracer = Objects.requireNonNull(v, "tracer"); return this; }

        /** Hears role changes, commits, snapshots and failures ({@link RaftServerBuilder#listener}). */
        public Builder listener(RaftListener v) {
            Objects.requireNonNull(v, "listener");
            return configure(b -> b.listener(v));
        }

        /**
         * Adjusts the server before it starts (snapshot thresholds, limits, timeouts); called on
         * the starting thread after the node's own settings, in the order given.
         */
        public Builder configure(Consumer<RaftServerBuilder> v) {
            Objects.requireNonNull(v, "configure");
            configure = configure.andThen(v);
            return this;
        }

        /**
         * Adjusts the peer transport before it starts: reconnect back-off, send queues, message
         * and snapshot chunk sizes, threads ({@link GrpcTransportConfig.Builder}). Called on the
         * starting thread after the node's own settings ({@link #peerListen}, {@link #tls}, the
         * {@link #peer}s), in the order given; a setting made here wins over the node's.
         */
        public Builder configureTransport(Consumer<GrpcTransportConfig.Builder> v) {
            Objects.requireNonNull(v, "configureTransport");
            configureTransport = configureTransport.andThen(v);
            return this;
        }

        /**
         * Opens the data directory, starts the server and both ports. On failure everything taken
         * is released again (directory locks, ports, the state machine), so a retry can succeed.
         *
         * @throws IOException if the data directory cannot be opened or a port cannot be bound
         * @throws IllegalArgumentException if the settings disagree (e.g. a command limit the peers
         *                                  cannot carry)
         * @throws dev.raftkit.spi.StorageException if the data directory is in use by another node,
         *                               or holds state the node refuses to start on (corruption,
         *                               another cluster's log), saying which file and what to do
         * @throws IllegalStateException if a required setting is missing, or this builder started
         *                               a node already
         */
        public RaftNode start() throws IOException {
            if (dataDir == null || stateMachine == null) {
                throw new IllegalStateException("node " + id + ": " + (dataDir == null ? "dataDir" : "stateMachine")
                        + " is required; set it on the builder");
            }
            if (backupSchedule != null && !backups.enabled()) {
                throw new IllegalArgumentException("node " + id + ": a backup schedule needs a backup root to write"
                        + " into; set backups(BackupPolicy.open(root, key, dataDir)) (raftkit server --backup-root DIR)");
            }
            if (started) {
                throw new IllegalStateException("node " + id + " was started from this builder already; a state"
                        + " machine serves one node: make a new builder");
            }
            started = true;
            return RaftNode.start(this);
        }
    }

    private final Builder spec;
    private final GrpcTransport transport;
    private final RaftServer server;
    private final ClientService clientService;
    private final ClientEndpoint endpoint;
    private final AdminService admin;
    private final FileSnapshotStore snapshots;
    private final HttpPort httpPort;
    /** The binding of the Raft meters ({@link Builder#meterRegistry} or the HTTP port's), or null. */
    private final MicrometerRaftMetrics metrics;
    private final Map<Path, BackupService> backupServices = new ConcurrentHashMap<>();
    /** The staging area of live restores ({@code DATA_DIR/staged}); set once by {@link #start}. */
    private StagingArea staging;

    private RaftNode(Builder spec, GrpcTransport transport, RaftServer server, ClientService clientService,
                     ClientEndpoint endpoint, AdminService admin, FileSnapshotStore snapshots, HttpPort httpPort,
                     MicrometerRaftMetrics metrics) {
        this.spec = spec;
        this.transport = transport;
        this.server = server;
        this.clientService = clientService;
        this.endpoint = endpoint;
        this.admin = admin;
        this.snapshots = snapshots;
        this.httpPort = httpPort;
        this.metrics = metrics;
    }

    /**
     * Sends {@code java.util.logging} records (gRPC logs through it) to SLF4J, once per process:
     * removes the JUL root logger's handlers, which would print the records again on the console
     * in JUL's own format, and installs {@code SLF4JBridgeHandler}. Safe to call from any thread,
     * any number of times; {@code raftkit} calls it at start, every node started with
     * {@link Builder#routeJulToSlf4j} on (the default) calls it in {@link Builder#start}.
     */
    public static synchronized void routeJulToSlf4j() {
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
        }
    }

    /** A node {@code id} of cluster {@code clusterId}; messages of other clusters are refused. */
    public static Builder builder(String clusterId, long id) {
        return new Builder(clusterId, id);
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
    private static String existingCluster(Builder spec) {
        long founding = Bootstrap.entries(spec.bootstrap).size();
        for (long peer : spec.bootstrap) {
            String address = spec.clientAddresses.get(peer);
            if (peer == spec.id || address == null || !listening(address)) {
                continue;
            }
            try (RaftClient client = RaftClient.builder(spec.clusterId).node(peer, address).tls(spec.tls)
                    .timeout(FOUNDING_PROBE).attemptTimeout(FOUNDING_PROBE).build()) {
                NodeStatus status = client.status(peer);
                if (status.lastIndex() > founding) {
                    return "node " + peer + " at " + address + " is at term " + status.term() + " with log index "
                            + status.lastIndex();
                }
            } catch (RuntimeException unreachable) {
                LOG.info("node {}: founder {} at {} did not answer before founding: {}", spec.id, peer, address,
                        unreachable.getMessage());
            }
        }
        return null;
    }

    private static RaftNode start(Builder spec) throws IOException {
        long startedNanos = System.nanoTime();
        if (spec.routeJulToSlf4j) {
            routeJulToSlf4j();
        }
        StateMachine machine = spec.stateMachine;
        RaftConfig config = RaftConfig.builder(spec.id).electionTicks(10).heartbeatTicks(2)
                .randomSeed(spec.id ^ System.nanoTime()).snapshotSource(spec.snapshotSource).build();
        AdminService admin = new AdminService(spec.clusterId, spec.id, spec.backups);
        GrpcTransport transport = null;
        RaftServer server = null;
        FileSnapshotStore snapshots = null;
        LogStorage log = null;
        ClientEndpoint endpoint = null;
        StagingArea staging = null;
        HttpPort.Metrics served = null;
        HttpPort httpPort = null;
        MicrometerRaftMetrics metrics = null;
        try {
            GrpcTransportConfig.Builder tb = GrpcTransportConfig.builder(spec.clusterId, spec.id)
                    .listen(spec.peerListen)
                    .tls(spec.tls);
            spec.peers.forEach(tb::peer);
            // Inside the try: settings the embedder made there may be refused, and the state
            // machine is the node's to close from the moment start() is called.
            spec.configureTransport.accept(tb);
            GrpcTransportConfig peerConfig = tb.build();
            transport = new GrpcTransport(peerConfig);
            // The log first: its segments stay locked by a running server even if someone deleted
            // the LOCK files, so a second server stops there before the snapshot store's start-up
            // could remove the running one's partial snapshot.
            log = spec.logOpener.open(spec.dataDir.resolve("log"));
            snapshots = FileSnapshotStore.open(spec.snapshotFileIo, spec.dataDir.resolve("snapshots"));
            // The staging area reads the members and their client addresses once the node runs.
            AtomicReference<RaftServer> running = new AtomicReference<>();
            AtomicReference<ClientService> serving = new AtomicReference<>();
            staging = new StagingArea(spec.id, spec.clusterId, spec.dataDir, spec.tls, m -> {
                ClientService s = serving.get();
                return s != null ? s.clientAddress(m) : spec.clientAddresses.get(m);
            }, () -> {
                RaftServer s = running.get();
                if (s == null) {
                    return List.of();
                }
                ConfState c = s.status().conf();
                java.util.TreeSet<Long> all = new java.util.TreeSet<>(c.voters());
                all.addAll(c.learners());
                return List.copyOf(all);
            });
            RaftServerBuilder b = RaftServer.builder(config)
                    .stagedStates(staging)
                    .logStorage(log)
                    .snapshotStore(snapshots)
                    .stateMachine(machine)
                    .transport(transport)
                    .tickMillis(spec.tickMillis)
                    .clusterId(spec.clusterId)
                    .shutdownTimeout(Duration.ofSeconds(10));
            if (spec.diskStallTicks > 0) {
                b.diskStallTicks(spec.diskStallTicks);
            }
            if (spec.diskSlowMillis > 0) {
                b.diskSlowMillis(spec.diskSlowMillis);
            }
            if (spec.diskStuckTicks > 0) {
                b.diskStuckTicks(spec.diskStuckTicks);
            }
            if (spec.minFreeDiskBytes >= 0) {
                b.minFreeDiskBytes(spec.minFreeDiskBytes);
            }
            if (!spec.bootstrap.isEmpty()) {
                String existing = RaftServer.hasNoDurableState(log, snapshots) ? existingCluster(spec) : null;
                if (existing == null) {
                    b.bootstrap(spec.bootstrap);
                } else {
                    // Founding again would let this node vote with an empty log and a forgotten
                    // vote, and elect a leader without entries it acknowledged before (§3.8).
                    LOG.warn("node {}: its data directory {} is empty but the cluster already exists ({}): it does"
                            + " not found it again; it rejoins as a recovering member and votes once it has caught up"
                            + " from a leader. Start it without --bootstrap from now on", spec.id, spec.dataDir,
                            existing);
                }
            }
            if (spec.tracer != null) {
                b.tracer(spec.tracer);
            }
            // The admin service's Events streams and the HTTP port's /status; with no subscriber
            // the hub only keeps the recent events.
            b.listener(admin.events());
            // The HTTP port's registry first: the Raft meters go where /metrics can see them.
            served = spec.http != null ? HttpPort.Metrics.of(spec.meterRegistry) : null;
            MeterRegistry registry = served != null ? served.registry : spec.meterRegistry;
            if (registry != null) {
                // Before configure: an embedder's own RaftServerBuilder.metrics there wins.
                metrics = MicrometerRaftMetrics.builder(spec.clusterId, spec.id).build();
                metrics.bindTo(registry);
                b.metrics(metrics);
            }
            spec.configure.accept(b);
            server = b.start();
            running.set(server);
            // The client port's limit derives from the server's command limit, and the peers must
            // carry the largest such command, or it would be appended and never replicated.
            SizeLimits.checkPeerLimit(server.maxCommandBytes(), peerConfig.maxMessageBytes());
            ClientService service = new ClientService(spec.clusterId, server, new TreeMap<>(spec.clientAddresses));
            serving.set(service);
            if (spec.insecureAdmin) {
                LOG.atWarn().addKeyValue("node", spec.id).addKeyValue("cluster", spec.clusterId)
                        .log("node {}: INSECURE ADMIN: any caller without a certificate may change membership, transfer"
                                + " leadership, take backups and re-point peers on the client port{}; use it only on a network"
                                + " where everyone is trusted, or use mutual TLS with admin certificates ('raftkit certs')",
                                spec.id, spec.tls == null ? "" : " (callers with a certificate still need the admin role)");
            }
            endpoint = ClientEndpoint.start(spec.clientListen, List.<BindableService>of(service, admin),
                    spec.tls, SizeLimits.clientMessageBytes(server.maxCommandBytes()),
                    new ClientEndpoint.Access(spec.clusterId, spec.id, spec.insecureAdmin));
            service.setClientAddress(spec.id, spec.clientAddresses.getOrDefault(spec.id, endpoint.hostPort()));
            if (spec.http != null) {
                httpPort = HttpPort.start(spec.http, spec.id, spec.clusterId, server, service, admin.events(),
                        startedNanos, served);
            }
            RaftNode node = new RaftNode(spec, transport, server, service, endpoint, admin, snapshots, httpPort,
                    metrics);
            node.staging = staging;
            admin.attach(node);
            if (spec.backups.enabled()) {
                node.removePartialBackups();
            }
            if (spec.backupSchedule != null) {
                BackupScheduler scheduler = new BackupScheduler(spec.backupSchedule, spec.backupKeepChains,
                        DirectoryTarget.open(spec.backups.root(), spec.dataDir), spec.backups.key(), spec.backupClock,
                        Duration.ofMinutes(1), kind -> node.backupService(spec.backups.root()).take(kind));
                admin.schedule(scheduler, spec.backupCheckEvery);
            }
            return node;
        } catch (IOException | RuntimeException e) {
            if (metrics != null) {
                metrics.close(); // the Raft meters, before the registry they are in
            }
            if (httpPort != null) {
                httpPort.close(); // closes the meters it made too
            } else if (served != null) {
                served.close();
            }
            if (endpoint != null) {
                endpoint.close();
            }
            admin.close();
            if (staging != null) {
                staging.close();
            }
            if (transport != null) {
                transport.close();
            }
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

    private static void checkPeerId(long peerId) {
        if (peerId <= 0) {
            throw new IllegalArgumentException("a peer id is between 1 and 2^63-1, got " + peerId);
        }
    }

    private static void checkVoterId(long voter) {
        if (voter <= 0) {
            throw new IllegalArgumentException("bootstrap voters are node ids between 1 and 2^63-1, got " + voter);
        }
    }

    /** This node's id. */
    public long id() {
        return spec.id;
    }

    /** The cluster this node belongs to. */
    public String clusterId() {
        return spec.clusterId;
    }

    /** The directory holding this node's log and snapshots. */
    public Path dataDir() {
        return spec.dataDir;
    }

    /** The founding voters this node was started with (empty if it was not asked to found). */
    public Set<Long> bootstrap() {
        return spec.bootstrap;
    }

    /** The server: submit, read, membership, status, listeners. */
    public RaftServer server() {
        return server;
    }

    /**
     * The state machine; its own threads (the server's applier) own it, so use it only through
     * {@link #server()}'s reads unless the state machine says it is safe from other threads.
     */
    public StateMachine stateMachine() {
        return spec.stateMachine;
    }

    /**
     * The snapshot store the server writes to: a backup of this node copies its snapshots from here,
     * and must use this very instance (it locks its directory).
     */
    public FileSnapshotStore snapshotStore() {
        return snapshots;
    }

    /** Where this node listens for peers (the bound port when it was asked for port 0). */
    public InetSocketAddress peerAddress() {
        return transport.localAddress();
    }

    /** host:port this node's client port is bound to. */
    public String clientHostPort() {
        return endpoint.hostPort();
    }

    /**
     * The read-only HTTP port ({@link Builder#http}), or null when the node was started without
     * one. The node owns it and closes it when it closes.
     */
    public HttpPort httpPort() {
        return httpPort;
    }

    /**
     * The registry this node's meters are bound to: the one given to {@link Builder#meterRegistry},
     * the one the HTTP port serves ({@link Builder#http}: a Prometheus registry, or a composite of
     * it and the given one), or null when neither was set.
     */
    public MeterRegistry meterRegistry() {
        return httpPort != null ? httpPort.meterRegistry() : spec.meterRegistry;
    }

    /**
     * The peer transport: its address book ({@link GrpcTransport#peers}), its bound address. The
     * node owns it; closing it cuts the node off from its peers until the node is restarted.
     */
    public GrpcTransport transport() {
        return transport;
    }

    /**
     * The client port, serving the client and admin services. The node owns it; closing it stops
     * serving clients while the node goes on replicating.
     */
    public ClientEndpoint clientEndpoint() {
        return endpoint;
    }

    /**
     * Takes a full backup of this node now into the backup chain at {@code root} (created if
     * missing): a snapshot of the state machine at its applied index, written while the node goes
     * on serving. Any node may take it — a follower spares the leader the work. Blocking, on the
     * caller's thread; when it returns the backup is fsync'd and published under {@code root}, and
     * encrypted with the key of {@link Builder#backups}, if any. A backup in the node's own data
     * directory would be lost with it, so that is refused with {@link IllegalArgumentException}.
     *
     * @throws IOException if the backup could not be written; nothing partial is left published
     */
    public BackupService.Result backup(Path root) throws IOException {
        return backupService(root).full();
    }

    /**
     * Takes an incremental backup into the chain at {@code root}: the log entries committed since
     * the chain's newest backup (it falls back to a full backup, and says so in the result, when
     * those entries are gone from this node's log). As {@link #backup}, otherwise.
     */
    public BackupService.Result incrementalBackup(Path root) throws IOException {
        return backupService(root).incremental();
    }

    /**
     * Takes a differential backup into the chain at {@code root}: every entry committed since the
     * chain's full backup (copied from the chain's backups where they hold it, the rest from this
     * node's log), so a restore needs the full backup, this one and the increments after it. Falls
     * back to a full backup as {@link #incrementalBackup} does. As {@link #backup}, otherwise.
     */
    public BackupService.Result differentialBackup(Path root) throws IOException {
        return backupService(root).differential();
    }

    /**
     * Seeds the empty (or missing) data directory {@code dataDir} from the newest backup of the
     * chain at {@code root}, after verifying the chain. Start a node on it under a NEW cluster id
     * (every node of the new cluster can be seeded from the same chain) or as a new member — never
     * under the id of a node still in the configuration (§3.8: its votes and acknowledgements are
     * not in the backup). See {@link BackupRestore} for encrypted chains and point-in-time restore.
     */
    public static BackupRestore.Result restore(Path root, Path dataDir) throws IOException {
        return BackupRestore.restoreLatest(root, dataDir);
    }

    /**
     * {@link #restore(Path, Path)}, and before it reports success the restored state is rebuilt in
     * a state machine from {@code stateMachines} (a new, empty one of the cluster's kind that
     * writes no files of its own) and compared with the state digest each manifest records; on a
     * mismatch nothing is left in {@code dataDir} and the exception names the backup and both
     * digests ({@code StateVerification}).
     */
    public static BackupRestore.Result restore(Path root, Path dataDir,
                                               java.util.function.Supplier<? extends StateMachine> stateMachines)
            throws IOException {
        return BackupRestore.restore(BackupChain.discover(root).backups().stream().map(BackupChain.Backup::dir)
                .toList(), dataDir, BackupRestore.LATEST, null, n -> { }, stateMachines);
    }

    /**
     * How far a backup this node is taking now has got (into any of its chains), or null if it
     * takes none. Any thread.
     */
    public BackupService.Progress backupProgress() {
        for (BackupService s : backupServices.values()) {
            BackupService.Progress p = s.progress();
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    /** The one backup service of the chain at {@code root}: chains advance under its lock. */
    BackupService backupService(Path root) throws IOException {
        Path chain = root.toAbsolutePath().normalize();
        if (chain.startsWith(spec.dataDir.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("node " + spec.id + ": backup root " + chain + " is inside the node's"
                    + " data directory " + spec.dataDir + ", so a lost disk would take the backups with it; name a"
                    + " directory elsewhere");
        }
        FileIo.real().createDirectories(chain); // durably named: a power cut must not take the root
        return backupServices.computeIfAbsent(chain, r -> BackupService.builder(server, snapshots, spec.clusterId, r)
                .key(spec.backups.key()).timeout(spec.backupStall).build());
    }

    /**
     * Removes what backups killed half-way left in the backup root and in each directory under it
     * (a {@code .partial-} directory each), logging what went: at start nothing writes there yet.
     */
    private void removePartialBackups() {
        Path root = spec.backups.root();
        try {
            BackupService.removePartials(FileIo.real(), root);
            try (var dirs = java.nio.file.Files.list(root)) {
                for (Path d : dirs.filter(java.nio.file.Files::isDirectory).toList()) {
                    BackupService.removePartials(FileIo.real(), d);
                }
            }
        } catch (IOException e) {
            org.slf4j.LoggerFactory.getLogger(RaftNode.class).warn("node {}: could not clean up interrupted backups"
                    + " under {}: {}", spec.id, root, e.toString());
        }
    }

    /** What the backup schedule ran, failed and has due, or null if the node has no schedule. */
    public BackupScheduler.Status backupScheduleStatus() {
        BackupScheduler s = admin.scheduler();
        return s == null ? null : s.status();
    }

    /**
     * Rolls the running cluster back to the state of the newest backup chain in {@code from} at
     * {@code index} (0: the chain's last index) — a live restore, or hot recovery: this node
     * rebuilds that state in a fresh state machine ({@link Builder#stateMachineFactory}), stages
     * its image on the members, and has the leader propose one log entry naming it; every replica
     * replaces its state with the image when it applies that entry, so clients see one atomic
     * switch while the cluster keeps serving. Client sessions carry on across it. Blocking, on the
     * caller's thread, for at most {@code timeout}; returns once the leader has applied the switch.
     *
     * @throws IOException if the chain does not verify or cover {@code index}, fewer than a majority
     *                     of voters could stage the image (nothing is switched), or the switch's
     *                     outcome is unknown (the message says so: check before retrying)
     * @throws IllegalStateException if the node was built without a state machine factory
     */
    public LiveRestoreResult liveRestore(Path from, long index, Duration timeout) throws IOException {
        if (spec.stateMachineFactory == null) {
            throw new IllegalStateException("node " + spec.id + " cannot restore live: it was started without a"
                    + " state machine factory to rebuild the backup's state in (RaftNode.Builder.stateMachineFactory;"
                    + " raftkit server sets one)");
        }
        LiveRestore.Result r = new LiveRestore(server, staging, spec.stateMachineFactory, spec.clusterId, spec.tls,
                clientService::clientAddress).run(from, index, spec.backups.key(), timeout);
        return new LiveRestoreResult(r.switchIndex(), r.state(), r.stagedOn(), r.chain(), r.leader());
    }

    /**
     * A live restore done: from log index {@code switchIndex} on, the cluster's state is
     * {@code state}'s (the backup's at {@code state.sourceIndex()}), rebuilt from the backup
     * directories {@code chain}; {@code stagedOn} held the image before {@code leader} proposed it.
     */
    public record LiveRestoreResult(long switchIndex, StagedState state, List<Long> stagedOn, List<Path> chain,
                                    long leader) {
    }

    /** This node's staging area of live restores. */
    StagingArea staging() {
        return staging;
    }

    /** Tells this node where node {@code id} listens (for peers and for client redirects). */
    public void addPeer(long id, InetSocketAddress peerAddress, String clientHostPort) {
        checkPeerId(id);
        transport.addPeer(id, peerAddress);
        clientService.setClientAddress(id, clientHostPort);
    }

    /** Cuts the node off at once (network first, no goodbyes), then stops it: like a crash. */
    public void kill() {
        transport.close();
        closeHttp();
        endpoint.close();
        admin.close();
        staging.close();
        server.close();
        if (metrics != null) {
            metrics.close();
        }
    }

    /**
     * Graceful shutdown: stop taking work, let what is in flight finish (a backup in progress is
     * interrupted and leaves only a {@code .partial-} directory), close the files and the state
     * machine. Idempotent.
     */
    @Override
    public void close() {
        closeHttp();
        endpoint.close();
        admin.close();
        staging.close();
        server.close();
        transport.close();
        if (metrics != null) {
            // After the server: nothing records any more, and no stale series stays in the registry.
            metrics.close();
        }
    }

    private void closeHttp() {
        if (httpPort != null) {
            httpPort.close();
        }
    }
}
