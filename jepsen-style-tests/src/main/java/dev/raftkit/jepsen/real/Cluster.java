package dev.raftkit.jepsen.real;

import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.NodeStatus;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.testkit.net.FreePorts;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of key-value node processes on loopback, every peer link through a {@link Network}
 * proxy. Node {@code i} keeps its data in {@code workDir/n<i>} and its log in {@code logDir/n<i>.log}.
 * Nodes {@code 1..n} found the cluster; a node that refuses its data after a disk fault is replaced
 * by a new node with the next unused id ({@link #replace}), so the members change during a run.
 *
 * <p>Processes are stopped by {@link #close()} and, should the harness JVM die first, by a shutdown
 * hook that SIGKILLs them, so no node outlives the run.
 */
public final class Cluster implements AutoCloseable {

    /**
     * How a restart went: {@code replacement} is the new node that took the place of {@code node}
     * when it refused to start (0 if it started), and {@code reason} what it refused.
     */
    public record Restart(long node, long replacement, String reason) {
        /** Whether the node refused its data and was replaced. */
        public boolean replaced() {
            return replacement != 0;
        }
    }

    private final String clusterId;
    private final Path workDir;
    private final Path logDir;
    private final NodeCommand command;
    // Members change when a node is replaced, while workload threads read them: concurrent maps.
    private final Map<Long, NodeProcess> nodes = new ConcurrentSkipListMap<>();
    private final Map<Long, RaftClient> pinned = new ConcurrentSkipListMap<>();
    private final Map<Long, String> clientAddresses = new ConcurrentSkipListMap<>();
    /** Every process ever started, replaced ones included, so none outlives the run. */
    private final List<NodeProcess> processes = new CopyOnWriteArrayList<>();
    private final Network network;
    private final Thread reaper;
    private long nextId;
    private int replacements;

    /** Allocates ports and proxies; starts nothing yet. */
    public Cluster(int n, String clusterId, Path workDir, Path logDir, NodeCommand command) throws IOException {
        if (n < 1 || n > 9) {
            throw new IllegalArgumentException("a test cluster has 1 to 9 nodes, got " + n);
        }
        this.clusterId = clusterId;
        this.workDir = workDir;
        this.logDir = logDir;
        this.command = command;
        this.nextId = n + 1;
        Files.createDirectories(logDir);
        Map<Long, InetSocketAddress> peerListen = new TreeMap<>();
        for (long id = 1; id <= n; id++) {
            peerListen.put(id, new InetSocketAddress(InetAddress.getLoopbackAddress(), FreePorts.next()));
            clientAddresses.put(id, "127.0.0.1:" + FreePorts.next());
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
            add(spec);
        }
        reaper = new Thread(() -> processes.forEach(NodeProcess::killNow), "jepsen-cluster-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    private NodeProcess add(NodeSpec spec) {
        NodeProcess p = new NodeProcess(spec, command, logDir.resolve("n" + spec.id() + ".log"));
        processes.add(p);
        nodes.put(spec.id(), p);
        pinned.put(spec.id(), RaftClient.builder(clusterId).node(spec.id(), spec.clientListen())
                .timeout(Duration.ofMillis(1500)).attemptTimeout(Duration.ofMillis(1000)).build());
        return p;
    }

    /** The current members, in id order. */
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

    /**
     * How many nodes were replaced by new ones: after refusing their data, or by the membership
     * nemesis.
     */
    public synchronized int replacements() {
        return replacements;
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
    public Optional<NodeStatus> status(long id) {
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
            Optional<NodeStatus> s = status(id);
            if (s.isPresent() && s.get().isLeader() && s.get().term() > bestTerm) {
                best = id;
                bestTerm = s.get().term();
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
                    Optional<NodeStatus> s = status(id);
                    if (nodes.get(id).isAlive() && !nodes.get(id).isPaused()
                            && (s.isEmpty() || s.get().leaderId() != leader)) {
                        agreed = false;
                        last = "node " + id + " " + s.map(x -> "follows " + x.leaderId()).orElse("does not answer");
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

    /**
     * SIGKILLs every node of {@code ids} at once (all signalled before any is waited for), as a
     * power cut takes a rack: none of them gets to write or answer after the first one dies.
     */
    public void killAll(List<Long> ids) throws InterruptedException {
        for (long id : ids) {
            nodes.get(id).killNow();
        }
        for (long id : ids) {
            nodes.get(id).kill();
        }
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
     * its data, e.g. a corrupt segment — it is {@linkplain #replace replaced} by a new node, and the
     * {@link Restart} says by which and why.
     */
    public Restart restart(long id, Duration timeout) throws IOException, InterruptedException {
        return restartAll(List.of(id), timeout).get(0);
    }

    /**
     * Restarts the dead nodes among {@code ids} together, waits (bounded) until each answers, and
     * only then replaces those that refused their data: a replacement needs a quorum of the
     * others up to add and promote the new node.
     */
    public List<Restart> restartAll(List<Long> ids, Duration timeout) throws IOException, InterruptedException {
        List<NodeProcess> started = new ArrayList<>();
        for (long id : ids) {
            NodeProcess p = nodes.get(id);
            if (!p.isAlive()) {
                p.start(p.spec().restart());
                started.add(p);
            }
        }
        Map<Long, String> refusals = new TreeMap<>();
        for (NodeProcess p : started) {
            String refusal = awaitUp(p, timeout);
            if (refusal != null) {
                refusals.put(p.id(), refusal);
            }
        }
        List<Restart> out = new ArrayList<>();
        for (long id : ids) {
            String refusal = refusals.get(id);
            if (refusal == null) {
                out.add(new Restart(id, 0, ""));
                continue;
            }
            // The node refused to serve what is on its disk. Never serving corrupt data is the
            // correct behaviour; the operator's remedy is to replace the node.
            nodes.get(id).note("refused to start (" + refusal + "); replacing it by a new node");
            out.add(new Restart(id, replace(id, timeout), refusal));
        }
        return out;
    }

    /**
     * Replaces member {@code old} (dead: it lost or refused its data) by a brand-new node with the
     * next unused id and an empty data directory, the way an operator must: the running members
     * learn its addresses, it joins as a learner, is promoted once caught up (§4.2.1), and then
     * {@code old} is removed from the configuration.
     *
     * <p>Why not wipe {@code old} and restart it under its own id: its votes and log entries
     * counted in quorums. Empty, under the same id, it could vote twice in a term it already voted
     * in, or complete a quorum for an entry it no longer holds — both break Raft's safety. Thesis
     * §3.8: a server that loses its persistent state may rejoin only as a new server, through a
     * membership change.
     *
     * @return the new node's id
     */
    public synchronized long replace(long old, Duration timeout) throws IOException, InterruptedException {
        return replace(old, timeout, Files::createDirectories);
    }

    /** What a new node's data directory starts with: written by {@link #seed} before it starts. */
    @FunctionalInterface
    public interface DataSeed {
        /** Creates {@code dataDir} (which does not exist yet) with what the node is to start on. */
        void seed(Path dataDir) throws IOException, InterruptedException;
    }

    /**
     * {@link #replace(long, Duration)} with the new node's data directory written by {@code seed}
     * first: say, a backup chain restored into it ({@code BackupRestore}), so the new node starts
     * at the backup's index and the leader sends it only what came after. It is still a new
     * member under a new id, added as a learner and promoted (§3.8: a restored directory lacks the
     * votes and acknowledgements of the node it was backed up from).
     */
    public synchronized long replace(long old, Duration timeout, DataSeed seed) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Long> members = new ArrayList<>(nodes.keySet());
        members.remove(old);
        for (long m : members) {
            if (nodes.get(m).isPaused()) {
                // It could not learn where the new node listens, and resuming is no restart.
                throw new IllegalStateException("cannot replace node " + old + " while node " + m + " is paused");
            }
        }
        NodeProcess gone = nodes.get(old);
        gone.kill();
        long id = nextId++;
        InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), FreePorts.next());
        String client = "127.0.0.1:" + FreePorts.next();
        network.addNode(id, listen, members);
        clientAddresses.put(id, client);
        Map<Long, String> peers = new TreeMap<>();
        for (long m : members) {
            peers.put(m, network.dial(id, m));
            NodeProcess p = nodes.get(m);
            Map<Long, String> theirPeers = new TreeMap<>(p.spec().peers());
            theirPeers.put(id, network.dial(m, id));
            // A member down now learns the new node from its spec when it restarts.
            p.respec(new NodeSpec(m, clusterId, p.spec().dataDir(), p.spec().peerListen(), p.spec().clientListen(),
                    theirPeers, clientAddresses, p.spec().bootstrap()));
            if (p.isAlive()) {
                announce(m, id, theirPeers.get(id), client, deadline);
            }
        }
        NodeSpec spec = new NodeSpec(id, clusterId, workDir.resolve("n" + id), "127.0.0.1:" + listen.getPort(), client,
                peers, clientAddresses, Set.of());
        seed.seed(spec.dataDir());
        NodeProcess fresh = add(spec);
        fresh.note("replaces node " + old);
        fresh.start(spec);
        String refusal = awaitUp(fresh, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        if (refusal != null) {
            throw new IllegalStateException("node " + id + ", replacing node " + old + ", does not start on its new "
                    + "data directory: " + refusal + "; see " + fresh.log());
        }
        // Each step is checked against the configuration first: a change whose answer was lost
        // (a timeout, a new leader) may have committed, and must not be retried into an error.
        String logs = "; see " + fresh.log() + " and the other nodes' logs beside it";
        try (RaftClient admin = adminClient()) {
            change(() -> isLearner(id) || isVoter(id), () -> admin.addLearner(id), deadline,
                    "add node " + id + " as a learner" + logs);
            change(() -> isVoter(id), () -> admin.promote(id), deadline,
                    "promote node " + id + " (it must catch up first)" + logs);
            change(() -> !isVoter(old) && !isLearner(old), () -> admin.remove(old), deadline, "remove node " + old + logs);
        }
        nodes.remove(old);
        RaftClient oldClient = pinned.remove(old);
        if (oldClient != null) {
            oldClient.close();
        }
        clientAddresses.remove(old);
        network.removeNode(old);
        replacements++;
        return id;
    }

    /** Tells running member {@code to} where node {@code id} listens (its peer link and client port). */
    private void announce(long to, long id, String peerHostPort, String client, long deadlineNanos)
            throws InterruptedException {
        try (AdminClient admin = adminOf(to)) {
            retry(() -> {
                try {
                    admin.addPeer(clusterId, id, peerHostPort, client, Duration.ofSeconds(2)).get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
                return null;
            }, deadlineNanos, "tell node " + to + " where node " + id + " listens; see " + nodes.get(to).log());
        }
    }

    /** An admin client of node {@code id} alone (its client port; no redirects). The caller closes it. */
    public AdminClient adminOf(long id) {
        String[] hp = clientAddresses.get(id).split(":");
        return new AdminClient(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), null);
    }

    /** A client for membership changes, following redirects to the leader. */
    public RaftClient adminClient() {
        RaftClient.Builder b = RaftClient.builder(clusterId).timeout(Duration.ofSeconds(10));
        clientAddresses.forEach(b::node);
        return b.build();
    }

    /** The leader's view of the configuration (empty if no leader answers). */
    private Optional<NodeStatus> leaderStatus() {
        long leader = leader();
        return leader == 0 ? Optional.empty() : status(leader);
    }

    /** Whether the leader's configuration has {@code id} as a voter. */
    public boolean isVoter(long id) {
        return leaderStatus().map(s -> s.voters().contains(id)).orElse(false);
    }

    /** Whether the leader's configuration has {@code id} as a learner. */
    public boolean isLearner(long id) {
        return leaderStatus().map(s -> s.learners().contains(id)).orElse(false);
    }

    /**
     * Makes a membership change until {@code done} holds, checking before every attempt, so a
     * change that committed although its answer was lost counts as done.
     */
    void change(java.util.function.BooleanSupplier done, Runnable attempt, long deadlineNanos, String what)
            throws InterruptedException {
        retry(() -> {
            if (!done.getAsBoolean()) {
                attempt.run();
            }
            return null;
        }, deadlineNanos, what);
    }

    /**
     * Runs {@code call} until it succeeds or {@code deadlineNanos} passes (then throws, naming
     * {@code what}). Only refusals and RPC failures are retried; anything else is a bug and thrown.
     */
    static <T> T retry(java.util.concurrent.Callable<T> call, long deadlineNanos, String what)
            throws InterruptedException {
        RuntimeException last;
        do {
            try {
                return call.call();
            } catch (RaftException | StatusRuntimeException | IllegalStateException e) {
                last = e;
            } catch (InterruptedException e) {
                throw e;
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                last = new IllegalStateException(e);
            }
            TimeUnit.MILLISECONDS.sleep(300);
        } while (System.nanoTime() < deadlineNanos);
        throw new IllegalStateException("could not " + what + ": " + last.getMessage(), last);
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
        List<Long> dead = new ArrayList<>();
        for (long id : nodes.keySet()) {
            nodes.get(id).resume();
            if (!nodes.get(id).isAlive()) {
                dead.add(id);
            }
        }
        return restartAll(dead, timeout);
    }

    @Override
    public void close() {
        for (NodeProcess p : processes) {
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


}
