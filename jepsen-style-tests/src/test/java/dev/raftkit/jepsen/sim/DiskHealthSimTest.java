package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The simulator's fill and slow-fsync faults on the leader: a filled leader refuses writes with
 * DISK_FULL (the checker fails an acknowledged one) and accepts them again once space is freed;
 * a leader whose fsyncs are slower than diskSlowMillis steps down and another node leads within
 * the bound (the checker fails a leader that keeps leading). Each planted bug is caught.
 */
class DiskHealthSimTest {

    private static final long T = SimOptions.TICK_MICROS;

    @Test
    void aFilledLeaderRefusesWritesWithDiskFullAndAcceptsThemOnceSpaceIsFreed() {
        boolean refusedAtLeader = false;
        for (long node = 1; node <= 3; node++) {
            FaultSchedule s = FaultSchedule.parse("at 100 disk " + node + " fill for 150");
            SimOptions options = SimOptions.defaults(7).withTicks(500).withFaults(EnumSet.of(Fault.DISK))
                    .withSchedule(s).withTrace(true);
            SimResult r = Simulator.run(options);
            assertTrue(r.ok(), "node " + node + ": " + r.violations());
            long n = node;
            List<TraceEvent> refusals = r.trace().stream().filter(e -> e.node() == n && e.kind().equals("complete")
                    && e.detail().contains("DISK_FULL")).toList();
            if (refusals.isEmpty()) {
                continue; // it did not lead while filled
            }
            refusedAtLeader = true;
            assertTrue(refusals.stream().allMatch(e -> e.timeMicros() > 100 * T && e.timeMicros() < 290 * T),
                    "DISK_FULL outside the fill (and its poll interval): " + refusals);
            // Writes resume after the fill is lifted, without a restart.
            assertTrue(r.trace().stream().anyMatch(e -> e.kind().equals("complete") && e.detail().endsWith(" ok")
                    && e.timeMicros() > 290 * T), "no write acknowledged after the fill was lifted");
            SimResult planted = Simulator.run(options.withHooks(Hooks.named("ignore-disk-full")));
            assertTrue(planted.violations().stream().anyMatch(v -> v.contains("Full disk accepted")),
                    planted.violations().toString());
        }
        assertTrue(refusedAtLeader, "no filled node led: the schedule missed the leader on every node");
    }

    @Test
    void aLeaderWithSlowFsyncsStepsDownAndAnotherLeadsWithinTheBound() {
        boolean failedOver = false;
        for (long node = 1; node <= 3; node++) {
            FaultSchedule s = FaultSchedule.parse("at 100 disk " + node + " slow-fsync for 150");
            SimOptions options = SimOptions.defaults(4).withTicks(500).withFaults(EnumSet.of(Fault.SLOW))
                    .withSchedule(s).withTrace(true);
            SimResult r = Simulator.run(options);
            assertTrue(r.ok(), "node " + node + ": " + r.violations());
            long n = node;
            Optional<TraceEvent> next = r.trace().stream().filter(e -> e.node() == n && e.kind().equals("check")
                    && e.detail().startsWith("slow fsync: node ")).findFirst();
            if (next.isEmpty()) {
                continue; // it did not lead with a slow disk
            }
            failedOver = true;
            r.trace().stream().filter(e -> e.node() == n && e.kind().equals("check")
                    && e.detail().startsWith("slow fsync: the leader")).forEach(e -> System.out.println(e.detail()));
            System.out.println("slow-fsync leader " + n + ": " + next.get().detail());
            long ms = Long.parseLong(next.get().detail().replaceAll(".*, (\\d+) ms after.*", "$1"));
            assertTrue(ms * 1000 <= SimHost.SLOW_LEADER_BOUND_MICROS + 2 * 10 * T,
                    "failover took " + ms + " ms: " + next.get().detail());
            SimResult planted = Simulator.run(options.withHooks(Hooks.named("ignore-disk-stall")));
            assertTrue(planted.violations().stream().anyMatch(v -> v.contains("Hung leader")),
                    planted.violations().toString());
        }
        assertTrue(failedOver, "no slow-fsync node led");
    }
}
