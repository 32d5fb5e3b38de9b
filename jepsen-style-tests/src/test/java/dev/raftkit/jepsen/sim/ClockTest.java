package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/**
 * What the leader lease assumes (§6.4.1): clocks that tick at nearly the same rate. The lease of
 * electionTicks − leaseDriftTicks (10 − 1) ticks is safe while the followers' clocks run at most
 * 10/9 as fast as the leader's; the CLOCK fault stays within 5%. Far beyond it, the checker sees
 * the stale lease read.
 */
class ClockTest {

    /** Seed 7: node 1 leads when its clock slows and it is cut off; clients still reach it. */
    private static SimResult slowLeaderCutOff(int percent) {
        return Simulator.run(SimOptions.defaults(7).withTicks(500).withClients(12, 2)
                .withFaults(EnumSet.of(Fault.CLOCK, Fault.PARTITION))
                .withSchedule(FaultSchedule.parse("at 100 clock 1 rate " + percent + "% for 300\n"
                        + "at 110 partition isolate 1 for 250")));
    }

    @Test
    void aLeaderWhoseClockRunsFarSlowServesStaleLeaseReads() {
        SimResult r = slowLeaderCutOff(-90);
        assertFalse(r.ok(), "a leader at a tenth of the true rate kept its lease for ten times too long");
        assertTrue(r.violations().get(0).contains("Linearizability"), r.violations().toString());
    }

    @Test
    void withinTheDriftTheLeaseAllowsTheSameRunIsLinearizable() {
        SimResult r = slowLeaderCutOff(-5);
        assertTrue(r.ok(), r.violations().toString());
    }

    @Test
    void wallClockJumpsAndDriftWithinTheBoundPassEveryCheck() {
        SimResult r = SimRunner.firstFailure(SimOptions.defaults(0).withTicks(600)
                .withFaults(EnumSet.of(Fault.CLOCK, Fault.PARTITION, Fault.CRASH)), 1, 15);
        assertTrue(r == null, () -> r.summary() + " " + r.violations());
    }
}
