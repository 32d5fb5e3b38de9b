package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimCommandTest {

    @Test
    void aFewSeedsPassAndTheLastLineCountsRunsAndViolations() {
        CliRun r = CliRun.of("sim", "--seeds", "4", "--ticks", "300");
        assertEquals(0, r.exit(), r.out() + r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("4 runs, 0 violations, .* events/s\\)"), lines[lines.length - 1]);
    }

    @Test
    void unsafeLocalReadsAreReportedWithAReplayCommandAndExitOne() {
        CliRun r = CliRun.of("sim", "--seeds", "40", "--faults", "partition", "--clients", "12", "--keys", "2",
                "--ticks", "600", "--unsafe-local-reads");
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.out().contains("Linearizability"), r.out());
        assertTrue(r.out().contains("replay: ./raftkit sim --seed "), r.out());
    }

    @Test
    void aSeedWritesItsTraceAndHistory(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("t.jsonl");
        Path history = dir.resolve("h.jsonl");
        CliRun r = CliRun.of("sim", "--seed", "5", "--ticks", "200", "--trace", trace.toString(), "--history", history.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(Files.readAllLines(trace).size() > 100);
        assertTrue(Files.readString(history).contains("\"invoke\""));
    }

    @Test
    void badArgumentsGetAClearErrorAndExitTwo() {
        CliRun r = CliRun.of("sim", "--faults", "earthquake");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown fault 'earthquake'"), r.err());
        assertEquals(2, CliRun.of("sim", "--nodes", "4").exit());
        assertEquals(2, CliRun.of("sim", "--seeds", "3", "--trace", "x.jsonl").exit());
    }
}
