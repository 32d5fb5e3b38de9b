package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.raftkit.testkit.http.HeadlessChromium;
import dev.raftkit.testkit.http.JsonReader;
import dev.raftkit.testkit.http.PrometheusText;
import dev.raftkit.testkit.net.FreePorts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@code raftkit server --http} processes, as the README starts them: each one's
 * {@code /metrics} parsed strictly as Prometheus text, the Raft meters in it agreeing with the
 * cluster (one leader, every node syncing its log, the commit index past the writes), and the
 * leader's status page, rendered by headless Chromium, showing the real leader and term.
 */
class CliHttpProcessesTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (Process p : processes) {
            p.destroy(); // SIGTERM: the server's shutdown hook closes the node
        }
        for (Process p : processes) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void threeServerProcessesAreScrapedAndTheirPageShowsTheLeader() throws Exception {
        int[][] ports = new int[4][3]; // peer, client, http
        for (int id = 1; id <= 3; id++) {
            ports[id] = new int[] {FreePorts.next(), FreePorts.next(), FreePorts.next()};
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int id = 1; id <= 3; id++) {
            List<String> peers = new ArrayList<>();
            for (int p = 1; p <= 3; p++) {
                if (p != id) {
                    peers.add(p + "=127.0.0.1:" + ports[p][0] + "/127.0.0.1:" + ports[p][1]);
                }
            }
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                    Raftkit.class.getName(), "server", "--id", Integer.toString(id),
                    "--listen", "127.0.0.1:" + ports[id][0], "--client-listen", "127.0.0.1:" + ports[id][1],
                    "--http", "127.0.0.1:" + ports[id][2], "--peers", String.join(",", peers),
                    "--data", dir.resolve("n" + id).toString(), "--cluster-id", "procs", "--bootstrap", "1,2,3",
                    "--tick-ms", "50", "--insecure-admin"));
            processes.add(new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("n" + id + ".log").toFile()).start());
        }
        for (int id = 1; id <= 3; id++) {
            int port = ports[id][2];
            await().atMost(WAIT).ignoreExceptions().until(() -> get(port, "/health").statusCode() == 200);
        }
        String cluster = "127.0.0.1:" + ports[1][1] + ",127.0.0.1:" + ports[2][1] + ",127.0.0.1:" + ports[3][1];
        for (int k = 0; k < 5; k++) {
            CliRun put = CliRun.of("kv", "put", "k" + k, "v" + k, "-c", cluster, "--cluster-id", "procs", "--timeout", "20");
            assertEquals(0, put.exit(), put.out() + put.err());
        }

        int leaders = 0;
        for (int id = 1; id <= 3; id++) {
            int port = ports[id][2];
            HttpResponse<String> metrics = get(port, "/metrics");
            assertEquals(200, metrics.statusCode());
            PrometheusText.Exposition e = PrometheusText.parse(metrics.body());
            Map<String, String> tags = Map.of("cluster", "procs", "node", Integer.toString(id));
            assertEquals(tags, e.family("raft_role").samples().get(0).labels());
            leaders += (int) e.family("raft_role").samples().get(0).value();
            assertTrue(e.family("raft_log_sync_seconds").samples().stream()
                    .anyMatch(s -> s.name().endsWith("_count") && s.value() > 0), "node " + id + " syncs its log");
            // Five puts after the founding entries: every node commits past them (awaited, since
            // a follower learns the commit index with the next append or heartbeat).
            await().atMost(WAIT).until(() -> PrometheusText.parse(get(port, "/metrics").body())
                    .family("raft_commit_index").samples().get(0).value() >= 5);
            assertEquals("gauge", e.family("jvm_memory_used_bytes").type());
        }
        assertEquals(1, leaders, "exactly one node reports raft_role 1");

        assumeTrue(HeadlessChromium.available(), "Chromium is not installed (apt-get install -y chromium)");
        boolean shown = false;
        for (int id = 1; id <= 3; id++) {
            Map<String, Object> before = JsonReader.object(get(ports[id][2], "/status").body());
            if (!"LEADER".equals(before.get("role"))) {
                continue;
            }
            shown = true;
            String dom = HeadlessChromium.dumpDom(dir, "http://127.0.0.1:" + ports[id][2] + "/");
            Map<String, Object> after = JsonReader.object(get(ports[id][2], "/status").body());
            assumeTrue(before.get("term").equals(after.get("term")), "an election came while the page loaded");
            assertTrue(dom.contains("<dd id=\"role\">LEADER</dd>"), dom);
            assertTrue(dom.contains("<dd id=\"term\">" + before.get("term") + "</dd>"), dom);
            assertTrue(dom.contains("<dd id=\"leader\">" + id + " (clients: 127.0.0.1:" + ports[id][1] + ")</dd>"), dom);
            assertTrue(dom.contains("<span id=\"cluster\">procs</span>"), dom);
        }
        assertTrue(shown, "no node said it leads: the leader's page was not checked");
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }
}
