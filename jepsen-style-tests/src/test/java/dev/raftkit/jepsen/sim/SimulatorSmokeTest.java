package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SimulatorSmokeTest {
    @Test
    void someSeeds() {
        for (long seed = Long.getLong("from", 1); seed <= Long.getLong("to", 20); seed++) {
            SimResult r = Simulator.run(SimOptions.defaults(seed));
            System.out.println(r.summary() + " " + r.wallNanos() / 1_000_000 + " ms");
            r.violations().forEach(v -> System.out.println("  " + v));
            assertTrue(r.ok(), r.options().replayCommand());
        }
    }
}
