package dev.raftkit.jepsen.real;

import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.proto.StatusResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of key-value node processes on loopback, every peer link through a {@link Network}
 * proxy. Node {@code i} keeps its data in {@code workDir/n<i>} and its log in {@code logDir/n<i>.log}.
 *
 * <p>Processes are stopped by {@link #close()} and, should the harness JVM die first, by a shutdown
 * hook that SIGKILLs them, so no node outlives the run.
 */
public final class Cluster implements AutoCloseable {

    /** How a restart went: {@code wiped} if the node refused to start and was wiped to rejoin empty. */
    public record Restart(long node, boolean wiped, String reason) {
    }

    private final String clusterId;
    private final Path workDir;
    private final Map<Long, NodeProcess> nodes = new TreeMap<>();
    private final Map<Long, RaftClient> pinned = new TreeMap<>();
    private final Map<Long, String> clientAddresses = new TreeMap<>();
    private final Network network;
    private final Thread reaper;
    private int wipes;

    /** Allocates ports and proxies; starts nothing yet. */
    public Cluster(int n, String clusterId, Path workDir, Path logDir, NodeCommand command) throws IOException {
        if (n < 1 || n > 9) {
            throw new IllegalArgumentException("a test cluster has 1 to 9 nodes, got " + n);
        }
        this.clusterId = clusterId;
        this.workDir = workDir;
        Files.createDirectories(logDir);
        Map<Long, InetSocketAddress> peerListen = new TreeMap<>();
        for (long id = 1; id <= n; id++) {
            peerListen.put(id, new InetSocketAddress(InetAddress.getLoopbackAddress(), freePort()));
            clientAddresses.put(id, "127.0.0.1:" + freePort());
        }
        this.network = new Network(peerListen);
        Set<Long> voters = new TreeSet<>(peerListen.keySet());
        for (long id : voters) {
            Map<Long, String> peers = new TreeMap<>();
            for (long other : voters) {
                if (other != id) {
                    peers.put(other, network.dial(id, other));
                }
            }
            NodeSpec spec = new NodeSpec(id, clusterId, workDir.resolve("n" + id),
                    "127.0.0.1:" + peerListen.get(id).getPort(), clientAddresses.get(id), peers, clientAddresses, voters);
            nodes.put(id, new NodeProcess(spec, command, logDir.resolve("n" + id + ".log")));
            pinned.put(id, RaftClient.builder(clusterId).node(id, clientAddresses.get(id))
                    .timeout(Duration.ofMillis(1500)).attemptTimeout(Duration.ofMillis(1000)).build());
        }
        reaper = new Thread(() -> nodes.values().forEach(NodeProcess::killNow), "jepsen-cluster-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    public List<Long> ids() {
        return new ArrayList<>(nodes.keySet());
    }

    public Network network() {
        return network;
    }

    public String clusterId() {
        return clusterId;
    }

    /** Every node's client host:port. */
    public Map<Long, String> clientAddresses() {
        return Map.copyOf(clientAddresses);
    }

    /** A client that talks to node {@code id} only (status, STALE reads at that node). */
    public RaftClient pinnedClient(long id) {
        return pinned.get(id);
    }

    /** How many times a node refused to start and was wiped. */
    public synchronized int wipes() {
        return wipes;
    }

    /** Starts every node as a founding voter and waits for a leader; returns it. */
    public long start(Duration timeout) throws IOException, InterruptedException {
        for (NodeProcess p : nodes.values()) {
            Files.createDirectories(p.spec().dataDir());
            p.start(p.spec());
        }
        return awaitLeader(timeout);
    }

    /** Node {@code id}'s status, if it answers within about a second. */
    public Optional<StatusResponse> status(long id) {
        NodeProcess p = nodes.get(id);
        if (p == null || !p.isAlive() || p.isPaused()) {
            return Optional.empty();
        }
        try {
            return Optional.of(pinned.get(id).status(id));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The node a live leader reports itself as (0 if none answers as leader). */
    public long leader() {
        long best = 0;
        long bestTerm = -1;
        for (long id : nodes.keySet()) {
            Optional<StatusResponse> s = status(id);
            if (s.isPresent() && "LEADER".equalsIgnoreCase(s.get().getRole()) && s.get().getTerm() > bestTerm) {
                best = id;
                bestTerm = s.get().getTerm();
            }
        }
        return best;
    }

    /** Waits (bounded) until some node leads and every live node names it. */
    public long awaitLeader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no status yet";
        while (System.nanoTime() < deadline) {
            long leader = leader();
            if (leader != 0) {
                boolean agreed = true;
                for (long id : nodes.keySet()) {
                    Optional<StatusResponse> s = status(id);
                    if (nodes.get(id).isAlive() && !nodes.get(id).isPaused()
                            && (s.isEmpty() || s.get().getLeaderId() != leader)) {
                        agreed = false;
                        last = "node " + id + " " + s.map(x -> "follows " + x.getLeaderId()).orElse("does not answer");
                    }
                }
                if (agreed) {
                    return leader;
                }
            } else {
                last = "no node answers as leader";
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        throw new IllegalStateException("no agreed leader within " + timeout.toMillis() + " ms (" + last
                + "); see the node logs in the report directory");
    }

    public boolean isAlive(long id) {
        return nodes.get(id).isAlive();
    }

    public boolean isPaused(long id) {
        return nodes.get(id).isPaused();
    }

    public void kill(long id) throws InterruptedException {
        nodes.get(id).kill();
    }

    public void pause(long id) throws IOException, InterruptedException {
        nodes.get(id).pause();
    }

    public void resume(long id) throws IOException, InterruptedException {
        nodes.get(id).resume();
    }

    /** The node's data directory (for the disk nemesis, while it is down). */
    public Path dataDir(long id) {
        return nodes.get(id).spec().dataDir();
    }

    public Path log(long id) {
        return nodes.get(id).log();
    }

    /**
     * Restarts a dead node and waits (bounded) until it answers. If it exits instead — it refused
     * its data, e.g. a corrupt segment — it is wiped and started empty, to be caught up by the
     * leader, and the {@link Restart} says why.
     */
    public Restart restart(long id, Duration timeout) throws IOException, InterruptedException {
        NodeProcess p = nodes.get(id);
        if (p.isAlive()) {
            return new Restart(id, false, "was running");
        }
        p.start(p.spec().restart());
        String refusal = awaitUp(p, timeout);
        if (refusal == null) {
            return new Restart(id, false, "");
        }
        // The node refused to serve what is on its disk. Never serving corrupt data is the correct
        // behaviour; the operator's remedy is to wipe it and let it catch up from the leader.
        p.note("refused to start (" + refusal + "); wiping " + p.spec().dataDir() + " and rejoining empty");
        synchronized (this) {
            wipes++;
        }
        deleteTree(p.spec().dataDir());
        Files.createDirectories(p.spec().dataDir());
        p.start(p.spec().restart());
        String again = awaitUp(p, timeout);
        if (again != null) {
            throw new IllegalStateException("node " + id + " does not start even with an empty data directory: "
                    + again + "; see " + p.log());
        }
        return new Restart(id, true, refusal);
    }

    /** null once the node answers; the reason if the process exits first. */
    private String awaitUp(NodeProcess p, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                String tail = p.tail(15);
                String reason = tail.lines().filter(l -> l.contains("could not start") || l.contains("orrupt"))
                        .findFirst().orElse("exit code " + p.exitCode());
                return reason.strip();
            }
            if (status(p.id()).isPresent()) {
                return null;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        return p.isAlive() ? null : "exit code " + p.exitCode();
    }

    /** Heals everything: network passes, paused nodes continue, dead nodes restart. */
    public List<Restart> healAll(Duration timeout) throws IOException, InterruptedException {
        network.heal();
        List<Restart> restarts = new ArrayList<>();
        for (long id : nodes.keySet()) {
            nodes.get(id).resume();
            if (!nodes.get(id).isAlive()) {
                restarts.add(restart(id, timeout));
            }
        }
        return restarts;
    }

    @Override
    public void close() {
        for (NodeProcess p : nodes.values()) {
            try {
                p.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.killNow();
            }
        }
        pinned.values().forEach(RaftClient::close);
        network.close();
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook runs and finds the processes gone.
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
