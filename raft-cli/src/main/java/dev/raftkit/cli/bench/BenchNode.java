package dev.raftkit.cli.bench;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.core.Role;
import dev.raftkit.node.RaftNode;
import dev.raftkit.runtime.RaftListener;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.storage.SegmentedLogStorage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One node (key-value or SQL) of the benchmark cluster: a {@link RaftNode} whose log is wrapped in a
 * {@link CountingLogStorage}, with a listener counting the elections it wins, so the benchmark can
 * report fsyncs, entries per fsync and elections.
 */
public final class BenchNode implements AutoCloseable {

    /** Election timeout is 10–20 ticks of this length. */
    static final long TICK_MILLIS = 50;

    private final RaftNode node;
    private final CountingLogStorage log;
    private final AtomicBoolean leader;
    private final AtomicLong elected;

    private BenchNode(RaftNode node, CountingLogStorage log, AtomicBoolean leader, AtomicLong elected) {
        this.node = node;
        this.log = log;
        this.leader = leader;
        this.elected = elected;
    }

    /**
     * Starts a node of a brand-new cluster of {@code voters} with its data under {@code dataDir};
     * {@code peers} may be completed later with {@link #addPeer}. With {@code metrics} the node
     * records every metric into a {@link SimpleMeterRegistry} of its own, as an embedder's
     * registry would (that no one reads it does not make recording cheaper).
     */
    public static BenchNode start(long id, Set<Long> voters, Path dataDir, InetSocketAddress peerListen,
                                  InetSocketAddress clientListen, Map<Long, InetSocketAddress> peers,
                                  StateMachineKind kind, boolean metrics) throws IOException {
        AtomicBoolean leader = new AtomicBoolean();
        AtomicLong elected = new AtomicLong();
        CountingLogStorage[] log = new CountingLogStorage[1];
        RaftNode.Builder b = RaftNode.builder("bench", id).dataDir(dataDir).peerListen(peerListen)
                .clientListen(clientListen).bootstrap(voters).tickMillis(TICK_MILLIS).stateMachine(kind.create(dataDir))
                .listener(new RaftListener() {
                    @Override
                    public void onRoleChange(Role role, long term, long leaderId) {
                        boolean now = role == Role.LEADER;
                        if (now && !leader.getAndSet(true)) {
                            elected.incrementAndGet();
                        } else if (!now) {
                            leader.set(false);
                        }
                    }
                })
                .logStorage(dir -> log[0] = new CountingLogStorage(SegmentedLogStorage.open(dir)));
        peers.forEach(b::peer);
        if (metrics) {
            b.meterRegistry(new SimpleMeterRegistry());
        }
        RaftNode node = b.start();
        return new BenchNode(node, log[0], leader, elected);
    }

    public long id() {
        return node.id();
    }

    public RaftServer server() {
        return node.server();
    }

    public InetSocketAddress peerAddress() {
        return node.peerAddress();
    }

    /** host:port of the client endpoint. */
    public String clientHostPort() {
        return node.clientHostPort();
    }

    /** Tells this node where node {@code peer} listens. */
    public void addPeer(long peer, InetSocketAddress peerAddress, String clientHostPort) {
        node.addPeer(peer, peerAddress, clientHostPort);
    }

    /** Whether this node currently leads (as last reported to its listener). */
    public boolean isLeader() {
        return leader.get();
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
        node.close();
    }
}
