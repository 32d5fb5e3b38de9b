package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code raftkit server --http}: three servers serve their metrics and status over HTTP; bad values are refused. */
class CliHttpTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    private CliServers servers;

    @AfterEach
    void stop() {
        if (servers != null) {
            servers.close();
        }
    }

    private static HttpResponse<String> get(String hostPort, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + hostPort + path)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void threeServersServeMetricsAPrometheusScraperCanRead() throws Exception {
        servers = new CliServers(1, 2, 3);
        Map<Long, String> http = new HashMap<>();
        long[][] peers = {{2, 3}, {1, 3}, {1, 2}};
        for (long id = 1; id <= 3; id++) {
            http.put(id, "127.0.0.1:" + FreePorts.next());
            CliServers.Running r = servers.start(id, dir.resolve("n" + id), "1,2,3", List.of("--http", http.get(id)),
                    peers[(int) id - 1]);
            assertTrue(r.out().toString().contains(", HTTP on http://" + http.get(id) + "/"), r.out().toString());
        }
        for (long id = 1; id <= 3; id++) {
            String at = http.get(id);
            await().atMost(CliServers.WAIT).until(() -> get(at, "/health").statusCode() == 200);
            HttpResponse<String> metrics = get(at, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", metrics.headers().firstValue("Content-Type").orElseThrow());
            PrometheusText.Exposition e = PrometheusText.parse(metrics.body());
            assertEquals("gauge", e.family("jvm_memory_used_bytes").type());
            assertTrue(e.family("process_uptime_seconds").samples().get(0).value() > 0);
            assertTrue(e.samples().size() > 20, e.samples().size() + " samples");
            Map<String, Object> status = JsonReader.object(get(at, "/status").body());
            assertEquals(id, status.get("id"));
            assertEquals(CliServers.CLUSTER, status.get("cluster"));
            assertEquals(List.of(1L, 2L, 3L), status.get("voters"));
        }
        // Every node names the same leader, with the client address the others were given for it.
        Set<Object> leaders = new HashSet<>();
        for (long id = 1; id <= 3; id++) {
            leaders.add(JsonReader.object(get(http.get(id), "/status").body()).get("leader"));
        }
        assertEquals(1, leaders.size(), leaders.toString());
    }

    @Test
    void aBadHttpAddressIsRefusedNamingTheOption() {
        String[] base = {"server", "--id", "1", "--listen", "127.0.0.1:0", "--client-listen", "127.0.0.1:0",
                "--data", dir.resolve("n1").toString(), "--cluster-id", "t", "--http"};
        Map<String, String> bad = Map.of(
                "localhost", "--http 'localhost' is not host:port (for example 127.0.0.1:7001)",
                "127.0.0.1:99999", "port 99999 is outside 0..65535",
                "127.0.0.1:web", "port 'web' is not a number",
                "no-such-host.invalid:9000", "--http 'no-such-host.invalid:9000': host 'no-such-host.invalid' is unknown");
        bad.forEach((value, expected) -> {
            String[] args = Arrays.copyOf(base, base.length + 1);
            args[base.length] = value;
            CliRun r = CliRun.of(args);
            assertEquals(2, r.exit(), r.all());
            assertTrue(r.err().contains(expected), "expected '" + expected + "' in\n" + r.all());
        });
    }
}
