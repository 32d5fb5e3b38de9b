package dev.raftkit.jepsen.sim;

import dev.raftkit.core.ProposalRejectedException;
import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.MemoryLogStorage;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.jepsen.checker.Budget;
import dev.raftkit.jepsen.checker.CheckResult;
import dev.raftkit.jepsen.checker.LinearizabilityChecker;
import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.HistoryRecorder;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A seeded, single-threaded discrete-event simulation of a Raft cluster: pure {@link
 * dev.raftkit.core.RaftNode}s under the Ready contract, a network that delays, drops, duplicates,
 * reorders and partitions, disks whose fsyncs take time, crashes that lose unsynced data, pauses,
 * snapshots, membership changes and leadership transfers, with clients whose operations are
 * recorded and checked for linearizability at the end. The Raft safety properties are checked as
 * the run goes ({@link SafetyChecker}).
 *
 * <p>A run is a pure function of its {@link SimOptions}: virtual time, one {@link SplittableRandom},
 * and ordered collections only. {@link SimResult#traceHash()} proves it.
 */
public final class Simulator {

    private static final long TICK = SimOptions.TICK_MICROS;
    private static final long CLIENT_TIMEOUT = 50 * TICK;
    private static final long HEAL_TICKS = 400;
    private static final long LEADER_BOUND_TICKS = 200;

    /** A scheduled action; ties broken by insertion order so the run is deterministic. */
    private record Event(long time, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    /** A client operation in flight. */
    static final class ClientOp {
        final Client client;
        final long historyId;
        final Command command;
        final ReadMode readMode;
        boolean done;

        ClientOp(Client client, long historyId, Command command, ReadMode readMode) {
            this.client = client;
            this.historyId = historyId;
            this.command = command;
            this.readMode = readMode;
        }
    }

    /** A closed-loop client: one operation at a time. */
    final class Client {
        final int id;
        long target;
        int issued;
        ClientOp current;

        Client(int id, long target) {
            this.id = id;
            this.target = target;
        }
    }

    private final SimOptions options;
    private final SplittableRandom random;
    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private final TreeMap<Long, SimNode> nodes = new TreeMap<>();
    private final SafetyChecker checker = new SafetyChecker();
    private final Trace trace;
    private final HistoryRecorder recorder;
    private final List<Client> clients = new ArrayList<>();
    private final List<String> lastValues;
    private long now;
    private long seq;
    private long events;

    // Network and fault state.
    private final Set<Long> blockedLinks = new HashSet<>();
    private double lossRate;
    private double duplicateRate;
    private long extraDelay;
    private boolean faultPhase = true;
    private long faultsInjected;
    private long healedAt = -1;
    private long firstLeaderAfterHeal = -1;

    private Simulator(SimOptions options) {
        this.options = options;
        this.random = new SplittableRandom(options.seed());
        this.trace = new Trace(options.keepTrace());
        this.recorder = new HistoryRecorder(() -> now * 1000);
        this.lastValues = new ArrayList<>();
        for (int k = 0; k < options.keys(); k++) {
            lastValues.add(null);
        }
    }

    /** Runs one simulation. */
    public static SimResult run(SimOptions options) {
        return new Simulator(options).run();
    }

    private SimResult run() {
        long started = System.nanoTime();
        Set<Long> founders = new TreeSet<>();
        for (long i = 1; i <= options.nodes(); i++) {
            founders.add(i);
        }
        for (long i : founders) {
            nodes.put(i, new SimNode(i, this, MemoryLogStorage.bootstrap(founders)));
        }
        if (options.faults().contains(Fault.MEMBERSHIP)) {
            // Two spare servers that the nemesis may add as learners and promote.
            for (long i = options.nodes() + 1; i <= options.nodes() + 2; i++) {
                nodes.put(i, new SimNode(i, this, new MemoryLogStorage()));
            }
        }
        for (SimNode n : nodes.values()) {
            long phase = random.nextLong(TICK);
            scheduleTicks(n, phase);
        }
        for (int c = 0; c < options.clients(); c++) {
            Client client = new Client(c, 1 + random.nextInt(options.nodes()));
            clients.add(client);
            schedule(random.nextLong(20 * TICK), () -> issue(client));
        }
        if (!options.faults().isEmpty()) {
            schedule((30 + random.nextInt(50)) * TICK, this::nemesis);
        }
        long faultEnd = options.ticks() * TICK;
        schedule(faultEnd, this::heal);
        long end = faultEnd + HEAL_TICKS * TICK;
        while (!queue.isEmpty() && checker.ok()) {
            Event e = queue.peek();
            if (e.time() > end) {
                break;
            }
            queue.poll();
            now = e.time();
            events++;
            e.action().run();
        }
        now = end;
        if (checker.ok()) {
            checkAfterHeal();
        }
        History history = recorder.history();
        CheckResult<Operation> lin = null;
        if (checker.ok()) {
            lin = LinearizabilityChecker.check(history, Budget.of(Duration.ofSeconds(20), 2_000_000));
            if (!lin.isValid()) {
                checker.onLinearizabilityFailure(lin.toString());
            }
        }
        return new SimResult(options, List.copyOf(checker.violations()), events, faultsInjected, history, lin,
                trace.hash(), trace.count(), trace.lines(), System.nanoTime() - started);
    }

    // ---------------------------------------------------------------------------------------
    // Plumbing used by the nodes.

    SimOptions options() {
        return options;
    }

    SafetyChecker checker() {
        return checker;
    }

    long now() {
        return now;
    }

    void countEvent() {
        events++;
    }

    void trace(long node, String kind, String detail) {
        trace.add(now, node, kind, detail);
    }

    /** Traces {@code kind} with detail {@code from..to}, without formatting unless the trace is kept. */
    void traceRange(long node, String kind, long from, long to) {
        trace.addRange(now, node, kind, from, to);
    }

    void schedule(long delay, Runnable action) {
        queue.add(new Event(now + delay, seq++, action));
    }

    private void scheduleTicks(SimNode n, long delay) {
        schedule(delay, () -> {
            n.tick();
            scheduleTicks(n, TICK);
        });
    }

    /** Virtual fsync latency of {@code n}: 0.3–1.5 ms, ten times slower on a slow node. */
    long diskLatency(SimNode n) {
        long base = 300 + random.nextLong(1_200);
        return n.slow ? base * 10 : base;
    }

    private long networkDelay() {
        long base = 100 + random.nextLong(1_900);
        return extraDelay > 0 ? base + random.nextLong(extraDelay) : base;
    }

    private static long link(long from, long to) {
        return from * 1_000 + to;
    }

    /** Sends a message from {@code from} through the faulty network. */
    void send(SimNode from, Message original) {
        Message m = options.hooks().rewrite(from.id, original);
        Map<String, String> image = null;
        if (m instanceof InstallSnapshot s) {
            image = from.imageFor(s.snapshot());
            if (image == null) {
                reportSnapshotLater(from.id, m.to());
                return;
            }
        }
        if (blockedLinks.contains(link(m.from(), m.to())) || random.nextDouble() < lossRate) {
            if (m instanceof InstallSnapshot) {
                reportSnapshotLater(from.id, m.to());
            }
            return;
        }
        int copies = random.nextDouble() < duplicateRate ? 2 : 1;
        for (int i = 0; i < copies; i++) {
            Map<String, String> data = image;
            schedule(networkDelay(), () -> deliver(m, data));
        }
    }

    private void deliver(Message m, Map<String, String> image) {
        SimNode to = nodes.get(m.to());
        if (to == null || to.crashed || blockedLinks.contains(link(m.from(), m.to()))) {
            if (m instanceof InstallSnapshot) {
                reportSnapshotLater(m.from(), m.to());
            }
            return;
        }
        to.receive(m, image);
        if (m instanceof InstallSnapshot) {
            // The runtime reports the end of a snapshot stream to the sender.
            SimNode from = nodes.get(m.from());
            schedule(networkDelay(), () -> from.input(() -> from.raft.reportSnapshot(m.to(), true)));
        }
    }

    private void reportSnapshotLater(long from, long to) {
        SimNode n = nodes.get(from);
        schedule(networkDelay(), () -> n.input(() -> n.raft.reportSnapshot(to, false)));
    }

    // ---------------------------------------------------------------------------------------
    // Clients.

    private void issue(Client c) {
        if (!faultPhase) {
            return;
        }
        int key = random.nextInt(options.keys());
        String k = "k" + key;
        int kind = random.nextInt(10);
        Command command;
        ReadMode mode = ReadMode.LINEARIZABLE;
        if (kind < 4) {
            command = Command.write(k, "c" + c.id + "-" + (++c.issued));
        } else if (kind < 8) {
            command = Command.read(k);
            List<ReadMode> modes = new ArrayList<>(options.readModes());
            mode = modes.get(random.nextInt(modes.size()));
        } else {
            command = Command.cas(k, lastValues.get(key), "c" + c.id + "-" + (++c.issued));
        }
        long historyId = recorder.invoke(c.id, command);
        ClientOp op = new ClientOp(c, historyId, command, mode);
        c.current = op;
        // Writes go to the leader the client believes in; reads spread over the replicas, as
        // clients scaling reads do (followers answer through ReadIndex).
        long targetId = command instanceof Command.Read ? 1 + random.nextInt(options.nodes()) : c.target;
        trace(0, "invoke", "client " + c.id + " " + command + " at node " + targetId);
        SimNode target = nodes.get(targetId);
        schedule(networkDelay(), () -> target.clientRequest(op));
        schedule(CLIENT_TIMEOUT, () -> {
            if (!op.done) {
                op.done = true;
                // A write that timed out may still take effect: indeterminate. A read has no effect.
                if (command instanceof Command.Read) {
                    recorder.fail(historyId);
                } else {
                    recorder.info(historyId);
                }
                trace(0, "timeout", "client " + c.id);
                c.target = 1 + random.nextInt(nodes.size());
                schedule(random.nextLong(2 * TICK), () -> issue(c));
            }
        });
    }

    /**
     * A node answers a client: {@code response} null means the operation definitely did not happen
     * (with {@code leaderHint} to retry at).
     */
    void reply(ClientOp op, long node, Response response, long leaderHint) {
        schedule(networkDelay(), () -> {
            if (op.done) {
                return;
            }
            op.done = true;
            Client c = op.client;
            if (response == null) {
                recorder.fail(op.historyId);
                c.target = leaderHint != 0 && nodes.containsKey(leaderHint) ? leaderHint : 1 + random.nextInt(nodes.size());
            } else {
                recorder.ok(op.historyId, response);
                if (response instanceof Response.ReadValue rv) {
                    lastValues.set(Integer.parseInt(op.command.key().substring(1)), rv.value());
                }
            }
            trace(node, "complete", "client " + c.id + " " + (response == null ? "fail" : response.toString()));
            schedule(random.nextLong(2 * TICK), () -> issue(c));
        });
    }

    // ---------------------------------------------------------------------------------------
    // The nemesis.

    private void nemesis() {
        if (!faultPhase) {
            return;
        }
        List<Fault> enabled = new ArrayList<>(options.faults());
        Fault f = enabled.get(random.nextInt(enabled.size()));
        long duration = (10 + random.nextInt(90)) * TICK;
        faultsInjected++;
        List<Long> ids = new ArrayList<>(nodes.keySet());
        SimNode victim = nodes.get(ids.get(random.nextInt(ids.size())));
        switch (f) {
            case PARTITION -> partition(duration);
            case LOSS -> {
                lossRate = 0.05 + random.nextDouble() * 0.25;
                trace(0, "fault", "loss " + Math.round(lossRate * 100) + "%");
                schedule(duration, () -> lossRate = 0);
            }
            case DUPLICATE -> {
                duplicateRate = 0.05 + random.nextDouble() * 0.2;
                trace(0, "fault", "duplicate " + Math.round(duplicateRate * 100) + "%");
                schedule(duration, () -> duplicateRate = 0);
            }
            case REORDER -> {
                extraDelay = 5 * TICK;
                trace(0, "fault", "reorder: delays up to 50 ms");
                schedule(duration, () -> extraDelay = 0);
            }
            case CRASH -> {
                if (!victim.crashed) {
                    victim.crash();
                    trace(victim.id, "fault", "crash");
                    schedule(duration, victim::restart);
                }
            }
            case PAUSE -> {
                if (!victim.paused && !victim.crashed) {
                    victim.pause();
                    trace(victim.id, "fault", "pause");
                    schedule(duration, victim::resume);
                }
            }
            case SLOW -> {
                victim.slow = true;
                trace(victim.id, "fault", "slow disk");
                schedule(duration, () -> victim.slow = false);
            }
            case SNAPSHOT -> victim.compact();
            case MEMBERSHIP -> changeMembership();
            case TRANSFER -> {
                SimNode leader = leader();
                if (leader != null) {
                    List<Long> voters = new ArrayList<>(leader.raft.conf().voters());
                    long to = voters.get(random.nextInt(voters.size()));
                    leader.input(() -> {
                        try {
                            leader.raft.transferLeadership(to);
                            trace(leader.id, "fault", "transfer leadership to " + to);
                        } catch (ProposalRejectedException e) {
                            trace(leader.id, "fault", "transfer refused: " + e.getMessage());
                        }
                    });
                }
            }
        }
        schedule((20 + random.nextInt(60)) * TICK, this::nemesis);
    }

    private void partition(long duration) {
        List<Long> ids = new ArrayList<>(nodes.keySet());
        // Shuffle deterministically.
        for (int i = ids.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            Long t = ids.get(i);
            ids.set(i, ids.get(j));
            ids.set(j, t);
        }
        Set<Long> cut = new HashSet<>();
        String kind;
        switch (random.nextInt(5)) {
            case 0 -> {
                kind = "isolate " + ids.get(0);
                for (long other : ids.subList(1, ids.size())) {
                    cut.add(link(ids.get(0), other));
                    cut.add(link(other, ids.get(0)));
                }
            }
            case 1 -> {
                int half = ids.size() / 2;
                kind = "split " + ids.subList(0, half) + " | " + ids.subList(half, ids.size());
                for (long a : ids.subList(0, half)) {
                    for (long b : ids.subList(half, ids.size())) {
                        cut.add(link(a, b));
                        cut.add(link(b, a));
                    }
                }
            }
            case 2 -> {
                // Two halves that both still reach one bridge node.
                long bridge = ids.get(0);
                List<Long> rest = ids.subList(1, ids.size());
                int half = rest.size() / 2;
                kind = "bridge " + bridge + " between " + rest.subList(0, half) + " and " + rest.subList(half, rest.size());
                for (long a : rest.subList(0, half)) {
                    for (long b : rest.subList(half, rest.size())) {
                        cut.add(link(a, b));
                        cut.add(link(b, a));
                    }
                }
            }
            case 3 -> {
                kind = "ring " + ids;
                for (int i = 0; i < ids.size(); i++) {
                    for (int j = 0; j < ids.size(); j++) {
                        int d = Math.abs(i - j);
                        if (i != j && d != 1 && d != ids.size() - 1) {
                            cut.add(link(ids.get(i), ids.get(j)));
                        }
                    }
                }
            }
            default -> {
                kind = "one-way " + ids.get(0) + " -/-> " + ids.get(1);
                cut.add(link(ids.get(0), ids.get(1)));
            }
        }
        blockedLinks.addAll(cut);
        trace(0, "fault", "partition " + kind);
        schedule(duration, () -> {
            blockedLinks.removeAll(cut);
            trace(0, "heal", "partition " + kind);
        });
    }

    private void changeMembership() {
        SimNode leader = leader();
        if (leader == null) {
            return;
        }
        ConfState conf = leader.raft.conf();
        List<Long> all = new ArrayList<>(nodes.keySet());
        long candidate = all.get(random.nextInt(all.size()));
        ConfChange change;
        if (conf.learners().contains(candidate)) {
            change = ConfChange.addVoter(candidate);
        } else if (conf.voters().contains(candidate)) {
            if (conf.voters().size() <= 2) {
                return;
            }
            change = random.nextBoolean() ? ConfChange.remove(candidate) : ConfChange.addLearner(candidate);
        } else {
            change = ConfChange.addLearner(candidate);
        }
        leader.input(() -> {
            try {
                leader.raft.proposeConfChange(change);
                trace(leader.id, "fault", "membership " + change.steps());
            } catch (ProposalRejectedException e) {
                trace(leader.id, "fault", "membership refused: " + e.getMessage());
            }
        });
    }

    private SimNode leader() {
        SimNode best = null;
        for (SimNode n : nodes.values()) {
            if (n.isLeader() && (best == null || n.raft.term() > best.raft.term())) {
                best = n;
            }
        }
        return best;
    }

    // ---------------------------------------------------------------------------------------
    // Healing and the end-of-run checks.

    private void heal() {
        faultPhase = false;
        healedAt = now;
        blockedLinks.clear();
        lossRate = 0;
        duplicateRate = 0;
        extraDelay = 0;
        for (SimNode n : nodes.values()) {
            n.slow = false;
            n.resume();
            n.restart();
        }
        trace(0, "heal", "all faults healed");
        watchForLeader();
    }

    private void watchForLeader() {
        if (leader() != null) {
            firstLeaderAfterHeal = now;
            return;
        }
        schedule(TICK, this::watchForLeader);
    }

    private void checkAfterHeal() {
        if (firstLeaderAfterHeal < 0 || firstLeaderAfterHeal - healedAt > LEADER_BOUND_TICKS * TICK) {
            checker.onConvergenceFailure(now, "no leader within " + LEADER_BOUND_TICKS + " ticks after healing");
            return;
        }
        SimNode leader = leader();
        if (leader == null) {
            checker.onConvergenceFailure(now, "no leader at the end of the healing phase");
            return;
        }
        long commit = leader.raft.committed();
        for (long member : leader.raft.conf().members()) {
            SimNode n = nodes.get(member);
            if (n.appliedIndex() != commit || n.digest() != leader.digest()) {
                checker.onConvergenceFailure(now, "node " + member + " applied " + n.appliedIndex() + " (digest "
                        + n.digest() + ") but leader " + leader.id + " committed " + commit + " (digest "
                        + leader.digest() + "); leader's view of it: " + leader.raft.status().progress().get(member)
                        + "; it is " + n.raft + (n.crashed ? " (crashed)" : "") + (n.paused ? " (paused)" : ""));
            }
        }
    }
}
