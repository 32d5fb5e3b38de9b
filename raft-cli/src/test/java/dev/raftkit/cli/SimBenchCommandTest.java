package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SimBenchCommandTest {

    @Test
    void aShortBenchmarkRunsTheSimulatorInAFreshJvmAndPrintsItsRates() {
        CliRun r = CliRun.of("bench", "sim", "--seeds", "2", "--nodes", "3", "--rounds", "1", "--sim-args", "--ticks 200");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("round 1, 3 nodes, this build: 2 runs, 0 violations"), r.all());
        assertTrue(r.out().matches("(?s).*3 nodes, this build: median [0-9,]+ events/s, [0-9,]+ seeds/minute.*"), r.all());
    }

    @Test
    void aMissingBaselineOrABadSizeIsRefused() {
        CliRun r = CliRun.of("bench", "sim", "--baseline-jar", "/nonexistent/raftkit.jar");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("--baseline-jar /nonexistent/raftkit.jar is not a file"), r.all());
        r = CliRun.of("bench", "sim", "--nodes", "4");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("--nodes takes 3, 5 or 7, got 4"), r.all());
    }
}
