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
        assertTrue(lines[lines.length - 1].matches("4 runs, 0 violations, .* events/s; longest run seed [1-4], [0-9.]+ s\\)"), lines[lines.length - 1]);
    }

    @Test
    void unsafeLocalReadsAreReportedWithAReplayCommandAndExitOne(@TempDir Path dir) {
        CliRun r = CliRun.of("sim", "--seeds", "40", "--faults", "partition", "--clients", "12", "--keys", "2",
                "--ticks", "600", "--unsafe-local-reads", "--schedule-out", dir.resolve("s").toString());
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.out().contains("Linearizability"), r.out());
        assertTrue(r.out().contains("replay: ./raftkit sim --seed "), r.out());
    }

    @Test
    void aPlantedBugIsCaughtShrunkAndReplayedFromItsScheduleFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("caught.schedule");
        CliRun r = CliRun.of("sim", "--seeds", "20", "--ticks", "300", "--faults", "partition,crash,wipe",
                "--plant", "trust-lost-state", "--schedule-out", file.toString());
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.out().contains("replay: ./raftkit sim --seed ") && r.out().contains("--plant trust-lost-state"), r.out());
        assertTrue(r.out().contains("shrunk in "), r.out());
        assertTrue(r.out().contains("replay: ./raftkit sim --replay " + file), r.out());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("20 runs, [1-9][0-9]* violations, .*"), lines[lines.length - 1]);
        String schedule = Files.readString(file);
        assertTrue(schedule.contains("hooks trust-lost-state") && schedule.contains("expect Lost state trusted"), schedule);

        r = CliRun.of("sim", "--replay", file.toString());
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.out().contains("Lost state trusted") && r.out().contains("the file expects Lost state trusted: see"),
                r.out());

        // Fixed: the same schedule without the planted bug passes, and says the bug it pinned is gone.
        Path fixed = dir.resolve("fixed.schedule");
        Files.writeString(fixed, schedule.replace("hooks trust-lost-state", "hooks none"));
        r = CliRun.of("sim", "--replay", fixed.toString());
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("but the run passed"), r.out());
    }

    @Test
    void aBadScheduleFileIsRefusedNamingTheLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.schedule");
        Files.writeString(file, "seed 3\nnodes 3\nat 40 crash 9 for 10\n");
        CliRun r = CliRun.of("sim", "--replay", file.toString());
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("the schedule names node 9 but the run has 3 nodes"), r.err());
        Files.writeString(file, "seed 3\nat 40 melt 2\n");
        r = CliRun.of("sim", "--replay", file.toString());
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("line 2 'at 40 melt 2': unknown action 'melt'"), r.err());
        r = CliRun.of("sim", "--replay", dir.resolve("none").toString());
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("--replay: no such file"), r.err());
        r = CliRun.of("sim", "--seeds", "2", "--plant", "eat-data");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("--plant: unknown planted bug 'eat-data'; known: none, send-before-persist"), r.err());
        String help = CliRun.of("sim", "--help").out().replaceAll("\\s+", " ");
        for (String bug : dev.raftkit.jepsen.sim.Hooks.PLANTED) {
            assertTrue(help.contains(bug), "--help does not list the planted bug " + bug + ": " + help);
        }
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
        assertTrue(r.err().contains("--sm: unknown state machine 'graph'; use kv, sql or sql-append"), r.err());
        r = CliRun.of("sim", "--sm", "sql", "--unsafe-local-reads");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("--unsafe-local-reads needs --sm kv"), r.err());
    }

    @Test
    void sqlAppendNamesTheSplitTransactionBugAndPassesWithoutIt() {
        CliRun ok = CliRun.of("sim", "--seed", "1", "--ticks", "200", "--faults", "crash,partition", "--sm", "sql-append");
        assertEquals(0, ok.exit(), ok.all());
        CliRun r = CliRun.of("sim", "--seed", "1", "--ticks", "200", "--faults", "crash,partition", "--sm", "sql-append",
                "--plant", "split-sql-transactions", "--no-shrink");
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.out().contains("Transactional isolation") && r.out().contains(" G0="), r.out());
        r = CliRun.of("sim", "--seeds", "1", "--plant", "split-sql-transactions");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("--plant split-sql-transactions needs --sm sql-append"), r.err());
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
