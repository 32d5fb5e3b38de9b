package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FaultScheduleTest {

    private static final String EVERY_KIND = """
            # one of each
            at 120 partition isolate 2 for 45
            at 121 partition split 1,3 | 2 for 10
            at 122 partition bridge 1 between 2 | 3 for 10
            at 123 partition ring 1,3,2 for 10
            at 124 partition one-way 1 -> 2 for 10
            at 170 crash 3 for 20
            at 200 crash 1 after-answer for 30
            at 201 crash 2 at snapshot-manifest for 30
            at 260 wipe 2 for 40
            at 261 stale 3 for 40
            at 300 disk 3 eio for 30
            at 301 disk 3 full for 30
            at 302 disk 1 hang for 30
            at 303 disk 2 fill for 30
            at 304 disk 3 slow-fsync for 30
            at 340 corrupt 2 pick 7 for 40
            at 380 clock 3 rate +4% for 50
            at 381 clock 2 jump -2000ms for 50
            at 400 pause 1 for 20
            at 420 slow 2 for 20
            at 450 snapshot 3
            at 470 loss 12% for 30
            at 471 duplicate 8% for 30
            at 472 reorder for 30
            at 520 membership add-learner 4
            at 521 membership remove 2
            at 560 transfer 3
            at 600 backup 2 full
            at 601 backup 2 incremental
            at 602 backup 2 differential
            at 640 restore 2
            at 660 restore 2 gap pick 3
            at 680 restore 2 crash pick 17
            """;

    @Test
    void theTextFormRoundTrips() {
        FaultSchedule s = FaultSchedule.parse(EVERY_KIND);
        assertEquals(33, s.steps().size());
        assertTrue(s.steps().stream().anyMatch(st -> st.action().equals(new FaultSchedule.Backup(2, false, true))));
        assertEquals(s, FaultSchedule.parse(s.text()));
        assertEquals("at 121 partition split 1,3 | 2 for 10", s.steps().get(1).text());
        assertEquals(new FaultSchedule.Crash(1, true), s.steps().get(6).action());
        assertTrue(s.steps().stream().anyMatch(st -> st.action().equals(new FaultSchedule.Fill(2))));
        assertTrue(s.steps().stream().anyMatch(st -> st.action().equals(new FaultSchedule.SlowSync(3))));
        assertEquals(4, s.highestNode());
    }

    @Test
    void badLinesAreNamed() {
        assertMessage("at 10 crash 1", "schedule line 1 'at 10 crash 1': 'crash' lasts: give 'for TICKS'");
        assertMessage("\nat 10 snapshot 1 for 3", "schedule line 2 'at 10 snapshot 1 for 3': 'snapshot' is instant: drop 'for'");
        assertMessage("at x crash 1 for 3", "the tick must be a whole number, got 'x'");
        assertMessage("at 10 explode 1", "unknown action 'explode'");
        assertMessage("at 10 partition split 1,2 for 5", "expected two groups A,B | C,D");
        assertMessage("at 10 loss 120% for 5", "a percentage between 0 and 100, got 120");
        assertMessage("at 10 membership evict 2", "use add-learner, promote, remove or demote");
        assertMessage("at 10 backup 1 partial", "backup N full, or backup N incremental");
        assertMessage("at 10 restore 1 torn pick 2", "restore variant 'torn': use plain, gap, crash, live, concurrent or concurrent-crash");
        assertMessage("at 10 restore 1 crash", "expected 4 arguments after 'restore'");
        assertMessage("crash 1 for 5", "a step reads 'at TICK ACTION [for TICKS]'");
        assertMessage("at 10 crash 0 for 5", "node ids start at 1");
        assertMessage("at 10 crash 1 at lunch for 5", "crash point 'lunch': use append, hard-state");
        assertMessage("at 10 clock 1 rate 5 for 5", "clock N rate +P%, or clock N jump +Mms");
        assertMessage("at 10 clock 1 rate -100% for 5", "a clock rate change between -99% and +1000%");
    }

    private static void assertMessage(String text, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FaultSchedule.parse(text));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void aScheduleForNodesTheRunLacksIsRefused() {
        FaultSchedule s = FaultSchedule.parse("at 50 crash 5 for 10");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SimOptions.defaults(1).withFaults(Fault.parse("crash")).withSchedule(s));
        assertTrue(e.getMessage().contains("names node 5 but the run has 3 nodes"), e.getMessage());
    }

    /** A drawn run and the replay of the schedule it recorded are the same run, event for event. */
    @Test
    void aRecordedScheduleReplaysTheRunBitForBit() {
        SimOptions base = SimOptions.defaults(0).withTicks(600);
        for (long seed = 1; seed <= 6; seed++) {
            SimResult drawn = Simulator.run(base.withSeed(seed));
            assertFalse(drawn.schedule().steps().isEmpty(), "seed " + seed + " drew no fault");
            SimResult replayed = Simulator.run(base.withSeed(seed).withSchedule(
                    FaultSchedule.parse(drawn.schedule().text())));
            assertEquals(drawn.traceHash(), replayed.traceHash(), "seed " + seed + " replays differently");
            assertEquals(drawn.schedule(), replayed.schedule());
            assertEquals(drawn.faults(), replayed.faults());
        }
        SimOptions sql = SimOptions.defaults(3).withTicks(600).withWorkload(new BankWorkload());
        SimResult drawn = Simulator.run(sql);
        assertEquals(drawn.traceHash(), Simulator.run(sql.withSchedule(drawn.schedule())).traceHash());
    }

    @Test
    void aHandWrittenScheduleDoesWhatItSaysAndSkipsWhatTheFaultModelForbids() {
        FaultSchedule s = FaultSchedule.parse("""
                at 100 partition isolate 1 for 30
                at 200 crash 2 for 40
                at 210 crash 2 for 10
                at 220 wipe 3 for 10
                at 300 crash 1 for 5
                at 300 crash 2 for 5
                at 300 crash 3 for 5
                """);
        SimResult r = Simulator.run(SimOptions.defaults(9).withTicks(500).withSchedule(s).withTrace(true));
        assertTrue(r.ok(), r.violations().toString());
        List<String> faults = r.trace().stream().filter(e -> e.kind().equals("fault") || e.kind().equals("skip"))
                .map(e -> e.kind() + " " + e.node() + " " + e.detail()).toList();
        assertEquals(List.of("fault 0 partition isolate 1", "fault 2 crash",
                "skip 2 at 210 crash 2 for 10: node 2 is down",
                "skip 3 at 220 wipe 3 for 10: node 2 is down, paused, recovering or damaged (one node loses state at a time)",
                "fault 1 crash", "fault 2 crash", "fault 3 crash"), faults);
        assertEquals(5, r.schedule().steps().size());
        assertEquals(5, r.faults());
    }

    /**
     * Each crash point fires at the file operation it names, the node is power-cut there (its
     * unsynced writes lost mid-procedure) and restarted, and the run still passes every check.
     */
    @Test
    void eachCrashPointCutsThePowerMidProcedureAndTheNodeRecovers() {
        String[][] cases = {
                {"append", "at 100 crash 1 at append for 20"},
                {"hard-state", "at 100 crash 1 at hard-state for 20\nat 101 partition isolate 1 for 40"},
                {"snapshot-data", "at 100 crash 2 at snapshot-data for 20\nat 101 snapshot 2"},
                {"snapshot-manifest", "at 100 crash 2 at snapshot-manifest for 20\nat 101 snapshot 2"},
                {"snapshot-commit", "at 100 crash 2 at snapshot-commit for 20\nat 101 snapshot 2"},
                // Cut off while the others snapshot and compact, node 3 catches up by InstallSnapshot.
                {"log-meta", "at 40 partition isolate 3 for 400\nat 300 crash 3 at log-meta for 20"},
                {"compaction", "at 100 crash 1 at compaction for 20\nat 400 snapshot 1"},
        };
        for (String[] c : cases) {
            // SNAPSHOT among the kinds: the nodes snapshot every 100 entries and compact.
            SimResult r = Simulator.run(SimOptions.defaults(5).withTicks(600)
                    .withFaults(java.util.EnumSet.of(Fault.CRASH, Fault.SNAPSHOT))
                    .withSchedule(FaultSchedule.parse(c[1])).withTrace(true));
            assertTrue(r.ok(), c[0] + ": " + r.violations());
            assertTrue(r.trace().stream().anyMatch(e -> e.kind().equals("fault") && e.detail().equals("power cut at " + c[0])),
                    c[0] + " never fired");
        }
    }

    /**
     * A leader whose fsyncs hang steps down within diskStallTicks (handing leadership to a
     * caught-up follower), and another leads while the disk hangs; the run passes every check.
     * With the step-down switched off, the simulator sees the hung leader.
     */
    @Test
    void aLeaderWhoseDiskHangsStepsDownAndTheCheckSeesOneThatDoesNot() {
        boolean leaderHung = false;
        for (long node = 1; node <= 3; node++) {
            FaultSchedule s = FaultSchedule.parse("at 100 disk " + node + " hang for 120");
            SimOptions options = SimOptions.defaults(4).withTicks(500).withFaults(java.util.EnumSet.of(Fault.SLOW))
                    .withSchedule(s).withTrace(true);
            SimResult r = Simulator.run(options);
            assertTrue(r.ok(), "node " + node + ": " + r.violations());
            long n = node;
            java.util.Optional<TraceEvent> down = r.trace().stream()
                    .filter(e -> e.node() == n && e.kind().equals("stepped-down")).findFirst();
            if (down.isPresent()) {
                leaderHung = true;
                long t = down.get().timeMicros();
                assertTrue(t > 100 * SimOptions.TICK_MICROS && t <= (100 + 25) * SimOptions.TICK_MICROS, "stepped down at " + t);
                assertTrue(r.trace().stream().anyMatch(e -> e.node() != n && e.kind().equals("role")
                        && e.detail().startsWith("leader") && e.timeMicros() > t
                        && e.timeMicros() < 220 * SimOptions.TICK_MICROS), "no other leader while node " + n + "'s disk hung");
                SimResult planted = Simulator.run(options.withHooks(Hooks.named("ignore-disk-stall")));
                assertTrue(planted.violations().stream().anyMatch(v -> v.contains("Hung leader")), planted.violations().toString());
            }
        }
        assertTrue(leaderHung, "the leader at tick 100 never had its disk hung");
    }

    /**
     * A follower restarted on an older copy of its data directory cannot tell; its leader finds it
     * out at its first append (the entry it acknowledged, named), and it recovers: no check fails.
     * The copy is never put back on the leader (nobody else knows what it acknowledged).
     */
    @Test
    void aFollowerRestartedOnAnOlderCopyOfItsDirectoryIsFoundOutByItsLeader() {
        int foundOut = 0;
        for (long node = 1; node <= 3; node++) {
            SimResult r = Simulator.run(SimOptions.defaults(4).withTicks(500).withFaults(java.util.EnumSet.of(Fault.WIPE))
                    .withSchedule(FaultSchedule.parse("at 100 stale " + node + " for 100")).withTrace(true));
            assertTrue(r.ok(), "node " + node + ": " + r.violations());
            long n = node;
            boolean restored = r.trace().stream().anyMatch(e -> e.node() == n && e.kind().equals("stale"));
            boolean found = r.trace().stream().anyMatch(e -> e.node() == n && e.kind().equals("lost-state-found"));
            boolean skipped = r.trace().stream().anyMatch(e -> e.kind().equals("skip") && e.detail().contains("leads"));
            assertTrue(restored == found, "node " + n + ": restored " + restored + ", found out " + found);
            assertTrue(restored || skipped, "node " + n + ": neither restored nor skipped as the leader");
            foundOut += found ? 1 : 0;
        }
        assertEquals(2, foundOut, "both followers found out");
    }
}
