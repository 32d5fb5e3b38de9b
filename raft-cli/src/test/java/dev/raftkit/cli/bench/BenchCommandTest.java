package dev.raftkit.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.cli.Raftkit;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Runs {@code raftkit bench} with tiny settings so the command never rots. */
class BenchCommandTest {

    @TempDir
    Path tmp;

    private record Run(int exit, String out, String err) {
        List<String> csvRows() {
            return Arrays.stream(out.split("\n")).filter(l -> l.startsWith("csv,") && !l.startsWith("csv,mode,"))
                    .collect(Collectors.toList());
        }
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Raftkit.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void bothClientModesCommitWritesAndReportTheMachinesLimits() {
        Run r = run("bench", "--clients", "1", "--client-mode", "grpc,in-process", "--warmup", "200ms",
                "--duration", "1s", "--probe", "100ms", "--prewarm", "300ms", "--dir", tmp.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        for (String mode : List.of("grpc", "in-process")) { // each mode's own code is warmed, not just the first's
            assertTrue(r.err().contains("JIT prewarm: kv, " + mode + ", 16 clients"), r.err());
        }
        assertTrue(r.out().contains("physical limits: raw 4 KiB write+fdatasync"), r.out());
        assertTrue(r.out().contains("| client mode | metrics | clients | ops/s |"), r.out());
        List<String> rows = r.csvRows();
        assertEquals(2, rows.size(), r.out());
        for (String row : rows) {
            String[] f = row.split(",");
            assertEquals("1", f[3], row);                        // clients
            assertTrue(Long.parseLong(f[6]) > 0, row);            // ops in the window
            assertTrue(Double.parseDouble(f[11]) > 0, row);       // leader fsyncs/s: the log is synced
            assertEquals("0", f[17], row);                        // errors
        }
        assertTrue(rows.get(0).startsWith("csv,grpc,"), rows.get(0));
        assertTrue(rows.get(1).startsWith("csv,in-process,"), rows.get(1));
    }

    @Test
    void aReadMixSendsMostOperationsAsReadsNotThroughTheLog() {
        for (String mode : List.of("linearizable", "lease")) {
            Run r = run("bench", "--clients", "2", "--client-mode", "grpc,in-process", "--warmup", "200ms",
                    "--duration", "1s", "--probe", "0s", "--read-percent", "90", "--read-mode", mode,
                    "--dir", tmp.toString());
            assertEquals(0, r.exit(), r.out() + r.err());
            assertTrue(r.out().contains("90% " + mode + " point reads, 10% writes"), r.out());
            for (String row : r.csvRows()) {
                String[] f = row.split(",");
                double opsPerSec = Double.parseDouble(f[7]);
                double entriesPerSec = Double.parseDouble(f[11]) * Double.parseDouble(f[12]);
                assertTrue(opsPerSec > 0 && entriesPerSec > 0, row);
                // One write in ten is an entry; reads add none (ReadIndex and leases read no log).
                assertTrue(entriesPerSec < 0.4 * opsPerSec, "entries/s " + entriesPerSec + " of ops/s " + opsPerSec
                        + ": " + row);
                assertEquals("0", f[17], row);
                assertEquals("90", f[27], row);   // read_percent
                assertEquals(mode, f[28], row);   // read_mode
            }
        }
    }

    @Test
    void aShortRunWritesAReportWithOneSeriesPerSettingInEveryChart() throws Exception {
        Path csv = tmp.resolve("out").resolve("run.csv");
        java.nio.file.Files.createDirectories(csv.getParent());
        Run r = run("bench", "--clients", "1,4", "--client-mode", "in-process", "--warmup", "200ms",
                "--duration", "2s", "--probe", "0s", "--dir", tmp.toString(), "--csv", csv.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        Path report = csv.resolveSibling("run.html");
        assertTrue(r.out().contains("report: " + report), r.out());
        String html = java.nio.file.Files.readString(report);
        assertTrue(!html.replace("http://www.w3.org/2000/svg", "").contains("http"),
                "self-contained: no address but the SVG namespace");
        for (String chart : List.of("bench-throughput", "bench-latency-p50", "bench-latency-p99", "bench-cdf")) {
            int at = html.indexOf("class='" + chart + "'");
            assertTrue(at >= 0, chart + " missing");
            String svg = html.substring(at, html.indexOf("</svg>", at));
            assertEquals(2, svg.split("<path class='series'", -1).length - 1, chart + ": one line per setting");
            assertTrue(svg.contains("raftkit kv in-process, 1 client"), chart);
            assertTrue(svg.contains("raftkit kv in-process, 4 clients"), chart);
        }
        // The table's ops agree with the CSV's: both come from the same histogram.
        for (String row : r.csvRows()) {
            String ops = row.split(",")[6];
            assertTrue(html.contains("<td>" + ops + "</td>"), ops + " not in the report's table");
        }
        // Two seconds measured: two points of throughput per setting.
        int at = html.indexOf("class='bench-throughput'");
        String path = html.substring(html.indexOf("<path class='series' d='", at));
        path = path.substring(0, path.indexOf("'", "<path class='series' d='".length()));
        assertEquals(2, path.split("L", -1).length, path);
    }

    @Test
    void sqlRunsEachSettingOnASqlAndAKeyValueClusterAndPrintsTheRatioOfEachRound() {
        Run r = run("bench", "--sm", "sql", "--clients", "2", "--rounds", "2", "--warmup", "200ms", "--duration", "1s",
                "--probe", "0s", "--dir", tmp.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("| round | state machine | client mode | metrics | clients | ops/s |"), r.out());
        List<String> rows = r.csvRows();
        assertEquals(4, rows.size(), r.out());
        double[] opsPerSec = new double[4];
        for (int i = 0; i < 4; i++) {
            String[] f = rows.get(i).split(",");
            assertEquals(i % 2 == 0 ? "kv" : "sql", f[23], rows.get(i));  // state_machine, each round
            assertEquals("off", f[24], rows.get(i));                   // metrics, off by default
            assertEquals("0,-", f[27] + "," + f[28], rows.get(i));     // writes only
            assertEquals("2", f[3], rows.get(i));
            assertTrue(Long.parseLong(f[6]) > 0, rows.get(i));      // writes applied in the window
            assertTrue(Double.parseDouble(f[11]) > 0, rows.get(i)); // the Raft log is fsync'd
            assertEquals("0", f[17], rows.get(i));                  // no write failed or answered an error
            opsPerSec[i] = Double.parseDouble(f[7]);
        }
        // Each round's SQL against that round's key-value, not against every round's. (The figures
        // are compared within their printed precision: the CSV's ops/s has one decimal.)
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("SQL vs key-value, grpc, 2 clients, round (\\d):"
                + " (\\d+) SQL INSERTs/s vs (\\d+) key-value puts/s = (\\d+\\.\\d\\d)").matcher(r.out());
        double[] ratios = new double[2];
        for (int round = 1; round <= 2; round++) {
            assertTrue(m.find(), "round " + round + "'s ratio in\n" + r.out());
            assertEquals(round, Integer.parseInt(m.group(1)), m.group());
            assertEquals(opsPerSec[2 * round - 1], Double.parseDouble(m.group(2)), 0.51, m.group()); // SQL
            assertEquals(opsPerSec[2 * round - 2], Double.parseDouble(m.group(3)), 0.51, m.group()); // its round's KV
            ratios[round - 1] = Double.parseDouble(m.group(4));
            assertEquals(opsPerSec[2 * round - 1] / opsPerSec[2 * round - 2], ratios[round - 1], 0.006, m.group());
        }
        assertEquals(3, r.out().split("SQL vs key-value", -1).length - 1, r.out());
        m = java.util.regex.Pattern.compile("SQL vs key-value, grpc, 2 clients: ×(\\d+\\.\\d\\d) \\((\\d+\\.\\d\\d)"
                + "–(\\d+\\.\\d\\d)\\) \\(median of 2 rounds\\)").matcher(r.out());
        assertTrue(m.find(), "the median over the rounds in\n" + r.out());
        // The median is of the exact ratios, rounded once; the two printed ones were each rounded.
        assertEquals((ratios[0] + ratios[1]) / 2, Double.parseDouble(m.group(1)), 0.011, m.group());
        assertEquals(Math.min(ratios[0], ratios[1]), Double.parseDouble(m.group(2)), 0.006, m.group());
        assertEquals(Math.max(ratios[0], ratios[1]), Double.parseDouble(m.group(3)), 0.006, m.group());
    }

    @Test
    void metricsOffAndOnRunSideBySideInRoundsOfAlternatingOrder() {
        Run r = run("bench", "--clients", "1", "--client-mode", "in-process", "--metrics", "off,on", "--rounds", "2",
                "--warmup", "200ms", "--duration", "1s", "--probe", "0s", "--dir", tmp.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("| 1 | kv | in-process | off | 1 |"), r.out());
        assertTrue(r.out().contains("| 2 | kv | in-process | on | 1 |"), r.out());
        List<String> rows = r.csvRows();
        assertEquals(4, rows.size(), r.out());
        // Round 1 runs off then on; round 2 on then off: neither is always second.
        List<String> order = List.of("off/1", "on/1", "on/2", "off/2");
        for (int i = 0; i < 4; i++) {
            String[] f = rows.get(i).split(",");
            assertEquals(order.get(i), f[24] + "/" + f[25], rows.get(i));
            assertTrue(Long.parseLong(f[6]) > 0, rows.get(i));   // writes committed with metrics on too
            assertEquals("0", f[17], rows.get(i));
        }
        // The paired ratio: each round's on over its off, the median of the two, and their range.
        double[] ratio = new double[2];
        for (int round = 1; round <= 2; round++) {
            ratio[round - 1] = opsPerSec(rows, "on", round) / opsPerSec(rows, "off", round);
        }
        String line = Arrays.stream(r.out().split("\n")).filter(l -> l.startsWith("  kv, in-process, 1 client:"))
                .findFirst().orElseThrow(() -> new AssertionError("no metrics cost line in\n" + r.out()));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("ops/s ×([0-9.]+) \\(([0-9.]+)–([0-9.]+)\\)")
                .matcher(line);
        assertTrue(m.find(), line);
        // The CSV rounds ops/s to a tenth: equal to the printed two decimals within a rounding step.
        assertEquals((ratio[0] + ratio[1]) / 2, Double.parseDouble(m.group(1)), 0.006, line);
        assertEquals(Math.min(ratio[0], ratio[1]), Double.parseDouble(m.group(2)), 0.006, line);
        assertEquals(Math.max(ratio[0], ratio[1]), Double.parseDouble(m.group(3)), 0.006, line);
        assertTrue(line.endsWith("(2 rounds)"), line);
    }

    /** The ops/s of the CSV row with metrics {@code metrics} in round {@code round}. */
    private static double opsPerSec(List<String> rows, String metrics, int round) {
        return rows.stream().map(l -> l.split(",")).filter(f -> f[24].equals(metrics) && f[25].equals("" + round))
                .mapToDouble(f -> Double.parseDouble(f[7])).findFirst().orElseThrow();
    }

    @Test
    void aBaselineNeedsAKnownPeerAndItsBuiltJar() {
        Run unknown = run("bench", "--baseline", "etcd", "--dir", tmp.toString());
        assertEquals(2, unknown.exit(), unknown.err());
        assertTrue(unknown.err().contains("--baseline takes ratis and/or sofajraft, got 'etcd'"), unknown.err());
        Run noJar = run("bench", "--baseline", "ratis", "--peer-jars", tmp.resolve("nowhere").toString(), "--dir",
                tmp.toString());
        assertEquals(2, noJar.exit(), noJar.err());
        assertTrue(noJar.err().contains("no harness jar at " + tmp.resolve("nowhere").resolve("ratis")), noJar.err());
        assertTrue(noJar.err().contains(PeerBaselines.BUILD), noJar.err());
    }

    /**
     * Needs the peers' jars (outside the default build), so it runs only when asked, from the
     * repository root after {@code mvn -P bench-peers -pl bench-peers/ratis,bench-peers/sofajraft -am package}:
     * {@code mvn -pl raft-cli test -Draftkit.bench.peers=../bench-peers -Dtest='BenchCommandTest#baseline*'}.
     */
    @Test
    @EnabledIfSystemProperty(named = "raftkit.bench.peers", matches = ".+")
    void baselinesRunBesideRaftkitAndPrintRatios() throws Exception {
        Path report = tmp.resolve("report");
        Run r = run("bench", "--baseline", "ratis,sofajraft", "--peer-jars", System.getProperty("raftkit.bench.peers"),
                "--clients", "2", "--client-mode", "in-process", "--warmup", "500ms", "--duration", "2s", "--probe", "0s",
                "--dir", tmp.toString(), "--report", report.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        List<String> rows = r.csvRows();
        assertEquals(List.of("raftkit", "ratis", "sofajraft"), rows.stream().map(l -> l.split(",")[26]).toList(), r.out());
        assertTrue(rows.stream().allMatch(l -> l.split(",").length == 29 && l.endsWith(",0,-")), r.out());
        for (String row : rows) {
            assertTrue(Long.parseLong(row.split(",")[6]) > 0, row);
        }
        assertTrue(r.out().contains("vs ratis, in-process, 2 clients: ops/s ×"), r.out());
        assertTrue(r.out().contains("vs sofajraft, in-process, 2 clients: ops/s ×"), r.out());
        try (var files = java.nio.file.Files.list(report)) {
            String html = java.nio.file.Files.readString(files.findFirst().orElseThrow());
            int at = html.indexOf("class='bench-cdf'");
            String svg = html.substring(at, html.indexOf("</svg>", at));
            assertEquals(3, svg.split("<path class='series'", -1).length - 1, "one line per library");
        }
    }

    /**
     * Starts three JVMs (~15 s on a loaded 2-vCPU machine), so it runs only when asked:
     * {@code mvn -pl raft-cli -am test -Draftkit.bench.processes=true -Dtest=BenchCommandTest -Dsurefire.failIfNoSpecifiedTests=false}.
     */
    @Test
    @EnabledIfSystemProperty(named = "raftkit.bench.processes", matches = "true")
    void threeProcessesCommitWritesThroughGrpc() {
        Run r = run("bench", "--processes", "--clients", "2", "--warmup", "0s", "--duration", "1s", "--probe", "0s",
                "--node-jvm-opts", "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1", "--dir", tmp.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        List<String> rows = r.csvRows();
        assertEquals(1, rows.size(), r.out());
        String[] f = rows.get(0).split(",");
        assertEquals("true", f[2], rows.get(0));
        assertTrue(Long.parseLong(f[6]) > 0, rows.get(0));
        assertTrue(Double.parseDouble(f[11]) > 0, rows.get(0));
    }

    @Test
    void badArgumentsExitTwoWithAClearMessage() {
        Run r = run("bench", "--client-mode", "carrier-pigeon");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--client-mode must be grpc or in-process"), r.err());
        r = run("bench", "--processes", "--client-mode", "in-process");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("only --client-mode grpc"), r.err());
        r = run("bench", "--read-percent", "101");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--read-percent must be in 0..100, got 101"), r.err());
        r = run("bench", "--read-mode", "stale");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--read-mode must be linearizable or lease, got 'stale'"), r.err());
        r = run("bench", "--metrics", "maybe");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--metrics takes off, on or both (off,on), got 'maybe'"), r.err());
        r = run("bench", "--sm", "graph");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--sm must be kv or sql"), r.err());
        r = run("bench", "--duration", "soon");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("Invalid value for option '--duration': 'soon' is not a duration"), r.err());
    }
}
