package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.real.RunIndex;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code raftkit jepsen} on real node processes, through the command a user types. Each run is
 * bounded (the harness bounds every wait; the test bounds the whole) and stops its processes.
 */
class JepsenCommandTest {

    private static String[] run(Path report, String... args) {
        StringWriter out = new StringWriter();
        CommandLine cl = Raftkit.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(out));
        String[] all = new String[args.length + 3];
        all[0] = "jepsen";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--report";
        all[args.length + 2] = report.toString();
        int exit = assertTimeoutPreemptively(Duration.ofMinutes(6), () -> cl.execute(all));
        String text = out.toString().strip();
        String[] lines = text.split("\n");
        return new String[] {Integer.toString(exit), lines[lines.length - 1], text};
    }

    @Test
    void threeNodesSurviveKillsAndPartitionsLinearizably(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report");
        RunIndex.write(dir); // an indexed folder of runs, as jepsen-runs/ is by default
        String[] r = run(report, "--nodes", "3", "--time", "50s", "--nemesis", "kill,partition", "--seed", "42");
        assertTrue(r[1].startsWith("valid: "), r[2]);
        assertEquals("0", r[0], r[2]);
        assertTrue(r[2].contains("converged: every node applied index"), r[2]);
        assertTrue(r[1].contains(" anomalies=0 lost-writes=0"), r[1]);
        for (String f : new String[] {"history.jsonl", "nemesis.jsonl", "summary.txt", "report.html", "nodes/n1.log",
                "nodes/n3.log"}) {
            assertTrue(Files.size(report.resolve(f)) > 0, "missing or empty " + f);
        }
        // A kill lasts its hold plus a JVM restart, which on a loaded 2-core box can take 10-20 s,
        // so the count of faults in 50 s varies; two is the floor that still makes the run a test.
        assertTrue(Files.readString(report.resolve("nemesis.jsonl")).lines().count() >= 2,
                "too few faults injected:\n" + Files.readString(report.resolve("nemesis.jsonl")));
        String html = Files.readString(report.resolve("report.html"));
        assertTrue(html.contains("<svg") && html.contains("fill-opacity='0.22'"), "the timeline shades faults");
        assertTrue(html.contains("class='perf-latency'") && html.contains("class='perf-throughput'")
                && html.contains("fill-opacity='0.16'"), "latency and throughput over time, faults shaded");
        String index = Files.readString(dir.resolve("index.html"));
        assertTrue(index.contains("<a href='report/report.html'>report</a>") && index.contains(r[1]),
                "the folder's index lists the run with its verdict: " + index);
    }

    /**
     * The injected disk nemeses on three processes: after the leader's fsyncs stall, another node
     * leads and commits within the stall (the measured time is printed); after its disk is filled,
     * a write there is refused with DISK_FULL, nothing acknowledged is lost, and writes resume once
     * the fill is lifted.
     */
    @Test
    void aStalledLeaderIsReplacedAndAFilledOneRefusesWritesUntilLifted(@TempDir Path dir) throws Exception {
        Path stallReport = dir.resolve("stall");
        String[] r = run(stallReport, "--nodes", "3", "--time", "15s", "--nemesis", "disk-stall", "--seed", "3");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains(" lost-writes=0"), r[2]);
        String stalls = Files.readString(stallReport.resolve("nemesis.jsonl"));
        System.out.println("disk-stall nemesis: " + stalls);
        assertTrue(stalls.contains("fsyncs stalled (injected)") && stalls.contains("committed a write"),
                "no stall, or no new leader committed during it:\n" + stalls);

        Path fillReport = dir.resolve("fill");
        r = run(fillReport, "--nodes", "3", "--time", "15s", "--nemesis", "disk-fill", "--seed", "3");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains(" lost-writes=0"), r[2]);
        String fills = Files.readString(fillReport.resolve("nemesis.jsonl"));
        System.out.println("disk-fill nemesis: " + fills);
        assertTrue(fills.contains("refused with DISK_FULL") && fills.contains("writes resumed"),
                "no DISK_FULL refusal, or writes did not resume:\n" + fills);
    }

    @Test
    void unsafeLocalReadsAreReportedInvalidUnderPartitions(@TempDir Path dir) throws Exception {
        Path report = dir.resolve("report");
        String[] r = run(report, "--nodes", "3", "--time", "20s", "--nemesis", "partition", "--seed", "7",
                "--reads", "local");
        assertTrue(r[1].startsWith("INVALID: "), r[2]);
        assertEquals("1", r[0], r[2]);
        assertTrue(!r[1].contains(" anomalies=0 "), "stale reads must show up as anomalies: " + r[1]);
        String html = Files.readString(report.resolve("report.html"));
        assertTrue(html.contains("stroke='#d50000'"), "anomalies are marked on the timeline");
    }

    @Test
    void badArgumentsSayWhatToWrite(@TempDir Path dir) {
        String[] r = run(dir.resolve("r"), "--nemesis", "kill,meteor");
        assertEquals("2", r[0]);
        assertTrue(r[2].contains("unknown fault 'meteor'"), r[2]);
        String[] t = run(dir.resolve("r2"), "--time", "soon");
        assertEquals("2", t[0]);
        assertTrue(t[2].contains("is not a duration; write e.g. 500ms, 1.5s, 90s"), t[2]);
        String[] m = run(dir.resolve("r3"), "--reads", "linearizable,fresh");
        assertEquals("2", m[0]);
        assertTrue(m[2].contains("--reads: unknown read mode 'fresh'; use linearizable, lease, stale"), m[2]);
    }
}
