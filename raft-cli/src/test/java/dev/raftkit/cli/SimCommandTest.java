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
    void aSeedWritesItsReport(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("r");
        CliRun r = CliRun.of("sim", "--seed", "5", "--ticks", "200", "--report", report.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("report: " + report.resolve("index.html")), r.out());
        assertTrue(Files.readString(report.resolve("index.html")).contains("data-role='leader'"));
        assertTrue(Files.readAllLines(report.resolve("trace.jsonl")).get(0).contains("\"format\":\"raftkit-sim-trace\""));
        r = CliRun.of("sim", "--seeds", "2", "--report", report.toString());
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("--trace, --history and --report need --seed S"), r.all());
    }

    @Test
    void theBankRunsOnReplicatedSqlAndItsReplayNamesIt() {
        CliRun r = CliRun.of("sim", "--seed", "3", "--ticks", "200", "--sm", "sql");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().matches("(?s).*seed 3: ok, [1-9][0-9]* ops .*1 runs, 0 violations, .*"), r.out());
    }

    @Test
    void anUnknownStateMachineIsRefusedWithTheKnownOnes() {
        CliRun r = CliRun.of("sim", "--sm", "graph");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("--sm: unknown state machine 'graph'; use kv or sql"), r.err());
        r = CliRun.of("sim", "--sm", "sql", "--unsafe-local-reads");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("--unsafe-local-reads needs --sm kv"), r.err());
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
