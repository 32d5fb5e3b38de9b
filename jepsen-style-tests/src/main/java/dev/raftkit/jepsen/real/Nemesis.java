package dev.raftkit.jepsen.real;

import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.kv.KvOps;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Injects faults on a schedule drawn from a seed: quiet 2–4 s, then one fault held 3–8 s, then
 * healed, until the deadline. The seed fixes the schedule's choices (which fault, which shape,
 * which victim role, the timings); the victims' identities also depend on who leads at the time,
 * which real processes do not make deterministic.
 *
 * <ul>
 *   <li>{@code kill}: SIGKILL a random node, the leader, or a majority; restart them when healed.
 *   <li>{@code pause}: SIGSTOP a random node or the leader; SIGCONT when healed.
 *   <li>{@code partition}: black-hole links in one of {@link Network#shapes(int)}.
 *   <li>{@code disk}: SIGKILL a node, tear its open segment's tail or flip a bit in a segment,
 *       restart it; if it refuses its data, replace it by a new node ({@link Cluster#replace}).
 *   <li>{@code membership}: transfer leadership to a random follower; or remove a random follower
 *       from the voters and, when healed, add it back as a learner and promote it; or replace a
 *       random follower by a brand-new node (added as a learner, promoted, the old one removed).
 *   <li>{@code power}: power loss ({@link PowerFault}): SIGKILL a minority, or every node at once,
 *       losing everything they had not fsync'd; restart them when healed. Needs nodes over a
 *       {@link PowerLossFileIo} ({@code raftkit jepsen} starts them so when {@code power} is asked
 *       for); a plain {@code kill} or {@code disk} of such a node keeps the page cache, as before.
 *   <li>{@code backup}: a full, incremental or differential backup from a random node through the
 *       admin API, sometimes cut by a SIGKILL of that node ({@link BackupNemesis}); every chain is
 *       verified and restored at the end of the run.
 * </ul>
 */
public final class Nemesis implements Runnable {

    /** The fault kinds this nemesis knows. */
    public static final Set<String> KINDS = Set.of("kill", "pause", "partition", "disk", "membership", "disk-stall",
            "disk-fill", "power", "backup");
    /**
     * A stall is held at most this long: under the harness node's 20 ms ticks the runtime's
     * diskStuckTicks (300) fail a node stop after 6 s, and this nemesis tests the step-down.
     */
    private static final long MAX_STALL_MILLIS = 3000;
    /** Free space a fill reports: 8 MiB, under the default 256 MiB watermark, over a 1 MiB segment. */
    static final long FILL_BYTES = 8L << 20;

    private final Cluster cluster;
    private final List<String> kinds;
    private final Random rnd;
    private final long deadlineNanos;
    private final Duration restartTimeout = Duration.ofSeconds(60);
    private final List<FaultEvent> events = Collections.synchronizedList(new ArrayList<>());
    private volatile Throwable failure;
    private final PowerFault power = new PowerFault();
    private final BackupNemesis backups;

    public Nemesis(Cluster cluster, List<String> kinds, long seed, long deadlineNanos) {
        for (String k : kinds) {
            if (!KINDS.contains(k)) {
                throw new IllegalArgumentException("unknown nemesis '" + k + "'; known: " + KINDS);
            }
        }
        this.cluster = cluster;
        this.kinds = List.copyOf(kinds);
        this.rnd = new Random(seed);
        this.deadlineNanos = deadlineNanos;
        this.backups = new BackupNemesis(cluster, rnd);
    }

    /** The backup nemesis: the backups taken, and the audit the runner does at the end. */
    public BackupNemesis backups() {
        return backups;
    }

    /** The timeline so far. */
    public List<FaultEvent> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /** What stopped the nemesis early, if anything. */
    public Throwable failure() {
        return failure;
    }

    @Override
    public void run() {
        if (kinds.isEmpty()) {
            return;
        }
        try {
            while (true) {
                long quiet = 2000 + rnd.nextInt(2000);
                long hold = 3000 + rnd.nextInt(5000);
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(quiet + hold) > deadlineNanos) {
                    return;
                }
                TimeUnit.MILLISECONDS.sleep(quiet);
                String kind = kinds.get(rnd.nextInt(kinds.size()));
                switch (kind) {
                    case "kill" -> kill(hold);
                    case "pause" -> pause(hold);
                    case "partition" -> partition(hold);
                    case "disk" -> disk(hold);
                    case "membership" -> membership(hold);
                    case "disk-stall" -> diskStall(Math.min(hold, MAX_STALL_MILLIS));
                    case "disk-fill" -> diskFill(hold);
                    case "power" -> events.add(power.inject(cluster, rnd, hold, restartTimeout));
                    case "backup" -> backup();
                    default -> throw new IllegalStateException(kind);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            failure = e;
        }
    }

    private void kill(long hold) throws Exception {
        List<Long> victims = victims(rnd.nextInt(3));
        long start = System.nanoTime();
        for (long v : victims) {
            cluster.kill(v);
            PowerLossFileIo.keepPageCache(cluster.dataDir(v)); // a kill, not a power cut
        }
        TimeUnit.MILLISECONDS.sleep(hold);
        StringBuilder d = new StringBuilder("SIGKILL ").append(victims).append(", restarted");
        for (Cluster.Restart r : cluster.restartAll(victims, restartTimeout)) {
            describe(d, r);
        }
        events.add(new FaultEvent("kill", d.toString(), start, System.nanoTime()));
    }

    private void pause(long hold) throws Exception {
        List<Long> victims = victims(rnd.nextInt(2));
        long start = System.nanoTime();
        for (long v : victims) {
            cluster.pause(v);
        }
        TimeUnit.MILLISECONDS.sleep(hold);
        for (long v : victims) {
            cluster.resume(v);
        }
        events.add(new FaultEvent("pause", "SIGSTOP " + victims + " for " + hold + " ms, then SIGCONT", start,
                System.nanoTime()));
    }

    private void partition(long hold) throws Exception {
        List<String> shapes = Network.shapes(cluster.ids().size());
        Network.Partition p = Network.draw(shapes.get(rnd.nextInt(shapes.size())), cluster.ids(), cluster.leader(), rnd);
        long start = System.nanoTime();
        cluster.network().apply(p.cut());
        TimeUnit.MILLISECONDS.sleep(hold);
        cluster.network().heal();
        events.add(new FaultEvent("partition", p.shape() + ": " + p.description() + " (" + p.cut().size()
                + " links cut)", start, System.nanoTime()));
    }

    private void disk(long hold) throws Exception {
        long v = victims(rnd.nextInt(2)).get(0);
        long start = System.nanoTime();
        cluster.kill(v);
        PowerLossFileIo.keepPageCache(cluster.dataDir(v)); // a kill, not a power cut
        String what = rnd.nextBoolean() ? DiskFaults.tearOpenTail(cluster.dataDir(v), rnd)
                : DiskFaults.flipBit(cluster.dataDir(v), rnd);
        TimeUnit.MILLISECONDS.sleep(hold);
        StringBuilder d = new StringBuilder("node ").append(v).append(" killed; ").append(what).append("; restarted");
        describe(d, cluster.restart(v, restartTimeout));
        events.add(new FaultEvent("disk", d.toString(), start, System.nanoTime()));
    }

    /**
     * Stalls the leader's fsyncs (injected: {@link DiskControl}) for {@code hold} ms, and measures
     * how long until another node leads and commits a write; then lets the disk answer again.
     */
    private void diskStall(long hold) throws Exception {
        long v = cluster.leader();
        if (v == 0) {
            return;
        }
        long start = System.nanoTime();
        DiskControl.set(DiskControl.controlFile(cluster.dataDir(v)), "stall");
        String outcome = "no other leader committed a write within the hold";
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(hold);
        while (System.nanoTime() < deadline) {
            long l = cluster.leader();
            if (l != 0 && l != v && probe(l) == null) {
                outcome = "node " + l + " leads and committed a write " + (System.nanoTime() - start) / 1_000_000 + " ms"
                        + " after the stall began";
                break;
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        long left = deadline - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
        DiskControl.set(DiskControl.controlFile(cluster.dataDir(v)), "ok");
        events.add(new FaultEvent("disk-stall", "leader " + v + "'s fsyncs stalled (injected) for " + hold + " ms; "
                + outcome, start, System.nanoTime()));
    }

    /**
     * Reports the leader's disk nearly full (injected: {@link DiskControl}) for {@code hold} ms: a
     * write sent to it must be refused with DISK_FULL; once lifted, writes there resume.
     */
    private void diskFill(long hold) throws Exception {
        long v = cluster.leader();
        if (v == 0) {
            return;
        }
        long start = System.nanoTime();
        Path control = DiskControl.controlFile(cluster.dataDir(v));
        DiskControl.set(control, "fill " + FILL_BYTES);
        String refusal = "no write refused";
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(hold);
        while (System.nanoTime() < deadline) {
            String r = probe(v);
            if (r != null && r.contains("DISK_FULL")) {
                // The client retries a retryable refusal until its timeout, then names it as the last error.
                refusal = "a write refused with DISK_FULL (" + r + ")";
                break;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        long left = deadline - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
        DiskControl.set(control, "ok");
        long lifted = System.nanoTime();
        String resumed = "writes did not resume within 10 s";
        while (System.nanoTime() - lifted < TimeUnit.SECONDS.toNanos(10)) {
            long l = cluster.leader();
            if (l != 0 && probe(l) == null) {
                resumed = "writes resumed (at node " + l + ") " + (System.nanoTime() - lifted) / 1_000_000
                        + " ms after the fill was lifted";
                break;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        events.add(new FaultEvent("disk-fill", "leader " + v + "'s disk reported " + FILL_BYTES + " bytes free (injected)"
                + " for " + hold + " ms; " + refusal + "; " + resumed, start, System.nanoTime()));
    }

    private void backup() throws Exception {
        FaultEvent e = backups.step(restartTimeout);
        if (e != null) {
            events.add(e);
        }
    }

    /** The probe write: a key-value put unless {@link #probeWith} says otherwise. */
    private java.util.function.Supplier<byte[]> probeCommand =
            () -> KvOps.put("nemesis-probe", Long.toString(System.nanoTime()));

    /**
     * Probes with {@code command} instead of a key-value put: a cluster of another state machine
     * (SQL) refuses a key-value command as invalid, which is no sign of a full disk. Call before
     * the nemesis runs.
     */
    Nemesis probeWith(java.util.function.Supplier<byte[]> command) {
        this.probeCommand = command;
        return this;
    }

    /** One write of a probe key at {@code node} alone: null if acknowledged, else why not. */
    private String probe(long node) {
        try {
            cluster.pinnedClient(node).submit(probeCommand.get());
            return null;
        } catch (RuntimeException e) {
            return e instanceof RaftException r ? r.reason() + ": " + r.getMessage() : e.toString();
        }
    }

    private void membership(long hold) throws Exception {
        long leader = cluster.leader();
        List<Long> followers = new ArrayList<>(cluster.ids());
        followers.remove(leader);
        followers.removeIf(id -> !cluster.isAlive(id));
        if (leader == 0 || followers.isEmpty()) {
            return; // nothing sensible to change while there is no leader
        }
        long target = followers.get(rnd.nextInt(followers.size()));
        long start = System.nanoTime();
        int how = rnd.nextInt(3);
        if (how == 2) {
            long fresh = cluster.replace(target, restartTimeout);
            TimeUnit.MILLISECONDS.sleep(hold);
            events.add(new FaultEvent("membership", "replaced node " + target + " by new node " + fresh
                    + " (added as a learner, promoted, node " + target + " removed)", start, System.nanoTime()));
            return;
        }
        try (RaftClient admin = cluster.adminClient()) {
            if (how == 0) {
                String outcome;
                try {
                    admin.transferLeadership(target);
                    outcome = "done";
                } catch (RuntimeException e) {
                    outcome = "refused: " + e.getMessage();
                }
                TimeUnit.MILLISECONDS.sleep(hold);
                events.add(new FaultEvent("membership", "transfer leadership " + leader + " -> " + target + " ("
                        + outcome + ")", start, System.nanoTime()));
                return;
            }
            List<Long> voters = admin.remove(target);
            TimeUnit.MILLISECONDS.sleep(hold);
            // Always put the node back: the final checks expect every node a voter again. A
            // learner catches up before it may be promoted (§4.2.1), so promotion is retried.
            String back = "re-added";
            long deadline = System.nanoTime() + restartTimeout.toNanos();
            try {
                cluster.change(() -> cluster.isLearner(target) || cluster.isVoter(target), () -> admin.addLearner(target),
                        deadline, "add node " + target + " back as a learner");
                cluster.change(() -> cluster.isVoter(target), () -> admin.promote(target), deadline,
                        "promote node " + target);
            } catch (RuntimeException e) {
                back = "NOT re-added (" + e.getMessage() + ")";
                failure = e;
            }
            events.add(new FaultEvent("membership", "removed node " + target + " (voters " + voters + "), then "
                    + back, start, System.nanoTime()));
        }
    }

    private static void describe(StringBuilder d, Cluster.Restart r) {
        d.append(r.replaced() ? "; node " + r.node() + " REFUSED its data (" + r.reason() + ") and was replaced by new node "
                + r.replacement() : "");
    }

    /** 0: a random live node; 1: the leader (or a random node if none); 2: a majority. */
    private List<Long> victims(int how) {
        List<Long> ids = new ArrayList<>(cluster.ids());
        ids.removeIf(id -> !cluster.isAlive(id) || cluster.isPaused(id));
        if (ids.isEmpty()) {
            ids = new ArrayList<>(cluster.ids());
        }
        Collections.shuffle(ids, rnd);
        if (how == 2) {
            return ids.subList(0, Math.min(ids.size(), cluster.ids().size() / 2 + 1));
        }
        long leader = how == 1 ? cluster.leader() : 0;
        return List.of(leader != 0 ? leader : ids.get(0));
    }
}
