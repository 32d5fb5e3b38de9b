package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import example.CounterPropertyTest;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScheduleShrinkerTest {

    /** A planted bug's failing seed shrinks to a smaller schedule file that still fails the same way, bit for bit. */
    @Test
    void aFailingRunShrinksToAScheduleFileThatReplaysIt() {
        // A wiped node trusted with its old id: the counter-example needs a wipe among the faults.
        SimOptions broken = SimOptions.defaults(0).withTicks(600)
                .withFaults(EnumSet.of(Fault.PARTITION, Fault.CRASH, Fault.WIPE, Fault.LOSS, Fault.SNAPSHOT, Fault.PAUSE))
                .withHooks(Hooks.named("trust-lost-state"));
        SimResult failing = SimRunner.firstFailure(broken, 1, 200);
        assertNotNull(failing, "trusting a wiped node passed 200 seeds");
        ScheduleShrinker.Outcome o = ScheduleShrinker.shrink(failing, 150);
        System.out.println("seed " + failing.options().seed() + ": " + o.line() + "\n" + o.scheduleFile());
        assertNull(o.refusal());
        assertFalse(o.shrunk().ok());
        assertEquals(ScheduleShrinker.kindOf(failing.violations().get(0)), ScheduleShrinker.kindOf(o.shrunk().violations().get(0)));
        int before = failing.schedule().steps().size();
        int after = o.shrunk().options().schedule().steps().size();
        assertTrue(after < before || o.shrunk().options().ticks() < failing.options().ticks()
                || o.shrunk().options().clients() < failing.options().clients(), o.line());
        assertTrue(o.runs() <= 150);

        // The file carries everything the run used: read back, it is the same run.
        String file = o.scheduleFile();
        assertEquals(o.kind(), ScheduleFile.expected(file));
        SimOptions read = ScheduleFile.read(file, Map.of());
        assertEquals(file, ScheduleFile.write(read, FaultSchedule.EMPTY, o.kind()));
        assertTrue(read.schedule().steps().stream().anyMatch(st -> st.action() instanceof FaultSchedule.Wipe), file);
        SimResult replayed = Simulator.run(read);
        assertEquals(o.shrunk().traceHash(), replayed.traceHash());
        assertEquals(o.kind(), ScheduleShrinker.kindOf(replayed.violations().get(0)));
    }

    /** A counter-example that needs no more than three nodes is shrunk to three. */
    @Test
    void aFiveNodeCounterExampleShrinksToThreeNodes() {
        SimOptions broken = SimOptions.defaults(0).withNodes(5).withTicks(600)
                .withFaults(EnumSet.of(Fault.PARTITION, Fault.CRASH)).withHooks(Hooks.named("ack-before-commit"));
        SimResult failing = SimRunner.firstFailure(broken, 1, 50);
        assertNotNull(failing, "acknowledging before commit passed 50 five-node seeds");
        ScheduleShrinker.Outcome o = ScheduleShrinker.shrink(failing, 60);
        assertEquals(3, o.shrunk().options().nodes(), o.line());
        assertTrue(o.line().contains("5 nodes -> 3"), o.line());
        assertTrue(o.scheduleFile().contains("\nnodes 3\n"), o.scheduleFile());
        assertEquals(o.shrunk().traceHash(), Simulator.run(ScheduleFile.read(o.scheduleFile(), Map.of())).traceHash());
    }

    @Test
    void aRunThatDoesNotReplayIsReportedNotShrunk() {
        SimResult r = Simulator.run(SimOptions.defaults(4).withTicks(200));
        // The same run, claiming a violation and a trace its seed does not reproduce.
        SimResult forged = new SimResult(r.options(), List.of("Linearizability: forged"), r.events(), r.faults(),
                r.history(), r.traceHash() + 1, r.traceEvents(), r.trace(), r.wallNanos(), r.schedule());
        ScheduleShrinker.Outcome o = ScheduleShrinker.shrink(forged, 10);
        assertNotNull(o.refusal());
        assertTrue(o.refusal().startsWith("seed 4 replays differently"), o.refusal());
        assertEquals(1, o.runs());
        assertThrows(IllegalArgumentException.class, () -> ScheduleShrinker.shrink(r, 10), "a passing run has nothing to shrink");
    }

    @Test
    void aFileRefusesWhatItCannotCarry() {
        SimOptions coded = SimOptions.defaults(1).withHooks(new Hooks() {
            @Override
            public boolean ackBeforeCommit() {
                return true;
            }
        });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScheduleFile.write(coded, FaultSchedule.EMPTY, null));
        assertTrue(e.getMessage().contains("hooks were written in code"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> ScheduleFile.read("seed 1\nsm counter\n", Map.of()));
        assertTrue(e.getMessage().contains("state machine 'counter', which is not built in"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleFile.read("nodes 3\n", Map.of()));
        assertTrue(e.getMessage().contains("no 'seed N' line"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleFile.read("seed 1\nhooks eat-data\n", Map.of()));
        assertTrue(e.getMessage().contains("line 2 'hooks eat-data': unknown planted bug 'eat-data'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScheduleFile.read("seed 1\nat 5 crash 1\n", Map.of()));
        assertTrue(e.getMessage().contains("line 2 'at 5 crash 1': 'crash' lasts"), e.getMessage());

        // A user's state machine is named by the caller.
        Workload counter = CounterPropertyTest.counters(CounterPropertyTest.CounterMachine::new);
        SimOptions o = ScheduleFile.read("seed 7\nsm " + counter.name() + "\nat 40 crash 2 for 10\n",
                Map.of(counter.name(), counter));
        assertEquals(counter, o.workload());
        assertEquals(1, o.schedule().steps().size());
    }
}
