package dev.raftkit.grpc;

import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.grpc.proto.RaftPeerGrpc;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.Transport;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Transport} over gRPC-Java (Netty, optionally TLS or mutual TLS).
 *
 * <p><b>Sending.</b> Per peer, one connection and two long-lived client streams ({@link SendLane}):
 * appends with entries on one, every other message on the other, so heartbeats and votes are never
 * stuck behind large appends. {@link #send} only queues (bounded per peer and lane; when full the
 * message is dropped and the peer reported unreachable) and never blocks or throws. A failed
 * stream is reopened with exponential back-off.
 *
 * <p><b>Receiving.</b> Every message carries the cluster id and the sender id. A stream whose
 * messages name another cluster, an unknown sender, or another recipient is refused with a clear
 * log line and nothing of it is delivered; so is a malformed message ({@link MessageCodec} checks
 * everything, including that terms and indexes are within bounds) and one larger than
 * {@link GrpcTransportConfig#maxMessageBytes()}. {@code InstallSnapshot} is accepted only through the
 * snapshot RPC, never on the message stream; bytes that do not parse are refused with
 * {@code INVALID_ARGUMENT} ({@link MalformedRequestGuard}). Refusals are logged once per reason,
 * remote host and interval. The listener bounds its connections ({@link ConnectionLimits}).
 *
 * <p><b>Snapshots</b> are streamed in CRC32C-checksummed chunks under gRPC flow control (memory
 * stays bounded by a few chunks whatever the snapshot's size); the receiver verifies every chunk
 * and the whole image against the sender's descriptor, commits the writer, and only then delivers
 * the {@link InstallSnapshot}. Any failure aborts the writer; a new attempt starts from scratch.
 *
 * <p><b>Threads.</b> Its own: {@code ioThreads} for gRPC callbacks and the send queues, a
 * snapshot pool of two (blocking snapshot I/O stays off the message path), one timer, and a small
 * Netty event-loop group. {@link Transport.Inbound} is called on the io threads.
 *
 * <p><b>Peers.</b> The configured peers plus those added with {@link #addPeer}. Addresses may
 * change at run time ({@link #addPeer} again), as in a membership change.
 */
public final class GrpcTransport implements Transport {

    private static final Logger LOG = LoggerFactory.getLogger(GrpcTransport.class);

    private final GrpcTransportConfig config;
    private final ConnectionLimits limits;
    private final Map<Long, InetSocketAddress> peers = new ConcurrentHashMap<>();
    private final Map<Long, PeerLink> links = new ConcurrentHashMap<>();
    private final Set<Long> warnedNoAddress = ConcurrentHashMap.newKeySet();
    private final ExecutorService io;
    private final ExecutorService snapshots;
    private final ScheduledExecutorService timer;
    private final EventLoopGroup eventLoop;
    private final SnapshotSender snapshotSender;
    private final LogThrottle throttle = new LogThrottle();
    private final TlsCredentials credentials;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Inbound inbound;
    private volatile Server server;

    /** A transport with {@link ConnectionLimits#peerDefaults()} on its listener. */
    public GrpcTransport(GrpcTransportConfig config) {
        this(config, ConnectionLimits.peerDefaults());
    }

    /** A transport whose listener bounds the connections it accepts by {@code limits}. */
    public GrpcTransport(GrpcTransportConfig config, ConnectionLimits limits) {
        this.config = Objects.requireNonNull(config, "config");
        this.limits = Objects.requireNonNull(limits, "limits");
        // First: if the TLS files cannot be loaded, fail before any thread exists.
        this.credentials = TlsCredentials.of(config.tls());
        this.peers.putAll(config.peers());
        String name = "raftkit-grpc-" + config.nodeId();
        this.io = Executors.newFixedThreadPool(config.ioThreads(), Endpoints.Threads.daemonFactory(name + "-io"));
        this.snapshots = Executors.newFixedThreadPool(2, Endpoints.Threads.daemonFactory(name + "-snapshot"));
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, Endpoints.Threads.daemonFactory(name + "-timer"));
        t.setRemoveOnCancelPolicy(true);
        this.timer = t;
        this.eventLoop = Endpoints.eventLoop(config.eventLoopThreads(), name + "-netty");
        this.snapshotSender = new SnapshotSender(this);
    }

    @Override
    public void start(Inbound inbound) throws IOException {
        Objects.requireNonNull(inbound, "inbound");
        if (closed.get()) {
            throw new IllegalStateException("node " + config.nodeId() + ": transport already closed; create a new one");
        }
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("node " + config.nodeId() + ": transport already started");
        }
        this.inbound = inbound;
        PeerService service = new PeerService(this);
        Server s = Endpoints.server(config.listen(), eventLoop, io, config.maxMessageBytes(), credentials, limits,
                        "node " + config.nodeId() + "'s peer port")
                // Malformed bytes are refused with INVALID_ARGUMENT and a throttled line, not UNKNOWN
                // and a stack trace per message (see MalformedRequestGuard). Identity is checked
                // before the service sees a call: a caller whose certificate may not use the peer
                // port is refused first.
                .addService(MalformedRequestGuard.guard(
                        ServerInterceptors.intercept(service.definition(), new RemoteAddressInterceptor(),
                                new IdentityInterceptor(config.clusterId(), config.nodeId(),
                                        IdentityInterceptor.Port.PEER, false)),
                        "node " + config.nodeId() + "'s peer port", throttle))
                // Snapshot receipt blocks on disk writes: give those calls the snapshot pool. Message
                // streams only decode and offer to the node's bounded inbox (never blocking), so they
                // run on the event loop that read them: no hand-off to the io pool per message.
                .callExecutor(new io.grpc.ServerCallExecutorSupplier() {
                    @Override
                    public <Q, R> java.util.concurrent.Executor getExecutor(io.grpc.ServerCall<Q, R> call,
                                                                           io.grpc.Metadata headers) {
                        String method = call.getMethodDescriptor().getFullMethodName();
                        if (method.equals(RaftPeerGrpc.getInstallSnapshotMethod().getFullMethodName())
                                || method.equals(RaftPeerGrpc.getSnapshotResumePointMethod().getFullMethodName())) {
                            return snapshots;
                        }
                        return method.equals(RaftPeerGrpc.getStreamMethod().getFullMethodName())
                                ? com.google.common.util.concurrent.MoreExecutors.directExecutor() : null;
                    }
                })
                .build();
        try {
            s.start();
        } catch (IOException e) {
            throw new IOException("node " + config.nodeId() + " cannot listen for peers on " + config.listen()
                    + ": " + e.getMessage() + "; is another process using the port?", e);
        }
        server = s;
        LOG.info("node {} of cluster '{}' listening for peers on {}{}", config.nodeId(), config.clusterId(),
                localAddress(), config.tls() == null ? " (plaintext)" : config.tls().requireClientAuth() ? " (mutual TLS)" : " (TLS)");
    }

    /** The address the server listens on (with the real port when configured with port 0). */
    public InetSocketAddress localAddress() {
        Server s = server;
        if (s == null) {
            throw new IllegalStateException("node " + config.nodeId() + ": transport not started");
        }
        return (InetSocketAddress) s.getListenSockets().get(0);
    }

    /** Adds or moves a peer: messages to it go to {@code address}; messages from it are accepted. */
    public void addPeer(long id, InetSocketAddress address) {
        if (id <= 0 || id == config.nodeId()) {
            throw new IllegalArgumentException("node " + config.nodeId() + ": cannot add peer " + id);
        }
        InetSocketAddress previous = peers.put(id, Objects.requireNonNull(address, "address"));
        warnedNoAddress.remove(id);
        if (previous != null && !previous.equals(address)) {
            PeerLink old = links.remove(id);
            if (old != null) {
                old.close();
            }
        }
    }

    /** Forgets a peer: nothing more is sent to it and its messages are refused. */
    public void removePeer(long id) {
        peers.remove(id);
        PeerLink old = links.remove(id);
        if (old != null) {
            old.close();
        }
    }

    /** The ids of the known peers. */
    public Set<Long> peers() {
        return new TreeSet<>(peers.keySet());
    }

    boolean isKnownPeer(long id) {
        return peers.containsKey(id);
    }

    @Override
    public void send(List<Message> messages) {
        for (Message m : messages) {
            try {
                sendOne(m);
            } catch (RuntimeException e) {
                // The contract says send never throws: a bug here must not take the raft loop down.
                LOG.error("node {}: could not queue {} to node {}; dropped", config.nodeId(),
                        m.getClass().getSimpleName(), m.to(), e);
            }
        }
    }

    private void sendOne(Message m) {
        if (closed.get()) {
            return;
        }
        if (m instanceof InstallSnapshot) {
            // The receiver refuses it on the message stream (it would install a snapshot it does not
            // hold), ending the stream and losing what follows: never put it there.
            if (throttle.shouldLog("send-install-snapshot")) {
                LOG.error("node {}: InstallSnapshot to node {} passed to send(); dropped: a snapshot travels only "
                        + "with its bytes, through sendSnapshot (a bug in the caller)", config.nodeId(), m.to());
            }
            return;
        }
        PeerLink link = link(m.to());
        if (link != null) {
            link.offer(m);
        }
    }

    /** The link to {@code peer}, created on first use; null (peer reported unreachable) if unknown. */
    PeerLink link(long peer) {
        PeerLink link = links.get(peer);
        if (link != null) {
            return link;
        }
        InetSocketAddress address = peers.get(peer);
        if (address == null) {
            if (warnedNoAddress.add(peer)) {
                LOG.warn("node {}: no address for node {}; dropping messages to it (add it with addPeer)",
                        config.nodeId(), peer);
            }
            reportUnreachable(peer);
            return null;
        }
        link = links.computeIfAbsent(peer, p -> new PeerLink(this, p, address));
        if (closed.get()) {
            // close() may have swept the links just before this one was added.
            link.close();
            return null;
        }
        return link;
    }

    @Override
    public CompletableFuture<Void> sendSnapshot(InstallSnapshot message, SnapshotReader data) {
        return snapshotSender.send(message, data);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Server s = server;
        if (s != null) {
            s.shutdownNow();
        }
        snapshotSender.cancelAll();
        for (PeerLink link : links.values()) {
            link.close();
        }
        try {
            // Bounded: release the port and connections before a restart reuses them.
            if (s != null) {
                s.awaitTermination(5, TimeUnit.SECONDS);
            }
            for (PeerLink link : links.values()) {
                link.awaitClosed(2000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        links.clear();
        timer.shutdownNow();
        snapshots.shutdownNow();
        io.shutdown();
        eventLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        credentials.close();
        LOG.info("node {}: transport closed", config.nodeId());
    }

    // ------------------------------------------------------------------------------- internals

    GrpcTransportConfig config() {
        return config;
    }

    long selfId() {
        return config.nodeId();
    }

    String clusterId() {
        return config.clusterId();
    }

    boolean isClosed() {
        return closed.get();
    }

    Inbound inbound() {
        return inbound;
    }

    ExecutorService ioExecutor() {
        return io;
    }

    ExecutorService snapshotExecutor() {
        return snapshots;
    }

    ScheduledExecutorService scheduler() {
        return timer;
    }

    EventLoopGroup eventLoop() {
        return eventLoop;
    }

    /** The credentials of the peer port and of the connections to peers (plaintext or TLS). */
    TlsCredentials credentials() {
        return credentials;
    }

    LogThrottle throttle() {
        return throttle;
    }

    void reportUnreachable(long peer) {
        Inbound in = inbound;
        if (in != null && !closed.get()) {
            try {
                in.unreachable(peer);
            } catch (RuntimeException e) {
                LOG.error("node {}: inbound.unreachable({}) threw", config.nodeId(), peer, e);
            }
        }
    }
}
