package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Live restores (hot recovery) in the simulator, under its faults: the running cluster rolled back
 * to a backup chain's state while clients go on, judged by the linearizability checker (the history
 * records each switch as a write of every key, so a read after a switch that sees an older value,
 * or one before it that sees the backup's, is a violation) and by the safety checker (replicas
 * must hold the same state after the switch's index). A member down during a switch fetches the
 * staged image when it reaches the entry.
 */
class LiveRestoreSimTest {

    private static final String SCHEDULE = """
            at 80 backup 1 full
            at 160 backup 1 incremental
            at 200 crash 3 for 150
            at 220 restore 1 live
            at 300 partition isolate 2 for 40
            at 420 backup 1 incremental
            at 460 restore 1 live
            at 470 crash 1 for 30
            """;

    @Test
    void aLiveClusterIsRolledBackUnderFaultsAndEveryCheckerHolds() {
        int switchedRuns = 0;
        for (long seed = 1; seed <= 4; seed++) {
            SimOptions o = SimOptions.defaults(seed).withTicks(700)
                    .withFaults(EnumSet.of(Fault.BACKUP, Fault.CRASH, Fault.PARTITION))
                    .withSchedule(FaultSchedule.parse(SCHEDULE)).withTrace(true);
            SimResult r = Simulator.run(o);
            assertTrue(r.ok(), "seed " + seed + ": " + r.violations());
            List<TraceEvent> switched = r.trace().stream()
                    .filter(e -> e.kind().equals("restore") && e.detail().startsWith("live restore: state switched"))
                    .toList();
            if (switched.isEmpty()) {
                continue;
            }
            switchedRuns++;
            // Every member switched, at the same index each time.
            for (long node = 1; node <= 3; node++) {
                long n = node;
                assertTrue(switched.stream().anyMatch(e -> e.node() == n), "seed " + seed + ": node " + node
                        + " never switched: " + switched);
            }
            long distinctIndexes = switched.stream().map(e -> e.detail().replaceAll(".* at index ", "")).distinct().count();
            long switchesProposed = r.trace().stream().filter(e -> e.kind().equals("fault")
                    && e.detail().startsWith("restore live")).count();
            assertTrue(distinctIndexes <= switchesProposed, "seed " + seed + ": replicas switched at "
                    + distinctIndexes + " indexes for " + switchesProposed + " switches: " + switched);
            // Node 3 was down for the first switch: it fetched the image before applying past it.
            assertTrue(r.trace().stream().anyMatch(e -> e.kind().equals("staged") && e.node() == 3),
                    "seed " + seed + ": node 3 did not fetch the staged image");
        }
        assertTrue(switchedRuns >= 2, "only " + switchedRuns + " of 4 runs switched at all");
    }

    @Test
    void aReplicaThatPassesTheSwitchWithoutTheImageIsCaught() {
        // The planted bug: node 3, down for the first switch, passes it without the image when it
        // comes back, keeping its old state where the others switched.
        boolean caught = false;
        for (long seed = 1; seed <= 4 && !caught; seed++) {
            SimResult r = Simulator.run(SimOptions.defaults(seed).withTicks(700)
                    .withFaults(EnumSet.of(Fault.BACKUP, Fault.CRASH, Fault.PARTITION))
                    .withSchedule(FaultSchedule.parse(SCHEDULE)).withHooks(Hooks.named("skip-unheld-state-switch")));
            caught = !r.ok();
        }
        assertTrue(caught, "a replica that skipped a live restore's switch passed every checker on 4 seeds");
    }

    @Test
    void theLiveVariantRoundTripsInScheduleFiles() {
        FaultSchedule s = FaultSchedule.parse("at 10 restore 2 live\n");
        assertEquals("at 10 restore 2 live", s.steps().get(0).text());
        assertEquals(s, FaultSchedule.parse(s.text()));
        assertFalse(s.steps().get(0).action().held());
    }
}
