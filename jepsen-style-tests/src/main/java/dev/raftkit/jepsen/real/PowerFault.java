package dev.raftkit.jepsen.real;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The {@code power} fault of the {@link Nemesis}: power loss on real processes. Each victim is
 * SIGKILLed and, unlike a plain kill, loses everything it had not fsync'd: its next start rolls
 * its data directory back to what was durable ({@link PowerLossFileIo}, which the node must run
 * over: {@code --testing-lose-unsynced true}). Two shapes, taken in turn (coordinated first, so
 * that even a short run has the one that can lose a quorum's writes; any run with two power
 * faults has both):
 *
 * <ul>
 *   <li>coordinated power loss: every node at once (all signalled before any is waited for).
 *       Nothing acknowledged may be lost: an acknowledgement needs a quorum's fsync, so every
 *       quorum still holds it after the power comes back;
 *   <li>a minority (one node up to ⌊(n−1)/2⌋, drawn from the nemesis's seed, the leader among
 *       them half of the time): the others keep a quorum, and the victims must catch up.
 * </ul>
 *
 * <p>Used on the nemesis thread only; blocks for the hold and the restarts.
 */
final class PowerFault {

    private int injected;

    /** Cuts the power, holds {@code holdMillis}, restarts the victims; the timeline entry says what happened. */
    FaultEvent inject(Cluster cluster, Random rnd, long holdMillis, Duration restartTimeout) throws Exception {
        List<Long> ids = new ArrayList<>(cluster.ids());
        boolean all = injected++ % 2 == 0;
        List<Long> victims;
        if (all) {
            victims = ids;
        } else {
            ids.removeIf(id -> !cluster.isAlive(id) || cluster.isPaused(id));
            if (ids.isEmpty()) {
                ids = new ArrayList<>(cluster.ids());
            }
            Collections.shuffle(ids, rnd);
            long leader = rnd.nextBoolean() ? cluster.leader() : 0;
            if (leader != 0 && ids.remove(leader)) {
                ids.add(0, leader);
            }
            int minority = Math.max(1, (cluster.ids().size() - 1) / 2);
            victims = List.copyOf(ids.subList(0, Math.min(ids.size(), 1 + rnd.nextInt(minority))));
        }
        long start = System.nanoTime();
        cluster.killAll(victims);
        TimeUnit.MILLISECONDS.sleep(holdMillis);
        StringBuilder d = new StringBuilder(all ? "coordinated power loss on every node " : "power loss on ")
                .append(victims).append(" (SIGKILL, unsynced writes lost), restarted");
        for (Cluster.Restart r : cluster.restartAll(victims, restartTimeout)) {
            if (r.replaced()) {
                d.append("; node ").append(r.node()).append(" REFUSED its data (").append(r.reason())
                        .append(") and was replaced by new node ").append(r.replacement());
            }
        }
        return new FaultEvent("power", d.toString(), start, System.nanoTime());
    }
}
