package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report of one run shows what the trace says: each node's leaderships with their terms,
 * every fault, the verdict. Checked in the written HTML, and — where Chromium is installed
 * ({@code apt-get install -y chromium}) — in the DOM a headless browser builds from it.
 */
class SimReportTest {

    private static final Pattern LEADER_RECT = Pattern.compile(
            "<rect class='role' data-node='(\\d+)' data-role='leader' data-term='(\\d+)'");
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    static Path dir;
    static SimResult run;
    static String html;

    @BeforeAll
    static void writeOne() throws IOException {
        run = Simulator.run(SimOptions.defaults(31).withTicks(600).withTrace(true));
        SimReport.write(run, dir);
        html = Files.readString(dir.resolve("index.html"));
    }

    /** "node:term" for every leadership the trace records, in order. */
    private static List<String> leadershipsInTrace() {
        List<String> out = new ArrayList<>();
        for (TraceEvent e : run.trace()) {
            if (e.kind().equals("role") && e.detail().startsWith("leader in term ")) {
                out.add(e.node() + ":" + e.detail().substring("leader in term ".length()));
            }
        }
        return out;
    }

    private static List<String> leadershipsIn(String page) {
        List<String> out = new ArrayList<>();
        Matcher m = LEADER_RECT.matcher(page);
        while (m.find()) {
            out.add(m.group(1) + ":" + m.group(2));
        }
        return out;
    }

    @Test
    void theTimelineShowsEveryLeadershipAndFaultOfTheTrace() throws IOException {
        List<String> leaders = leadershipsInTrace();
        assertTrue(leaders.size() >= 2, "a run with elections worth drawing: " + leaders);
        List<String> drawn = leadershipsIn(html);
        drawn.sort(null);
        List<String> expected = new ArrayList<>(leaders);
        expected.sort(null);
        assertEquals(expected, drawn);
        long faults = run.trace().stream().filter(e -> e.kind().equals("fault") || e.kind().equals("heal")).count();
        assertEquals(faults, Pattern.compile("<line class='fault'").matcher(html).results().count());
        assertTrue(html.contains("<h1 id='verdict' class='" + (run.ok() ? "ok" : "bad") + "'>"), html.substring(0, 600));
        assertTrue(html.contains("raftkit sim --seed 31 --nodes 3 --ticks 600 --sm kv"));

        List<String> trace = Files.readAllLines(dir.resolve("trace.jsonl"));
        assertEquals(Trace.HEADER, trace.get(0));
        assertEquals(run.traceEvents() + 1, trace.size());
        assertTrue(Files.readString(dir.resolve("history.jsonl")).contains("\"invoke\""));
        assertTrue(Files.readString(dir.resolve("summary.txt")).startsWith(run.summary()));
    }

    @Test
    void aHeadlessBrowserBuildsTheSameTimeline() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "Chromium is not installed (apt-get install -y chromium)");
        Path profile = Files.createTempDirectory(dir, "chromium");
        Process p = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--dump-dom", dir.resolve("index.html").toUri().toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "chromium did not finish");
        // The browser's serialization quotes attributes with ": bring it to the file's quoting.
        String normalized = dom.replace('"', '\'');
        List<String> drawn = leadershipsIn(normalized);
        drawn.sort(null);
        List<String> expected = new ArrayList<>(leadershipsInTrace());
        expected.sort(null);
        assertEquals(expected, drawn, "the DOM Chromium built holds the trace's leaderships");
        assertTrue(normalized.contains("id='verdict'") && normalized.contains(run.summary().substring(0, 12)), dom.length() + " chars");
    }
}
