package dev.raftkit.jepsen.sim;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.ReadMode;
import dev.raftkit.core.Role;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.jepsen.history.TypedHistory;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.ServerStatus;
import dev.raftkit.runtime.TestingHooks;
import dev.raftkit.storage.SimFileIo;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * A seeded, single-threaded discrete-event simulation of the product: every node runs the REAL
 * {@link RaftServer} (raft loop, log writer, apply, snapshot work, client sessions) over the real
 * {@code SegmentedLogStorage} and {@code FileSnapshotStore} on a simulated disk that loses
 * unsynced writes when its machine crashes, with the workload's real state machine, over a
 * simulated network that delays, drops, duplicates, reorders and partitions. Every stage of every
 * server runs on a lane of one {@link SimScheduler}; clocks and ticks are virtual. A nemesis
 * crashes, pauses and slows nodes, snapshots, changes membership and transfers leadership;
 * clients write through client sessions and read in the run's read modes. The Raft safety
 * properties are checked as the run goes ({@link SafetyChecker}); after healing, a leader must
 * appear within a bound and every member must converge to the same state; the workload judges
 * the history at the end (linearizability for key-value registers, a conserved total for SQL).
 *
 * <p>A run is a pure function of its {@link SimOptions}: virtual time, one {@link SplittableRandom},
 * and ordered collections only. {@link SimResult#traceHash()} proves it.
 */
public final class Simulator {

    private static final long TICK = SimOptions.TICK_MICROS;
    private static final long CLIENT_TIMEOUT = 50 * TICK;
    private static final long HEAL_TICKS = 400;
    private static final long EVENTS_PER_NODE_TICK = 1_000;
    private static final long LEADER_BOUND_TICKS = 200;
    /** Attempts of one write (the same session and sequence number each time) before it is indeterminate. */
    private static final int WRITE_ATTEMPTS = 3;
    /**
     * The fastest or slowest a clock may tick, in percent: two clocks then differ by at most
     * 105/95, inside the 10/9 a lease of electionTicks − leaseDriftTicks (10 − 1) ticks allows.
     */
    private static final int MAX_CLOCK_DRIFT_PERCENT = 5;
    /** One write attempt in this many is also sent a second time, unawaited (a hedged request). */
    private static final int HEDGE_ONE_IN = 8;

    /** A closed-loop client: one operation at a time, with its own session. */
    private static final class Client {
        final int id;
        long target;
        long session;
        long sequence;
        boolean opening;

        Client(int id, long target) {
            this.id = id;
            this.target = target;
        }
    }

    /** The cluster id every simulated backup names. */
    static final String CLUSTER_ID = "sim";

    private final SimOptions options;
    private final SplittableRandom random;
    /** The random nemesis's own stream: drawing its steps never shifts the world's. */
    private final SplittableRandom nemesisRandom;
    private final List<FaultSchedule.Step> taken = new ArrayList<>();
    private final SimScheduler scheduler = new SimScheduler();
    private final TreeMap<Long, SimHost> hosts = new TreeMap<>();
    private final SafetyChecker checker = new SafetyChecker();
    private final Trace trace;
    private final SimNetwork network;
    private final Workload.Run run;
    private final TestingHooks testingHooks;
    private final List<Client> clients = new ArrayList<>();
    private final SimBackups backups = new SimBackups(this);
    private final SimStaging staging = new SimStaging(this);
    /** The node the scheduled backups are taken from (under {@link Fault#BACKUP}). */
    private long backupNode;
    /** The crash points a random CRASH may aim at: mid-backup only when backups are taken. */
    private final List<String> crashPoints;
    private boolean faultPhase = true;
    private long healedAt = -1;
    private long firstLeaderAfterHeal = -1;

    private Simulator(SimOptions options) {
        this.options = options;
        this.random = new SplittableRandom(options.seed());
        this.nemesisRandom = random.split();
        this.trace = new Trace(options.keepTrace());
        this.network = new SimNetwork(scheduler, random, options.hooks(), trace);
        if (options.faults().contains(Fault.SNAPSHOT)) {
            network.snapshotCutRate = 0.3;
        }
        network.crasher = (id, down) -> {
            SimHost host = hosts.get(id);
            if (host != null && host.up()) {
                trace(id, "fault", "crash after answering");
                host.crash();
                scheduler.schedule(down, host::restart);
            }
        };
        this.run = options.workload().start(new Workload.Settings(options.clients(), options.keys(),
                () -> scheduler.now() * 1000));
        this.testingHooks = testingHooks(options.hooks(), run);
        this.crashPoints = FaultSchedule.CrashAt.POINTS.stream()
                .filter(p -> !p.equals("backup") || options.faults().contains(Fault.BACKUP)).toList();
    }

    /**
     * The hooks as the real runtime's testing-only hook point: they are one, but for an answer
     * before commit, which only the workload can give. Every other hook is forwarded as it is
     * (a proxy, so a hook added to {@link TestingHooks} or the core's needs no line here).
     */
    private static TestingHooks testingHooks(Hooks hooks, Workload.Run run) {
        if (hooks == Hooks.NONE) {
            return TestingHooks.NONE; // the runtime then skips its per-proposal hook call
        }
        if (!hooks.ackBeforeCommit()) {
            return hooks;
        }
        return (TestingHooks) Proxy.newProxyInstance(TestingHooks.class.getClassLoader(),
                new Class<?>[] {TestingHooks.class}, (proxy, method, args) -> method.getName().equals("answerBeforeCommit")
                        ? run.answerBeforeCommit((byte[]) args[0]) : method.invoke(hooks, args));
    }

    /** Runs one simulation. */
    public static SimResult run(SimOptions options) {
        return new Simulator(options).run();
    }

    private SimResult run() {
        long started = System.nanoTime(); // wall time of the run, reported only; never read by the simulation
        Set<Long> founders = new TreeSet<>();
        for (long i = 1; i <= options.nodes(); i++) {
            founders.add(i);
        }
        long last = options.nodes() + (options.faults().contains(Fault.MEMBERSHIP) ? 2 : 0);
        for (long i = 1; i <= last; i++) {
            // Beyond the founders: two spare servers that the nemesis may add as learners and promote.
            hosts.put(i, new SimHost(i, this, founders));
        }
        for (SimHost h : hosts.values()) {
            h.start();
        }
        for (SimHost h : hosts.values()) {
            scheduleTicks(h, random.nextLong(TICK));
        }
        for (int c = 0; c < options.clients(); c++) {
            Client client = new Client(c, 1 + random.nextInt(options.nodes()));
            clients.add(client);
            scheduler.schedule(random.nextLong(20 * TICK), () -> issue(client));
        }
        scheduleNemesis();
        long faultEnd = options.ticks() * TICK;
        scheduler.schedule(faultEnd, this::heal);
        long end = faultEnd + HEAL_TICKS * TICK;
        // A healthy run takes some 30 events per node per tick; thirty times that is a storm.
        long budget = EVENTS_PER_NODE_TICK * hosts.size() * (end / TICK);
        scheduler.runUntil(end, () -> checker.ok() && scheduler.events() < budget);
        if (checker.ok() && scheduler.events() >= budget) {
            checker.onEventStorm(scheduler.now(), scheduler.events() + " events by t=" + scheduler.now()
                    + "us, the budget for " + hosts.size() + " nodes over " + end / TICK + " ticks ("
                    + trace.count() + " traced); see them with raftkit sim --seed " + options.seed() + " --report DIR");
        }
        if (checker.ok()) {
            checkAfterHeal();
        }
        for (SimHost h : hosts.values()) {
            if (h.up() && checker.ok()) {
                String broken = run.checkState(h.workloadStateMachine());
                if (broken != null) {
                    checker.onWorkloadViolation(scheduler.now(), "node " + h.id + " at the end: " + broken);
                }
            }
            h.closeStateMachine();
        }
        backups.closeAll();
        TypedHistory<?, ?> history = run.history();
        if (checker.ok()) {
            String verdict = run.verdict();
            if (verdict != null) {
                checker.onVerdict(run.verdictKind(), verdict);
            }
        }
        return new SimResult(options, List.copyOf(checker.violations()), scheduler.events(), taken.size(), history,
                trace.hash(), trace.count(), trace.events(), System.nanoTime() - started, new FaultSchedule(taken));
    }

    // ---------------------------------------------------------------------------------------
    // Plumbing used by the hosts.

    /** The staging areas of live restores. */
    SimStaging staging() {
        return staging;
    }

    /** The members' hosts, in id order. */
    java.util.Collection<SimHost> hosts() {
        return hosts.values();
    }

    SimOptions options() {
        return options;
    }

    SafetyChecker checker() {
        return checker;
    }

    SimScheduler scheduler() {
        return scheduler;
    }

    SimNetwork network() {
        return network;
    }

    SplittableRandom random() {
        return random;
    }

    Workload workload() {
        return options.workload();
    }

    Workload.Run workloadRun() {
        return run;
    }

    TestingHooks testingHooks() {
        return testingHooks;
    }

    long now() {
        return scheduler.now();
    }

    void trace(long node, String kind, String detail) {
        trace.add(scheduler.now(), node, kind, detail);
    }

    /** Traces {@code kind} with detail {@code from..to}, without formatting unless the trace is kept. */
    void traceRange(long node, String kind, long from, long to) {
        trace.addRange(scheduler.now(), node, kind, from, to);
    }

    private void scheduleTicks(SimHost h, long delay) {
        scheduler.schedule(delay, () -> {
            if (h.retired) {
                return;
            }
            h.tick();
            scheduleTicks(h, h.tickPeriod(TICK));
        });
    }

    /** Starts the timer of a machine that is not one of the cluster's (a spare restored from a backup). */
    void startTicks(SimHost spare) {
        scheduleTicks(spare, random.nextLong(TICK));
    }

    // ---------------------------------------------------------------------------------------
    // Clients: the real client API, across the simulated network.

    private static final Throwable TIMEOUT = new TimeoutException("simulated client timeout");

    /**
     * Sends {@code request} to node {@code node} across the network and calls {@code done} once:
     * with the answer, after it travelled back, or with {@link #TIMEOUT}.
     */
    private <T> void call(long node, Function<RaftServer, CompletableFuture<T>> request, BiConsumer<T, Throwable> done) {
        boolean[] finished = {false};
        scheduler.schedule(network.delay(), () -> {
            SimHost h = hosts.get(node);
            RaftServer s = h == null || h.paused ? null : h.server();
            if (s == null) {
                return; // nobody listens: the timeout answers
            }
            request.apply(s).whenComplete((v, e) -> scheduler.schedule(network.delay(), () -> {
                if (network.lossRate > 0 && random.nextDouble() < network.lossRate) {
                    return; // the answer is lost on the way back: the client times out and retries
                }
                if (!finished[0]) {
                    finished[0] = true;
                    try {
                        done.accept(v, e instanceof CompletionException ce && ce.getCause() != null ? ce.getCause() : e);
                    } catch (ClassCastException wrongType) {
                        // The future was completed with another request's kind of answer (a
                        // configuration for a command, say): the runtime answered the wrong request.
                        checker.onWrongAnswer(scheduler.now(), "node " + node + " answered a client's request with a "
                                + v.getClass().getSimpleName() + " (" + v + "): the answer of another entry");
                    }
                }
            }));
        });
        scheduler.schedule(CLIENT_TIMEOUT, () -> {
            if (!finished[0]) {
                finished[0] = true;
                done.accept(null, TIMEOUT);
            }
        });
    }

    private long randomNode() {
        return 1 + random.nextInt(options.nodes());
    }

    private void next(Client c) {
        scheduler.schedule(random.nextLong(2 * TICK), () -> issue(c));
    }

    private void issue(Client c) {
        if (!faultPhase) {
            return;
        }
        if (c.session == 0) {
            openSession(c);
            return;
        }
        Workload.Op op = run.next(c.id, random);
        if (op.isWrite()) {
            long seq = ++c.sequence;
            trace(0, "invoke", "client " + c.id + " write #" + seq + " at node " + c.target);
            write(c, op, seq, 1, false, new ArrayList<>());
        } else {
            // Reads spread over the replicas, as clients scaling reads do (followers use ReadIndex).
            long node = randomNode();
            trace(0, "invoke", "client " + c.id + " read " + op.readMode() + " at node " + node);
            call(node, s -> read(s, op), (result, error) -> {
                if (error == null) {
                    op.ok(result);
                } else {
                    op.fail(); // a read has no effect
                }
                complete(c, node, error);
            });
        }
    }

    private CompletableFuture<byte[]> read(RaftServer s, Workload.Op op) {
        if (options.hooks().readFromBelievedLeader()) {
            // Broken on purpose: the local state of whoever believes it leads, no ReadIndex.
            ServerStatus st = s.status();
            return st.role() == Role.LEADER ? s.read(op.bytes(), ReadMode.STALE)
                    : CompletableFuture.failedFuture(new RaftException(
                            RaftException.Reason.NOT_LEADER, st.leader(), "not the leader"));
        }
        return s.read(op.bytes(), op.readMode());
    }

    private void openSession(Client c) {
        long node = c.target;
        call(node, RaftServer::openSession, (id, error) -> {
            if (error == null) {
                c.session = id;
                trace(node, "session", "client " + c.id + " opened session " + id);
            } else {
                retarget(c, error);
            }
            next(c);
        });
    }

    /** A hedged copy of a write attempt: how it ended, if it has. */
    private static final class Hedge {
        boolean ok;
        boolean refused;
        byte[] result;
    }

    /**
     * One attempt of a write, with the client's session: a retry reuses the sequence number, so
     * the write is applied at most once whichever attempts reach the log (thesis §6.3).
     */
    private void write(Client c, Workload.Op op, long seq, int attempt, boolean maybeApplied, List<Hedge> hedges) {
        long node = c.target;
        if (random.nextInt(HEDGE_ONE_IN) == 0) {
            // A client that does not wait for a slow answer sends the same command again (a
            // hedged request, a gRPC retry policy): the same session and sequence number, so it
            // may reach the log twice and must take effect once (§6.3).
            Hedge h = new Hedge();
            hedges.add(h);
            long other = random.nextBoolean() ? node : 1 + random.nextInt(hosts.size());
            scheduler.schedule(random.nextLong(5 * TICK), () -> {
                trace(0, "invoke", "client " + c.id + " write #" + seq + " again at node " + other + " (hedged)");
                call(other, s -> s.submit(c.session, seq, seq, op.bytes()), (result, error) -> {
                    h.ok = error == null;
                    h.result = result;
                    h.refused = error != null && definitelyNotProposed(error);
                });
            });
        }
        long invokedAt = scheduler.now();
        call(node, s -> s.submit(c.session, seq, seq, op.bytes()), (result, error) -> {
            SimHost at = hosts.get(node);
            if (at != null) {
                at.checkFilledAnswer(invokedAt, error);
            }
            if (error == null) {
                op.ok(result);
                complete(c, node, null);
                return;
            }
            boolean maybe = maybeApplied || !definitelyNotProposed(error);
            retarget(c, error);
            if (error instanceof RaftException e && e.reason() == RaftException.Reason.SESSION_EXPIRED) {
                c.session = 0;
            } else if (attempt < WRITE_ATTEMPTS && faultPhase) {
                scheduler.schedule(random.nextLong(2 * TICK), () -> write(c, op, seq, attempt + 1, maybe, hedges));
                return;
            }
            // The hedged copies count too: one answered is the write's answer (exactly once, so
            // every copy answers alike); one not definitely refused may yet take effect.
            Hedge answered = hedges.stream().filter(h -> h.ok).findFirst().orElse(null);
            if (answered != null) {
                op.ok(answered.result);
            } else if (maybe || hedges.stream().anyMatch(h -> !h.refused)) {
                op.unknown();
            } else {
                op.fail();
            }
            complete(c, node, error);
        });
    }

    /** Refusals that prove this attempt never reached the log. */
    private static boolean definitelyNotProposed(Throwable error) {
        // The core's refusals, and the runtime's before it offers the command to the core.
        return error instanceof RaftException e && switch (e.reason()) {
            case NOT_LEADER, TRANSFERRING, TOO_MANY_UNCOMMITTED, CONF_CHANGE_IN_PROGRESS, OVERLOADED, INVALID, TOO_LARGE,
                    DISK_FULL -> true;
            default -> false;
        };
    }

    private void retarget(Client c, Throwable error) {
        long hint = error instanceof RaftException e ? e.leaderHint() : 0;
        c.target = hint > 0 && hosts.containsKey(hint) ? hint : 1 + random.nextInt(hosts.size());
    }

    private void complete(Client c, long node, Throwable error) {
        trace(node, "complete", "client " + c.id + " " + (error == null ? "ok" : error.getClass().getSimpleName()
                + (error instanceof RaftException e ? " " + e.reason() : "")));
        next(c);
    }

    // ---------------------------------------------------------------------------------------
    // The nemesis.

    /** How long a fault is held: 10 to 99 ticks. */
    private long faultDuration() {
        return (10 + random.nextInt(90)) * TICK;
    }

    /**
     * The random nemesis: at wake-ups drawn from the nemesis's own random stream (so the world's
     * stream, which times messages, fsyncs and clients, is the same whether the steps are drawn or
     * given), it draws a step and takes it; {@link #perform} enforces the fault model.
     */
    private void scheduleNemesis() {
        FaultSchedule given = options.schedule();
        if (given != null) {
            for (FaultSchedule.Step s : given.before(options.ticks()).steps()) {
                scheduler.schedule(s.tick() * TICK, () -> {
                    String skipped = take(s);
                    if (skipped != null) {
                        trace(s.action().node(), "skip", s.text() + ": " + skipped);
                    }
                });
            }
            return;
        }
        if (options.faults().isEmpty()) {
            return;
        }
        // Every wake-up is scheduled now, before anything else can be: one scheduled later could
        // break a tie at the same instant differently, and the drawn run would not be the run its
        // recorded schedule replays.
        if (options.faults().contains(Fault.BACKUP)) {
            // As an operator schedules them: a backup from one node every 60 ticks, every fourth a
            // full one and every fourth, half-way between, a differential, the others incremental,
            // so chains grow long enough to restore from (through differentials and increments
            // after them) and lose an increment of. The nemesis's own BACKUP steps restore that
            // node's chains.
            backupNode = 1 + nemesisRandom.nextInt(options.nodes());
            int k = 0;
            for (long t = 50; t < options.ticks(); t += 60, k++) {
                FaultSchedule.Step s = new FaultSchedule.Step(t, new FaultSchedule.Backup(backupNode, k % 4 == 1 || k % 4 == 3,
                        k % 4 == 2), 0);
                scheduler.schedule(t * TICK, () -> take(s));
            }
        }
        for (long t = 30 + nemesisRandom.nextInt(50); t < options.ticks(); t += 20 + nemesisRandom.nextInt(60)) {
            long tick = t;
            scheduler.schedule(tick * TICK, () -> {
                FaultSchedule.Step s = draw(tick);
                if (s != null) {
                    take(s);
                }
            });
        }
    }

    /** Takes {@code s} if the fault model allows it now; returns why not, or null once taken (and recorded). */
    private String take(FaultSchedule.Step s) {
        if (!faultPhase) {
            return "after the heal";
        }
        String skipped = perform(s);
        if (skipped == null) {
            taken.add(s);
        }
        return skipped;
    }

    /** A step of a kind in {@code options.faults()}, drawn from the nemesis's stream; null if none applies now. */
    private FaultSchedule.Step draw(long tick) {
        SplittableRandom r = nemesisRandom;
        List<Fault> enabled = new ArrayList<>(options.faults());
        Fault f = enabled.get(r.nextInt(enabled.size()));
        long ticks = 10 + r.nextInt(90);
        List<Long> ids = new ArrayList<>(hosts.keySet());
        long victim = ids.get(r.nextInt(ids.size()));
        FaultSchedule.Action a = switch (f) {
            case PARTITION -> new FaultSchedule.Partition(randomShape(r, ids));
            case LOSS -> new FaultSchedule.Loss(5 + r.nextInt(26));
            case DUPLICATE -> new FaultSchedule.Duplicate(5 + r.nextInt(21));
            case REORDER -> new FaultSchedule.Reorder();
            // A third of the crashes wait for the victim's next counted answer (SimNetwork), a
            // third for its next file operation of some kind (a crash point).
            case CRASH -> switch (r.nextInt(3)) {
                case 0 -> new FaultSchedule.Crash(victim, false);
                case 1 -> new FaultSchedule.Crash(victim, true);
                default -> new FaultSchedule.CrashAt(victim, crashPoints.get(r.nextInt(crashPoints.size())));
            };
            case WIPE -> r.nextBoolean() ? new FaultSchedule.Wipe(victim) : new FaultSchedule.Stale(victim);
            case DISK -> switch (r.nextInt(4)) {
                case 0 -> new FaultSchedule.Disk(victim, false);
                case 1 -> new FaultSchedule.Disk(victim, true);
                case 2 -> new FaultSchedule.Fill(victim);
                default -> new FaultSchedule.Corrupt(victim, r.nextLong());
            };
            case CLOCK -> {
                // Within the drift the lease allows (ClockTest shows a drift beyond it caught).
                int percent = 1 + r.nextInt(MAX_CLOCK_DRIFT_PERCENT);
                yield r.nextBoolean() ? new FaultSchedule.ClockRate(victim, r.nextBoolean() ? percent : -percent)
                        : new FaultSchedule.ClockJump(victim, (r.nextBoolean() ? 1 : -1) * (100 + r.nextLong(60_000)));
            }
            case PAUSE -> new FaultSchedule.Pause(victim);
            // A slow disk, or one whose fsyncs hang for the fault's duration (10–99 ticks, about
            // half of them past the runtime's diskStallTicks of 20).
            // Or one whose every fsync is slower than diskSlowMillis.
            case SLOW -> switch (r.nextInt(3)) {
                case 0 -> new FaultSchedule.Slow(victim);
                case 1 -> new FaultSchedule.Hang(victim);
                default -> new FaultSchedule.SlowSync(victim);
            };
            case SNAPSHOT -> new FaultSchedule.Snapshot(victim);
            case MEMBERSHIP -> {
                SimHost leader = leader();
                if (leader == null) {
                    yield null;
                }
                ConfState conf = leader.status().conf();
                yield new FaultSchedule.Membership(conf.learners().contains(victim) ? "promote"
                        : !conf.voters().contains(victim) ? "add-learner"
                        : r.nextBoolean() ? "remove" : "demote", victim);
            }
            case TRANSFER -> {
                SimHost leader = leader();
                if (leader == null) {
                    yield null;
                }
                List<Long> voters = new ArrayList<>(leader.status().conf().voters());
                yield new FaultSchedule.Transfer(voters.get(r.nextInt(voters.size())));
            }
            // Mostly a restore of the scheduled backups' chains; now and then a full backup elsewhere.
            case BACKUP -> {
                if (r.nextInt(5) == 0) {
                    yield new FaultSchedule.Backup(victim, false);
                }
                // Live restores (the fourth variant) roll the running cluster back to the chain.
                String variant = FaultSchedule.Restore.VARIANTS.get(r.nextInt(FaultSchedule.Restore.VARIANTS.size()));
                long pick = variant.equals("plain") || variant.equals("live") ? 0 : r.nextInt(64);
                // A third of the plain and crash restores go into 2 or 3 directories at once (the
                // seeding of a new cluster), chosen by the tick so that no draw is added and every
                // other seed's schedule stays as it was; a cut one at a pick scaled by the copies,
                // so that some come while the directories are written and some while published.
                if (tick % 3 == 0 && (variant.equals("plain") || variant.equals("crash"))) {
                    int copies = 2 + (int) (tick / 3 % 2);
                    yield new FaultSchedule.Restore(backupNode, variant.equals("plain") ? "concurrent" : "concurrent-crash",
                            pick * copies, copies);
                }
                yield new FaultSchedule.Restore(backupNode, variant, pick);
            }
        };
        return a == null ? null : new FaultSchedule.Step(tick, a, a.held() ? ticks : 0);
    }

    /** One of the partition shapes over {@code ids}, shuffled. */
    private static String randomShape(SplittableRandom r, List<Long> nodes) {
        List<Long> ids = new ArrayList<>(nodes);
        for (int i = ids.size() - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            Long t = ids.get(i);
            ids.set(i, ids.get(j));
            ids.set(j, t);
        }
        int half = ids.size() / 2;
        List<Long> rest = ids.subList(1, ids.size());
        int restHalf = rest.size() / 2;
        return switch (r.nextInt(5)) {
            case 0 -> "isolate " + ids.get(0);
            case 1 -> "split " + csv(ids.subList(0, half)) + " | " + csv(ids.subList(half, ids.size()));
            // Two halves that both still reach one bridge node.
            case 2 -> "bridge " + ids.get(0) + " between " + csv(rest.subList(0, restHalf)) + " | "
                    + csv(rest.subList(restHalf, rest.size()));
            case 3 -> "ring " + csv(ids);
            default -> "one-way " + ids.get(0) + " -> " + ids.get(1);
        };
    }

    private static String csv(List<Long> ids) {
        return String.join(",", ids.stream().map(String::valueOf).toList());
    }

    /**
     * Does {@code s} now, under the fault model's rules; returns why it cannot (nothing done), or
     * null. Draws nothing from any random stream: a step is the same step whether drawn or given.
     */
    private String perform(FaultSchedule.Step s) {
        FaultSchedule.Action a = s.action();
        long duration = s.ticks() * TICK;
        SimHost v = a.node() == 0 ? null : hosts.get(a.node());
        if (a.node() != 0 && v == null) {
            return "there is no node " + a.node();
        }
        if (a instanceof FaultSchedule.Partition p) {
            Set<Long> cut = p.links(new ArrayList<>(hosts.keySet()));
            network.block(cut);
            trace(0, "fault", "partition " + p.shape());
            scheduler.schedule(duration, () -> {
                network.unblock(cut);
                trace(0, "heal", "partition " + p.shape());
            });
        } else if (a instanceof FaultSchedule.Loss l) {
            network.lossRate = l.percent() / 100.0;
            trace(0, "fault", "loss " + l.percent() + "%");
            scheduler.schedule(duration, () -> network.lossRate = 0);
        } else if (a instanceof FaultSchedule.Duplicate d) {
            network.duplicateRate = d.percent() / 100.0;
            trace(0, "fault", "duplicate " + d.percent() + "%");
            scheduler.schedule(duration, () -> network.duplicateRate = 0);
        } else if (a instanceof FaultSchedule.Reorder) {
            network.extraDelay = 5 * TICK;
            trace(0, "fault", "reorder: delays up to 50 ms");
            scheduler.schedule(duration, () -> network.extraDelay = 0);
        } else if (a instanceof FaultSchedule.Crash c) {
            if (!v.up()) {
                return "node " + v.id + " is down";
            }
            if (c.afterAnswer()) {
                trace(v.id, "fault", "crash just after its next granted vote or accepted append");
                network.crashAfterNextAnswer.put(v.id, duration);
            } else {
                trace(v.id, "fault", "crash");
                v.crash();
                scheduler.schedule(duration, v::restart);
            }
        } else if (a instanceof FaultSchedule.CrashAt c) {
            if (!v.up()) {
                return "node " + v.id + " is down";
            }
            trace(v.id, "fault", "crash at its next " + c.point());
            v.crashAt(c, duration);
        } else if (a instanceof FaultSchedule.Wipe) {
            String refused = loneLoss(v);
            if (refused != null) {
                return refused;
            }
            trace(v.id, "fault", "wipe");
            v.wipe();
            scheduler.schedule(duration, v::restart);
        } else if (a instanceof FaultSchedule.Stale) {
            if (!v.up() || v.damaged()) {
                return "node " + v.id + " is down or damaged";
            }
            SimFileIo copy = v.copyDisk();
            trace(v.id, "fault", "stale: its data directory copied, to be put back in " + duration / TICK + " ticks");
            scheduler.schedule(duration, () -> {
                // The rule of a wipe, at the moment the copy goes back: the node may lose state.
                // And never on the leader: what it had acknowledged is known to itself alone, and a
                // node cannot tell an older copy of its directory from one that was merely behind.
                String refused = !faultPhase ? "the faults are healed"
                        : !v.up() || v.damaged() ? "node " + v.id + " is down or damaged"
                        : v.isLeader() ? "node " + v.id + " leads: no other node knows what it acknowledged" : loneLoss(v);
                if (refused != null) {
                    trace(v.id, "skip", "stale " + v.id + ": not put back: " + refused);
                    return;
                }
                v.restoreDisk(copy);
                v.restart();
            });
        } else if (a instanceof FaultSchedule.Disk d) {
            String refused = oneDiskFault(v);
            if (refused != null) {
                return refused;
            }
            trace(v.id, "fault", d.full() ? "disk full" : "disk: EIO on every write and fsync");
            v.failDisk(d.full() ? "No space left on device (simulated ENOSPC)" : "Input/output error (simulated EIO)",
                    d.full());
            scheduler.schedule(duration, () -> healDisk(v));
        } else if (a instanceof FaultSchedule.Corrupt c) {
            // Under the same rule as a wipe: the damage may cost the node what it holds.
            String refused = oneDiskFault(v);
            refused = refused != null ? refused : loneLoss(v);
            if (refused != null) {
                return refused;
            }
            String hit = v.corrupt(new SplittableRandom(c.pick()));
            if (hit == null) {
                return "node " + v.id + " has synced no file yet";
            }
            trace(v.id, "fault", "disk: latent corruption, " + hit);
            scheduler.schedule(duration, () -> {
                if (v.damaged() && v.up() && !v.remedyPending) {
                    trace(v.id, "fault", "crash (the damage is found at the next start)");
                    v.crash();
                    v.restart();
                }
            });
        } else if (a instanceof FaultSchedule.ClockRate c) {
            v.clockRatePercent = c.percent();
            trace(v.id, "fault", "clock rate " + (c.percent() >= 0 ? "+" : "") + c.percent() + "%");
            scheduler.schedule(duration, () -> {
                v.clockRatePercent = 0;
                trace(v.id, "heal", "clock rate true");
            });
        } else if (a instanceof FaultSchedule.ClockJump c) {
            v.clockOffsetMicros += c.millis() * 1000;
            trace(v.id, "fault", "clock jump " + (c.millis() >= 0 ? "+" : "") + c.millis() + "ms");
            scheduler.schedule(duration, () -> {
                if (faultPhase) { // after the heal, the clock is already true
                    v.clockOffsetMicros -= c.millis() * 1000;
                    trace(v.id, "heal", "clock jump back");
                }
            });
        } else if (a instanceof FaultSchedule.Pause) {
            if (!v.up() || v.paused) {
                return "node " + v.id + " is down or paused";
            }
            v.pause();
            trace(v.id, "fault", "pause");
            scheduler.schedule(duration, v::resume);
        } else if (a instanceof FaultSchedule.Slow) {
            v.slow = true;
            trace(v.id, "fault", "slow disk");
            scheduler.schedule(duration, () -> v.slow = false);
        } else if (a instanceof FaultSchedule.Fill) {
            if (v.filled()) {
                return "node " + v.id + "'s disk is already filled";
            }
            v.fill(true);
            trace(v.id, "fault", "disk filled: " + SimHost.FILL_BYTES + " bytes free, below the watermark");
            scheduler.schedule(duration, () -> {
                if (v.filled()) {
                    v.fill(false);
                    trace(v.id, "heal", "disk space freed");
                }
            });
        } else if (a instanceof FaultSchedule.SlowSync) {
            if (v.slowSync) {
                return "node " + v.id + "'s fsyncs are already slow";
            }
            v.slowSync(true);
            trace(v.id, "fault", "slow fsync: each takes " + SimHost.SLOW_SYNC_MICROS / 1000 + " ms");
            scheduler.schedule(duration, () -> v.slowSync(false));
        } else if (a instanceof FaultSchedule.Hang) {
            if (v.hung()) {
                return "node " + v.id + "'s disk already hangs";
            }
            v.hang(duration);
            trace(v.id, "fault", "disk hangs: the log writer waits until the fault ends");
            scheduler.schedule(duration, () -> trace(v.id, "heal", "disk answers again"));
        } else if (a instanceof FaultSchedule.Snapshot) {
            RaftServer server = v.server();
            if (server == null) {
                return "node " + v.id + " is down";
            }
            trace(v.id, "fault", "snapshot now");
            server.snapshotNow();
        } else if (a instanceof FaultSchedule.Backup b) {
            return backups.backup(v, b.kind());
        } else if (a instanceof FaultSchedule.Restore r) {
            return r.variant().equals("live") ? backups.liveRestore(v) : backups.restore(v, r);
        } else if (a instanceof FaultSchedule.Membership m) {
            return changeMembership(m);
        } else if (a instanceof FaultSchedule.Transfer t) {
            SimHost leader = leader();
            if (leader == null) {
                return "no leader";
            }
            trace(leader.id, "fault", "transfer leadership to " + t.node());
            leader.server().transferLeadership(t.node());
        }
        return null;
    }

    /**
     * Null if {@code victim} may lose state now: every node is up, none is recovering or holds
     * undetected damage, and the other voters are a quorum; else why not. At most one node's
     * state is lost at a time, so a majority always holds every committed entry (losing more is
     * data loss no protocol survives).
     */
    private String loneLoss(SimHost victim) {
        SimHost leader = leader();
        if (leader == null) {
            return "no leader (a node may lose state only while the others are a live quorum)";
        }
        // Members only: a spare never added has no state to lose and starts recovering (with the
        // spares counted, no run with membership changes ever wiped or corrupted a node).
        Set<Long> members = new TreeSet<>(leader.status().conf().members());
        members.add(victim.id);
        for (long id : members) {
            SimHost h = hosts.get(id);
            ServerStatus s = h.status();
            if (s == null || s.recovering() || h.damaged() || h.stopped() || (h != victim && h.paused)) {
                return "node " + h.id + " is down, paused, recovering or damaged (one node loses state at a time)";
            }
        }
        // The voters left must still be a quorum of the configuration, or no leader could be
        // elected until the wiped one catches up — from a leader (a two-voter cluster, say).
        Set<Long> voters = leader.status().conf().voters();
        long others = voters.stream().filter(id -> id != victim.id).count();
        return !voters.contains(victim.id) || others >= voters.size() / 2 + 1 ? null
                : "the other voters would not be a quorum";
    }

    /** Null if {@code victim}'s disk may fail now (one disk fault at a time, on a running node); else why not. */
    private String oneDiskFault(SimHost victim) {
        for (SimHost h : hosts.values()) {
            if (h.expectsFailure() || h.remedyPending) {
                return "node " + h.id + "'s disk fault is not over (one at a time)";
            }
        }
        return !victim.up() || victim.paused ? "node " + victim.id + " is down or paused" : null;
    }

    private void healDisk(SimHost h) {
        h.healDisk();
        trace(h.id, "heal", "disk works again");
    }

    /**
     * {@code h} stopped itself (fail-stop) or refused to start on an injected disk fault. The
     * operator acts after a while: a damaged data directory is replaced by an empty one (the
     * node must come back recovering, §3.8); otherwise the process is restarted once the device
     * works again.
     */
    void onDiskFailure(SimHost h) {
        if (h.remedyPending) {
            return;
        }
        h.remedyPending = true;
        scheduler.schedule(faultPhase ? faultDuration() : 10 * TICK, () -> {
            h.remedyPending = false;
            if (h.damaged()) {
                trace(h.id, "operator", "replaces the damaged data directory with an empty one");
                h.wipe();
                h.restart();
            } else if (h.expectsFailure()) {
                onDiskFailure(h); // the device still fails: wait
            } else {
                trace(h.id, "operator", "restarts the stopped process");
                h.crash();
                h.restart();
            }
        });
    }

    /** The leader changes membership as {@code m} says; returns why not, or null. */
    private String changeMembership(FaultSchedule.Membership m) {
        SimHost leader = leader();
        if (leader == null) {
            return "no leader";
        }
        if (hosts.values().stream().anyMatch(SimHost::damaged)) {
            // Not while a node holds damage it has not found yet: a removal could leave it one of
            // two voters, and losing its state then costs the quorum (seed 65 of the SQL sweep).
            // The product refuses such a removal for a member it knows is recovering.
            return "a node holds damage it has not found";
        }
        ConfState conf = leader.status().conf();
        boolean demoting = m.op().equals("remove") || m.op().equals("demote");
        if (demoting && conf.voters().size() <= 2) {
            return "only " + conf.voters().size() + " voters";
        }
        RaftServer s = leader.server();
        long node = m.node();
        String what = switch (m.op()) {
            case "promote" -> "promote " + node;
            case "remove" -> "remove " + node;
            case "demote" -> "demote to learner " + node;
            default -> "add learner " + node;
        };
        CompletableFuture<?> done = switch (m.op()) {
            case "promote" -> s.promote(node);
            case "remove" -> s.remove(node);
            default -> s.addLearner(node);
        };
        done.whenComplete((v, e) -> traceOutcome(leader.id, what, e));
        trace(leader.id, "fault", "membership " + what);
        return null;
    }

    private void traceOutcome(long node, String what, Throwable error) {
        trace(node, "membership", what + (error == null ? ": done" : ": refused (" + error.getClass().getSimpleName() + ")"));
    }

    /** A node leading a term after {@code term}, or null: the failover a slow-fsync leader's step-down must bring. */
    SimHost leaderAfter(long term) {
        for (SimHost h : hosts.values()) {
            if (h.isLeader() && h.status().term() > term) {
                return h;
            }
        }
        return null;
    }

    SimHost leader() {
        SimHost best = null;
        for (SimHost h : hosts.values()) {
            if (h.isLeader() && (best == null || h.status().term() > best.status().term())) {
                best = h;
            }
        }
        return best;
    }

    // ---------------------------------------------------------------------------------------
    // Healing and the end-of-run checks.

    private void heal() {
        faultPhase = false;
        healedAt = scheduler.now();
        network.healAll();
        for (SimHost h : hosts.values()) {
            h.slow = false;
            h.slowSync(false);
            if (h.hung()) {
                h.hang(0); // the disk answers again
            }
            h.clockRatePercent = 0;
            h.clockOffsetMicros = 0;
            h.disarmCrashPoint();
            h.healDisk();
            h.resume();
            if (h.stopped()) {
                h.crash();
            }
            h.restart();
        }
        trace(0, "heal", "all faults healed");
        watchForLeader();
    }

    private void watchForLeader() {
        if (leader() != null) {
            firstLeaderAfterHeal = scheduler.now();
            return;
        }
        scheduler.schedule(TICK, this::watchForLeader);
    }

    private void checkAfterHeal() {
        long now = scheduler.now();
        if (firstLeaderAfterHeal < 0 || firstLeaderAfterHeal - healedAt > LEADER_BOUND_TICKS * TICK) {
            checker.onConvergenceFailure(now, "no leader within " + LEADER_BOUND_TICKS + " ticks after healing");
            return;
        }
        SimHost leader = leader();
        if (leader == null) {
            checker.onConvergenceFailure(now, "no leader at the end of the healing phase");
            return;
        }
        ServerStatus ls = leader.status();
        long digest = run.digest(leader.workloadStateMachine());
        for (long member : ls.conf().members()) {
            SimHost h = hosts.get(member);
            ServerStatus st = h.status();
            if (st == null) {
                checker.onConvergenceFailure(now, "member " + member + " is down after healing");
                continue;
            }
            long d = run.digest(h.workloadStateMachine());
            if (st.applied() == ls.applied() && d != digest) {
                // The checker saw the same command at every index on every node (State Machine
                // Safety), so equal applied indexes with unequal states mean the state machine
                // itself: an apply that is not a function of the commands, or a snapshot that does
                // not restore what it saved.
                checker.onReplicaDivergence(now, "nodes " + leader.id + " and " + member + " both applied up to "
                        + st.applied() + " the same commands but their states differ (digests " + digest + " and " + d
                        + "): the state machine is not deterministic, or its restore does not rebuild what its snapshot"
                        + " saved");
            } else if (st.applied() != ls.commit() || d != digest) {
                checker.onConvergenceFailure(now, "node " + member + " applied " + st.applied() + " (digest " + d
                        + ") but leader " + leader.id + " committed " + ls.commit() + " (digest " + digest + "); it is "
                        + st + (h.paused ? " (paused)" : ""));
            }
        }
    }
}
