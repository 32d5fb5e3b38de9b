package dev.raftkit.testkit.cluster;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftCore;
import dev.raftkit.core.Ready;
import dev.raftkit.core.Role;
import dev.raftkit.core.Tracer;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.runtime.MemoryLogStorage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A network of {@link RaftCore}s driven by hand, under the Ready contract, for tests of the
 * protocol and as a building block for simulators.
 *
 * <p>Messages go into one queue and are delivered only when the test says so; links can be cut.
 * Persistence is synchronous by default ({@link #processReady}), or split into taking a Ready and
 * persisting it later ({@link #takeReady} then {@link #persist}) to explore asynchronous storage.
 * Each node's "state machine" is the list of entries it applied, so tests compare those.
 */
public final class TestCluster {

    private final TreeMap<Long, TestNode> nodes = new TreeMap<>();
    private final List<Message> network = new ArrayList<>();
    /** Messages held back from the network (delayed), delivered only once released. */
    private final List<Message> held = new ArrayList<>();
    /** Every message ever sent, in send order, for replaying an old one. */
    private final List<Message> history = new ArrayList<>();
    private final Set<List<Long>> cutLinks = new HashSet<>();
    private final Consumer<RaftConfig.Builder> configurer;
    private final List<String> log = new ArrayList<>();
    private Tracer tracer = Tracer.NONE;

    private TestCluster(Consumer<RaftConfig.Builder> configurer) {
        this.configurer = configurer;
    }

    /** A new cluster whose founding voters are {@code 1..n}, configured by {@code configurer}. */
    public static TestCluster of(int n, Consumer<RaftConfig.Builder> configurer) {
        TestCluster c = new TestCluster(configurer);
        Set<Long> voters = new TreeSet<>();
        for (long id = 1; id <= n; id++) {
            voters.add(id);
        }
        for (long id : voters) {
            c.nodes.put(id, new TestNode(c.config(id), MemoryLogStorage.bootstrap(voters)));
        }
        // Start-up, as a runtime does it: the first Ready hands out the founding configuration.
        for (long id : voters) {
            c.processReady(id);
        }
        c.drainLog();
        return c;
    }

    /** Defaults for tests: election 10 ticks, heartbeat 1, PreVote and CheckQuorum off. */
    public static TestCluster of(int n) {
        return of(n, b -> { });
    }

    /** {@link #of(int)} with node 1 elected leader and everything delivered. */
    public static TestCluster elected(int n) {
        TestCluster c = of(n);
        c.node(1).raft().campaign();
        c.stabilize();
        if (c.node(1).raft().role() != Role.LEADER) {
            throw new AssertionError("node 1 campaigned alone on a quiet network but is " + c.node(1).raft().role());
        }
        return c;
    }

    RaftConfig config(long id) {
        RaftConfig.Builder b = RaftConfig.builder(id).preVote(false).checkQuorum(false).randomSeed(id);
        configurer.accept(b);
        return b.build();
    }

    /** Adds a node with an empty log (to be added to the configuration by a change). */
    public TestNode addNode(long id) {
        TestNode n = new TestNode(config(id), new MemoryLogStorage());
        n.raft().setTracer(tracer);
        nodes.put(id, n);
        return n;
    }

    public TestNode node(long id) {
        TestNode n = nodes.get(id);
        if (n == null) {
            throw new IllegalArgumentException("no node " + id + " (nodes: " + nodes.keySet() + ")");
        }
        return n;
    }

    public Set<Long> ids() {
        return nodes.keySet();
    }

    public List<TestNode> nodes() {
        return new ArrayList<>(nodes.values());
    }

    /** Messages in flight, in send order. */
    public List<Message> inFlight() {
        return network;
    }

    /** What happened, one line per event (readies taken, messages dropped), for golden output. */
    public List<String> drainLog() {
        List<String> out = new ArrayList<>(log);
        log.clear();
        return out;
    }

    // ---------------------------------------------------------------------------------------
    // Readies.

    /** Takes a Ready from {@code id}, persists it at once, sends its messages, applies. */
    public Ready processReady(long id) {
        TestNode n = node(id);
        if (!n.raft().hasReady()) {
            return null;
        }
        Ready r = takeReady(id);
        persist(id, r.number());
        return r;
    }

    private BiConsumer<Long, Ready> readyObserver = (id, r) -> { };

    /** Hands every Ready any node produces from now on to {@code observer}, as it is taken. */
    public void observeReadys(BiConsumer<Long, Ready> observer) {
        this.readyObserver = observer;
    }

    /** Takes a Ready, sends its immediate messages, and queues it for a later {@link #persist}. */
    public Ready takeReady(long id) {
        TestNode n = node(id);
        Ready r = n.raft().ready();
        readyObserver.accept(id, r);
        n.unpersisted.add(r);
        for (Message m : r.messages()) {
            send(m);
        }
        for (Message m : r.snapshotsToSend()) {
            send(m); // the snapshot's data travels beside it, through the cluster's snapshot map
        }
        return r;
    }

    /**
     * Persists the queued Readys of {@code id} up to number {@code upTo} in order, then sends their
     * after-persist messages, acknowledges, and applies their committed entries.
     */
    public void persist(long id, long upTo) {
        TestNode n = node(id);
        List<Ready> done = new ArrayList<>();
        while (!n.unpersisted.isEmpty() && n.unpersisted.get(0).number() <= upTo) {
            Ready r = n.unpersisted.remove(0);
            n.write(r);
            done.add(r);
        }
        if (done.isEmpty()) {
            return;
        }
        for (Ready r : done) {
            for (Message m : r.messagesAfterPersist()) {
                send(m);
            }
        }
        n.raft().onPersisted(done.get(done.size() - 1).number());
        for (Ready r : done) {
            n.apply(r, this);
        }
    }

    /** Persists every queued Ready of {@code id}. */
    public void persistAll(long id) {
        TestNode n = node(id);
        if (!n.unpersisted.isEmpty()) {
            persist(id, n.unpersisted.get(n.unpersisted.size() - 1).number());
        }
    }

    // ---------------------------------------------------------------------------------------
    // The network.

    private void send(Message m) {
        network.add(m);
        history.add(m);
    }

    /** Sends a second copy of every message in flight that matches {@code which}; returns them. */
    public List<Message> duplicate(Predicate<Message> which) {
        List<Message> copies = network.stream().filter(which).toList();
        network.addAll(copies);
        return copies;
    }

    /**
     * Sends again the {@code back}-th most recent message ever sent that matches {@code which}
     * (1 = the latest), even if it was delivered long ago: an old message the network kept.
     */
    public Message replay(Predicate<Message> which, int back) {
        int seen = 0;
        for (int i = history.size() - 1; i >= 0; i--) {
            if (which.test(history.get(i)) && ++seen == back) {
                network.add(history.get(i));
                return history.get(i);
            }
        }
        throw new IllegalArgumentException("no message sent so far matches (looked for the " + back
                + "th latest of " + history.size() + ")");
    }

    /**
     * Takes the messages in flight that match {@code which} out of the network and holds them:
     * they survive {@link #stabilize}, crashes and wipes until {@link #release}d (a slow link).
     */
    public List<Message> hold(Predicate<Message> which) {
        List<Message> taken = drop(which);
        held.addAll(taken);
        return taken;
    }

    /** Puts the held messages that match {@code which} back in flight, in the order sent. */
    public List<Message> release(Predicate<Message> which) {
        List<Message> released = new ArrayList<>();
        held.removeIf(m -> {
            if (which.test(m)) {
                released.add(m);
                return true;
            }
            return false;
        });
        network.addAll(released);
        return released;
    }

    /** Delivers the messages in flight that match {@code which}, in order; returns them. */
    public List<Message> deliver(Predicate<Message> which) {
        List<Message> taken = new ArrayList<>();
        network.removeIf(m -> {
            if (which.test(m)) {
                taken.add(m);
                return true;
            }
            return false;
        });
        List<Message> delivered = new ArrayList<>();
        for (Message m : taken) {
            TestNode to = nodes.get(m.to());
            if (to == null || to.crashed || cutLinks.contains(List.of(m.from(), m.to()))) {
                log.add("dropped " + m.from() + "->" + m.to() + " " + m.getClass().getSimpleName());
                reportLostSnapshot(m);
                continue;
            }
            if (m instanceof InstallSnapshot s) {
                // The runtime streams the bytes beside the message; here the sender's stored data,
                // kept per snapshot until the receiver installs it (a second snapshot arriving
                // before the first is persisted must not replace its data).
                to.incomingSnapshots.put(s.snapshot().last(), node(m.from()).snapshotData(s.snapshot()));
            }
            to.raft().step(m);
            if (m instanceof InstallSnapshot && !nodes.get(m.from()).crashed) {
                node(m.from()).raft().reportSnapshot(m.to(), true);
            }
            delivered.add(m);
        }
        return delivered;
    }

    /** Drops the messages in flight that match {@code which}; returns them. */
    public List<Message> drop(Predicate<Message> which) {
        List<Message> dropped = new ArrayList<>();
        network.removeIf(m -> {
            if (which.test(m)) {
                dropped.add(m);
                return true;
            }
            return false;
        });
        dropped.forEach(this::reportLostSnapshot);
        return dropped;
    }

    /**
     * A snapshot that never arrived: its (live) sender's transport reports the failure, as the
     * runtime's snapshot stream does, so the leader retries instead of waiting in SNAPSHOT state.
     */
    private void reportLostSnapshot(Message m) {
        TestNode from = nodes.get(m.from());
        if (m instanceof InstallSnapshot && from != null && !from.crashed) {
            from.raft().reportSnapshot(m.to(), false);
        }
    }

    /** Processes Readys and delivers messages until nothing is left (bounded, to catch livelock). */
    public void stabilize() {
        for (int round = 0; round < 10_000; round++) {
            boolean any = false;
            for (TestNode n : nodes.values()) {
                if (!n.crashed) {
                    while (n.raft().hasReady()) {
                        processReady(n.id());
                        any = true;
                    }
                }
            }
            if (!network.isEmpty()) {
                deliver(m -> true);
                any = true;
            }
            if (!any) {
                return;
            }
        }
        throw new AssertionError("cluster did not stabilize within 10000 rounds");
    }

    public void cut(long a, long b) {
        cutLinks.add(List.of(a, b));
        cutLinks.add(List.of(b, a));
    }

    public void cutOneWay(long from, long to) {
        cutLinks.add(List.of(from, to));
    }

    /** Cuts every link of {@code id}. */
    public void isolate(long id) {
        for (long other : nodes.keySet()) {
            if (other != id) {
                cut(id, other);
            }
        }
    }

    public void heal() {
        cutLinks.clear();
    }

    // ---------------------------------------------------------------------------------------
    // Time, crashes, compaction.

    public void tick(long id, int times) {
        for (int i = 0; i < times; i++) {
            node(id).raft().tick();
        }
    }

    /** Ticks a node until its randomized election timeout surely passed (2 × electionTicks). */
    public void tickElection(long id) {
        tick(id, 2 * node(id).config().electionTicks());
    }

    public void tickHeartbeat(long id) {
        tick(id, node(id).config().heartbeatTicks());
    }

    /** Loses everything not persisted: unpersisted Readys and messages to and from the node. */
    public void crash(long id) {
        TestNode n = node(id);
        n.crashed = true;
        n.unpersisted.clear();
        n.incomingSnapshots.clear();
        List<Message> lost = new ArrayList<>();
        network.removeIf(m -> {
            if (m.to() == id || m.from() == id) {
                lost.add(m);
                return true;
            }
            return false;
        });
        lost.forEach(this::reportLostSnapshot); // snapshots to the crashed node; its own are nobody's now
    }

    /**
     * Loses every durable state of {@code id} (its data directory is emptied) and restarts it empty
     * under the same id, not founding a cluster: it starts recovering (see {@code HardState}).
     * Messages it had in flight are lost with it; held ones are not.
     */
    public void wipe(long id) {
        crash(id);
        TestNode n = node(id);
        n.wipe(config(id));
        n.raft().setTracer(tracer);
    }

    private final java.util.Map<Long, TestNode.DiskCopy> diskCopies = new java.util.HashMap<>();

    /** Keeps a copy of {@code id}'s durable state (an operator copying its data directory). */
    public void copyDisk(long id) {
        diskCopies.put(id, node(id).copyDisk());
    }

    /**
     * Crashes {@code id}, puts back the copy {@link #copyDisk} kept of its durable state, and
     * restarts it under the same id: a node restarted on an older copy of its data directory.
     */
    public void restoreCopy(long id) {
        TestNode.DiskCopy copy = diskCopies.get(id);
        if (copy == null) {
            throw new IllegalStateException("no copy of node " + id + "'s disk: copy-disk it first");
        }
        crash(id);
        node(id).restoreDisk(copy);
        restart(id);
    }

    /** Ticks every node that is up, {@code times} times each, in id order. */
    public void tickAll(int times) {
        for (int i = 0; i < times; i++) {
            for (TestNode n : nodes.values()) {
                if (!n.crashed) {
                    n.raft().tick();
                }
            }
        }
    }

    /** Restarts a crashed node from its durable state. */
    public void restart(long id) {
        TestNode n = node(id);
        n.restart(config(id));
        n.raft().setTracer(tracer);
    }

    /** Sends every node's protocol decisions (now and after restarts) to {@code tracer}. */
    public void setTracer(Tracer tracer) {
        this.tracer = tracer == null ? Tracer.NONE : tracer;
        nodes.values().forEach(n -> n.raft().setTracer(this.tracer));
    }

    /** Snapshots {@code id}'s state machine at its applied index and compacts its log there. */
    public void compact(long id) {
        node(id).compact();
    }

    /** The applied entries of a node as strings "index@term:payload", for comparing logs. */
    public static String describe(List<Entry> entries) {
        StringBuilder sb = new StringBuilder();
        for (Entry e : entries) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(e.index()).append('@').append(e.term());
            if (e.data().length > 0) {
                sb.append(':').append(e.type() == dev.raftkit.core.log.EntryType.CONF_CHANGE ? "conf"
                        : new String(e.data(), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return sb.toString();
    }
}
