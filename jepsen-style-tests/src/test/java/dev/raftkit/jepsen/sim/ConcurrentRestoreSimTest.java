package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Concurrent recovery in the simulator: a backup chain restored into several spare directories in
 * one call of the multi-directory restore (the seeding of a new cluster), under crashes and
 * partitions of the cluster and power cuts in the middle of the restore. Every directory must hold
 * the same bytes, a node started on one must reach the cluster's state at the target, a cut
 * before every directory was written must leave none, and the next restore must succeed.
 */
class ConcurrentRestoreSimTest {

    /** Power cuts at file operations spread over a three-directory restore: while written, while published. */
    /**
     * Power cuts at file operations spread over the restores (a three-directory one makes 162 at
     * seed 7): while the directories are written, while the state is checked, between the
     * publication's renames (158, 160), and past the end (no cut).
     */
    static final String SCHEDULE = """
            at 80 backup 1 full
            at 160 backup 1 incremental
            at 200 crash 3 for 100
            at 220 restore 1 concurrent 3
            at 240 backup 1 differential
            at 260 restore 1 concurrent 3 crash pick 2
            at 280 restore 1 concurrent 3 crash pick 25
            at 300 restore 1 concurrent 3 crash pick 60
            at 320 partition isolate 2 for 40
            at 340 restore 1 concurrent 2 crash pick 45
            at 360 backup 1 incremental
            at 380 restore 1 concurrent 3 crash pick 150
            at 400 restore 1 concurrent 3 crash pick 156
            at 410 restore 1 concurrent 3 crash pick 158
            at 420 restore 1 concurrent 3 crash pick 160
            at 430 restore 1 concurrent 3 crash pick 100000
            at 440 restore 1 concurrent 2
            """;

    static SimOptions options(long seed) {
        return SimOptions.defaults(seed).withTicks(600)
                .withFaults(EnumSet.of(Fault.BACKUP, Fault.CRASH, Fault.PARTITION))
                .withSchedule(FaultSchedule.parse(SCHEDULE)).withTrace(true);
    }

    @Test
    void aChainRestoredIntoSeveralDirectoriesAtOnceHoldsTheClustersStateUnderPowerCuts() {
        SimResult r = Simulator.run(options(7));
        assertTrue(r.ok(), r.violations().toString());
        List<TraceEvent> restores = r.trace().stream().filter(e -> e.kind().equals("restore")).toList();
        List<String> details = restores.stream().map(TraceEvent::detail).toList();
        // Each restore, cut or not, ends with a node started on one directory and the others equal to it.
        long started = details.stream().filter(d -> d.contains("directories at once, all byte for byte equal")).count();
        assertEquals(11, started, details.toString());
        assertTrue(details.stream().filter(d -> d.startsWith("applied up to")).count() >= 11, details.toString());
        // Cuts came where none was published yet, and between renames, where some were.
        assertTrue(details.stream().anyMatch(d -> d.matches(".*cut by a power loss.*; 0 there after it")),
                details.toString());
        assertTrue(details.stream().anyMatch(d -> d.matches(".*cut by a power loss.*; [1-2] there after it")),
                details.toString());
        assertTrue(details.stream().anyMatch(d -> d.matches(".*made [0-9]+ file operations.*no power cut")),
                details.toString());
    }

    @Test
    void theSameSeedReplaysTheSameRun() {
        SimResult a = Simulator.run(options(3));
        SimResult b = Simulator.run(options(3));
        assertTrue(a.ok(), a.violations().toString());
        assertEquals(a.trace(), b.trace());
    }

    @Test
    void aRestoreThatPublishesADirectoryBeforeAllAreWrittenIsCaught() {
        SimResult r = Simulator.run(options(7).withHooks(Hooks.named("publish-restored-directories-early")));
        assertFalse(r.ok(), "a restore that published directories early passed every checker");
        assertTrue(r.violations().stream().anyMatch(v -> v.contains("published before all were written")),
                r.violations().toString());
    }

    @Test
    void theConcurrentVariantsRoundTripInScheduleFiles() {
        FaultSchedule s = FaultSchedule.parse("at 10 restore 2 concurrent 3\nat 20 restore 1 concurrent 2 crash pick 17\n");
        assertEquals("at 10 restore 2 concurrent 3", s.steps().get(0).text());
        assertEquals("at 20 restore 1 concurrent 2 crash pick 17", s.steps().get(1).text());
        assertEquals(new FaultSchedule.Restore(1, "concurrent-crash", 17, 2), s.steps().get(1).action());
        assertEquals(s, FaultSchedule.parse(s.text()));
        assertFalse(s.steps().get(0).action().held());
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
                () -> FaultSchedule.parse("at 10 restore 2 concurrent 1\n"));
        assertTrue(one.getMessage().contains("2 to " + FaultSchedule.Restore.MAX_COPIES), one.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FaultSchedule.parse("at 10 restore 2 concurrent 3 pick 4\n"));
        assertThrows(IllegalArgumentException.class, () -> new FaultSchedule.Restore(2, "plain", 0, 3));
    }
}
