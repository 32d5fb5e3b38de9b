package dev.raftkit.jepsen.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerfPlotsTest {

    private static final long S = 1_000_000_000L;
    private static final long MS = 1_000_000L;

    /** Three seconds of load: 10 writes of 1 ms in second 0, none in second 1 (a fault), 4 reads of 100 ms in second 2. */
    private static List<Operation> history() {
        List<Operation> ops = new ArrayList<>();
        long id = 0;
        for (int i = 0; i < 10; i++) {
            long t = i * 50 * MS;
            ops.add(new Operation(id++, 0, new Command.Write("k", "v" + i), t, OpStatus.OK, t + MS, new Response.Written()));
        }
        for (int i = 0; i < 4; i++) {
            long t = 2 * S + i * 100 * MS;
            ops.add(new Operation(id++, 1, new Command.Read("k"), t - 100 * MS, OpStatus.OK, t, new Response.ReadValue("v9")));
        }
        // A timeout in the fault (drawn at its give-up time), one that never completed (left out),
        // and a final read after healing (left out: not load).
        ops.add(new Operation(id++, 2, new Command.Write("k", "x"), S, OpStatus.INFO, S + 900 * MS, null));
        ops.add(new Operation(id++, 3, new Command.Write("k", "y"), S, OpStatus.INFO, Operation.NEVER, null));
        ops.add(new Operation(id, ClientWorkload.FINAL_PROCESS, new Command.Read("k"), 3 * S - MS, OpStatus.OK, 3 * S - 1,
                new Response.ReadValue("v9")));
        return ops;
    }

    @Test
    void throughputCountsCompletionsPerSecondByOutcome() {
        List<FaultEvent> faults = List.of(new FaultEvent("partition", "n1 | n2 n3", S, 2 * S));

        String svg = PerfPlots.throughput(history(), faults, 0, 3 * S);

        // The writes' line: 10 in second 0, then 0, 0. The axis' ceiling is 10/s.
        assertEquals(List.of(10, 0, 0), heights(path(svg, "write/cas ok"), 10));
        assertEquals(List.of(0, 0, 4), heights(path(svg, "read ok"), 10));
        assertEquals(List.of(0, 1, 0), heights(path(svg, "indeterminate"), 10));
        assertTrue(svg.contains("fill-opacity='0.16'><title>partition: n1 | n2 n3</title>"), "the fault is shaded");
    }

    @Test
    void latencyQuantilesPerSecondSkipEmptySecondsAndTheFinalReads() {
        List<long[]> buckets = PerfPlots.buckets(PerfPlots.load(history()), 0, 3 * S);

        assertEquals(3, buckets.size());
        assertEquals(10, buckets.get(0).length);
        assertEquals(MS, PerfPlots.quantile(buckets.get(0), 0.5));
        assertEquals(1, buckets.get(1).length, "the give-up at 1.9 s counts in second 1");
        assertEquals(900 * MS, buckets.get(1)[0]);
        assertEquals(4, buckets.get(2).length, "the final read is not load");
        assertEquals(100 * MS, PerfPlots.quantile(buckets.get(2), 0.99));

        String svg = PerfPlots.latency(history(), List.of(), 0, 3 * S);
        assertEquals(15, count(svg, "<circle"), "one point per completed load operation");
        assertTrue(svg.contains("<title>median latency per second</title>"));
        assertTrue(svg.contains("<title>99th percentile latency per second</title>"));
    }

    @Test
    void quantilesAndAxisCeilings() {
        long[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertEquals(5, PerfPlots.quantile(sorted, 0.5));
        assertEquals(10, PerfPlots.quantile(sorted, 0.99));
        assertEquals(1, PerfPlots.quantile(sorted, 0.01));
        assertEquals(1, PerfPlots.niceCeiling(1));
        assertEquals(5, PerfPlots.niceCeiling(3));
        assertEquals(10, PerfPlots.niceCeiling(10));
        assertEquals(2000, PerfPlots.niceCeiling(1234));
    }

    @Test
    void theIndexListsEveryRunNewestFirstAndOnlyRuns(@TempDir Path folder) throws Exception {
        run(folder, "old", "valid: ops=10", Instant.parse("2026-12-01T10:00:00Z"));
        run(folder, "new", "INVALID: ops=20 <lost>", Instant.parse("2026-12-02T10:00:00Z"));
        Files.createDirectories(folder.resolve("not-a-run"));

        assertFalse(RunIndex.isRunsFolder(folder));
        RunIndex.write(folder);
        assertTrue(RunIndex.isRunsFolder(folder));

        String html = Files.readString(folder.resolve("index.html"));
        assertTrue(html.startsWith(RunIndex.MARK), html);
        assertTrue(html.indexOf("new/report.html") < html.indexOf("old/report.html"), "newest first: " + html);
        assertTrue(html.contains("<td class='invalid'>INVALID: ops=20 &lt;lost&gt;</td>"), "verdicts escaped: " + html);
        assertTrue(html.contains("2 runs, 1 valid, 1 not"), html);
        assertFalse(html.contains("not-a-run"), html);
    }

    private static void run(Path folder, String name, String verdict, Instant finished) throws Exception {
        Path dir = Files.createDirectories(folder.resolve(name));
        Path summary = dir.resolve("summary.txt");
        Files.writeString(summary, "options: nodes=3\n" + verdict + "\n");
        Files.setLastModifiedTime(summary, FileTime.from(finished));
    }

    /** The path titled {@code title}'s points, as heights in units of the y axis' ceiling {@code top}. */
    private static List<Integer> heights(String d, int top) {
        int plotH = PerfPlots.HEIGHT - 24 - 28;
        List<Integer> out = new ArrayList<>();
        Matcher m = Pattern.compile("[ML]([0-9.]+) ([0-9.]+)").matcher(d);
        while (m.find()) {
            double y = Double.parseDouble(m.group(2));
            out.add((int) Math.round(top * (1 - (y - 24) / plotH)));
        }
        return out;
    }

    private static String path(String svg, String title) {
        Matcher m = Pattern.compile("<path d='([^']*)'[^>]*><title>" + Pattern.quote(title) + " per second</title>")
                .matcher(svg);
        assertTrue(m.find(), "no line for " + title + " in " + svg);
        return m.group(1);
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
