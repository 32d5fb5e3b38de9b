package dev.raftkit.jepsen.real;

import dev.raftkit.grpc.RaftClient;
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
 * </ul>
 */
public final class Nemesis implements Runnable {

    /** The fault kinds this nemesis knows. */
    public static final Set<String> KINDS = Set.of("kill", "pause", "partition", "disk", "membership");

    private final Cluster cluster;
    private final List<String> kinds;
    private final Random rnd;
    private final long deadlineNanos;
    private final Duration restartTimeout = Duration.ofSeconds(60);
    private final List<FaultEvent> events = Collections.synchronizedList(new ArrayList<>());
    private volatile Throwable failure;

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
        String what = rnd.nextBoolean() ? DiskFaults.tearOpenTail(cluster.dataDir(v), rnd)
                : DiskFaults.flipBit(cluster.dataDir(v), rnd);
        TimeUnit.MILLISECONDS.sleep(hold);
        StringBuilder d = new StringBuilder("node ").append(v).append(" killed; ").append(what).append("; restarted");
        describe(d, cluster.restart(v, restartTimeout));
        events.add(new FaultEvent("disk", d.toString(), start, System.nanoTime()));
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
