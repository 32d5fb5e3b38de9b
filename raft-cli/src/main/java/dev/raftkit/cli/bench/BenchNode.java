package dev.raftkit.cli.bench;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.Role;
import dev.raftkit.grpc.ClientEndpoint;
import dev.raftkit.grpc.ClientService;
import dev.raftkit.grpc.GrpcTransport;
import dev.raftkit.grpc.GrpcTransportConfig;
import dev.raftkit.kv.KvStateMachine;
import dev.raftkit.runtime.RaftListener;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One key-value node of the benchmark cluster, wired like {@code LocalNode} (fsync'd
 * {@link SegmentedLogStorage}, {@link FileSnapshotStore}, {@link GrpcTransport}, a gRPC client
 * endpoint) but with its log wrapped in a {@link CountingLogStorage} and a listener counting the
 * elections it wins, so the benchmark can report fsyncs, entries per fsync and elections.
 */
public final class BenchNode implements AutoCloseable {

    /** Election timeout is 10–20 ticks of this length. */
    static final long TICK_MILLIS = 50;

    private final long id;
    private final GrpcTransport transport;
    private final RaftServer server;
    private final ClientService clientService;
    private final ClientEndpoint endpoint;
    private final CountingLogStorage log;
    private final AtomicLong elected = new AtomicLong();
    private volatile boolean leader;

    private BenchNode(long id, GrpcTransport transport, RaftServer server, ClientService clientService,
                      ClientEndpoint endpoint, CountingLogStorage log) {
        this.id = id;
        this.transport = transport;
        this.server = server;
        this.clientService = clientService;
        this.endpoint = endpoint;
        this.log = log;
    }

    /**
     * Starts a node of a brand-new cluster of {@code voters} with its data under {@code dataDir};
     * {@code peers} may be completed later with {@link #addPeer}.
     */
    public static BenchNode start(long id, Set<Long> voters, Path dataDir, InetSocketAddress peerListen,
                                  InetSocketAddress clientListen, Map<Long, InetSocketAddress> peers) throws IOException {
        GrpcTransportConfig.Builder tb = GrpcTransportConfig.builder("bench", id).listen(peerListen);
        peers.forEach(tb::peer);
        GrpcTransport transport = new GrpcTransport(tb.build());
        RaftConfig config = RaftConfig.builder(id).electionTicks(10).heartbeatTicks(2)
                .randomSeed(id ^ System.nanoTime()).build();
        CountingLogStorage log = new CountingLogStorage(SegmentedLogStorage.open(dataDir.resolve("log")));
        BenchNode[] self = new BenchNode[1];
        RaftServer server = null;
        try {
            server = RaftServer.builder(config)
                    .logStorage(log)
                    .snapshotStore(FileSnapshotStore.open(dataDir.resolve("snapshots")))
                    .stateMachine(new KvStateMachine())
                    .transport(transport)
                    .tickMillis(TICK_MILLIS)
                    .bootstrap(voters)
                    .listener(new RaftListener() {
                        @Override
                        public void onRoleChange(Role role, long term, long leaderId) {
                            BenchNode n = self[0];
                            boolean now = role == Role.LEADER;
                            if (n != null) {
                                if (now && !n.leader) {
                                    n.elected.incrementAndGet();
                                }
                                n.leader = now;
                            }
                        }
                    })
                    .shutdownTimeout(Duration.ofSeconds(10))
                    .start();
            ClientService service = new ClientService("bench", server, new TreeMap<>());
            ClientEndpoint endpoint = ClientEndpoint.start(clientListen, service, null, 64 << 20);
            service.setClientAddress(id, endpoint.hostPort());
            BenchNode node = new BenchNode(id, transport, server, service, endpoint, log);
            self[0] = node;
            // A leadership won before the listener could see the node counts too.
            if (server.status().role() == Role.LEADER && !node.leader) {
                node.leader = true;
                node.elected.incrementAndGet();
            }
            return node;
        } catch (IOException | RuntimeException e) {
            transport.close();
            if (server != null) {
                server.close();
            }
            throw e;
        }
    }

    public long id() {
        return id;
    }

    public RaftServer server() {
        return server;
    }

    public InetSocketAddress peerAddress() {
        return transport.localAddress();
    }

    /** host:port of the client endpoint. */
    public String clientHostPort() {
        return endpoint.hostPort();
    }

    /** Tells this node where node {@code peer} listens. */
    public void addPeer(long peer, InetSocketAddress peerAddress, String clientHostPort) {
        transport.addPeer(peer, peerAddress);
        clientService.setClientAddress(peer, clientHostPort);
    }

    /** Whether this node currently leads (as last reported to its listener). */
    public boolean isLeader() {
        return leader;
    }

    /** Log syncs so far. */
    public long syncs() {
        return log.syncs();
    }

    /** Entries appended to this node's log so far. */
    public long entries() {
        return log.entries();
    }

    /** Elections this node has won. */
    public long elected() {
        return elected.get();
    }

    @Override
    public void close() {
        endpoint.close();
        server.close();
        transport.close();
    }
}
