package dev.raftkit.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.raftkit.runtime.ServerStatus;
import dev.raftkit.testkit.http.HeadlessChromium;
import dev.raftkit.testkit.http.JsonReader;
import dev.raftkit.testkit.http.PrometheusText;
import dev.raftkit.testkit.net.FreePorts;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP port of a node: what each endpoint serves, on a real three-node cluster, and what a failed start leaves. */
class HttpPortTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T c) {
        open.add(c);
        return c;
    }

    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    static HttpResponse<String> request(RaftNode node, String method, String path) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://" + node.httpPort().hostPort() + path))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.noBody()).build();
        return HTTP.send(r, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    static HttpResponse<String> get(RaftNode node, String path) throws Exception {
        return request(node, "GET", path);
    }

    private List<RaftNode> threeNodes() throws Exception {
        return threeNodes(20);
    }

    private List<RaftNode> threeNodes(long tickMillis) throws Exception {
        long[] ids = {1, 2, 3};
        int[] peerPorts = new int[3];
        int[] clientPorts = new int[3];
        for (int i = 0; i < 3; i++) {
            peerPorts[i] = FreePorts.next();
            clientPorts[i] = FreePorts.next();
        }
        List<RaftNode> nodes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RaftNode.Builder b = RaftNode.builder("web", ids[i]).dataDir(dir.resolve("n" + ids[i]))
                    .peerListen(loopback(peerPorts[i])).clientListen(loopback(clientPorts[i]))
                    .http(loopback(0)).bootstrap(Set.of(1L, 2L, 3L)).tickMillis(tickMillis)
                    .stateMachine(new CounterStateMachine());
            for (int j = 0; j < 3; j++) {
                if (j != i) {
                    b.peer(ids[j], loopback(peerPorts[j]), "127.0.0.1:" + clientPorts[j]);
                }
            }
            nodes.add(closing(b.start()));
        }
        return nodes;
    }

    private static RaftNode leader(List<RaftNode> nodes) {
        return nodes.stream().filter(n -> n.server().status().isLeader()).findFirst().orElseThrow();
    }

    /** Waits until every node knows the same leader and has applied everything it committed, to the same index. */
    private static void awaitQuiet(List<RaftNode> nodes) {
        await().atMost(WAIT).until(() -> {
            List<ServerStatus> s = nodes.stream().map(n -> n.server().status()).toList();
            return s.stream().map(ServerStatus::leader).distinct().count() == 1 && s.get(0).leader() != 0
                    && s.stream().allMatch(x -> x.commit() == x.applied() && x.commit() == x.lastIndex())
                    && s.stream().map(ServerStatus::commit).distinct().count() == 1;
        });
    }

    @Test
    void threeNodesServeMetricsHealthAndStatusAndAMinorityIsNotReady() throws Exception {
        List<RaftNode> nodes = threeNodes();
        for (RaftNode n : nodes) {
            await().atMost(WAIT).until(() -> get(n, "/health").statusCode() == 200);
            Map<String, Object> health = JsonReader.object(get(n, "/health").body());
            assertEquals(Map.of("live", true, "ready", true), Map.of("live", health.get("live"), "ready", health.get("ready")));
            assertTrue(health.containsKey("reason") && health.get("reason") == null, health.toString());
        }
        for (int k = 1; k <= 5; k++) {
            leader(nodes).server().submit(CounterStateMachine.add(k)).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        awaitQuiet(nodes);

        for (RaftNode n : nodes) {
            HttpResponse<String> metrics = get(n, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", metrics.headers().firstValue("Content-Type").orElseThrow());
            PrometheusText.Exposition e = PrometheusText.parse(metrics.body());
            PrometheusText.Family memory = e.family("jvm_memory_used_bytes");
            assertEquals("gauge", memory.type());
            assertNotNull(memory.help());
            assertTrue(memory.samples().stream().allMatch(s -> Set.of("heap", "nonheap").contains(s.labels().get("area"))
                    && s.value() >= 0), memory.samples().toString());
            assertTrue(e.family("process_uptime_seconds").samples().get(0).value() > 0);
            assertEquals("gauge", e.family("jvm_threads_live_threads").type());
            // The Raft meters are bound to the registry the port serves, tagged with the node.
            PrometheusText.Family syncs = e.family("raft_log_sync_seconds");
            assertEquals("summary", syncs.type());
            assertTrue(syncs.samples().stream().anyMatch(x -> x.name().equals("raft_log_sync_seconds_count")
                    && x.labels().equals(Map.of("cluster", "web", "node", Long.toString(n.id()))) && x.value() > 0),
                    syncs.samples().toString());
            assertEquals(n.server().status().commit(), e.family("raft_commit_index").samples().get(0).value(), 0.0);
            assertTrue(e.families().keySet().stream().anyMatch(f -> f.startsWith("jvm_gc_")), e.families().keySet().toString());
        }

        awaitQuiet(nodes);
        RaftNode leader = leader(nodes);
        for (RaftNode n : nodes) {
            // Compared with the server's own view taken on both sides of the request (a view that
            // changed in between is asked again), and on the leader once every member's
            // acknowledgement has arrived (the last follower's may trail the commit).
            AtomicReference<Map<String, Object>> answer = new AtomicReference<>();
            AtomicReference<ServerStatus> view = new AtomicReference<>();
            await().atMost(WAIT).until(() -> {
                ServerStatus before = n.server().status();
                Map<String, Object> json = JsonReader.object(get(n, "/status").body());
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> ms = (List<Map<String, Object>>) json.get("members");
                boolean settled = !before.isLeader() || ms.stream().allMatch(m -> Long.valueOf(0).equals(m.get("lag")));
                answer.set(json);
                view.set(before);
                return settled && sameView(before, n.server().status()) && before.leader() == leader.id();
            });
            Map<String, Object> s = answer.get();
            ServerStatus expected = view.get();
            assertEquals(n.id(), s.get("id"));
            assertEquals("web", s.get("cluster"));
            assertEquals(expected.state(), s.get("role"));
            assertEquals(expected.term(), s.get("term"));
            assertEquals(Map.of("id", leader.id(), "client", leader.clientHostPort()), s.get("leader"));
            assertEquals(expected.commit(), s.get("commit"));
            assertEquals(expected.applied(), s.get("applied"));
            assertEquals(expected.lastIndex(), s.get("lastIndex"));
            assertEquals(List.copyOf(new TreeSet<>(expected.conf().voters())), s.get("voters"));
            assertEquals(List.of(), s.get("learners"));
            assertEquals(false, s.get("recovering"));
            assertEquals(true, s.get("ready"));
            assertTrue((Long) s.get("uptimeMillis") > 0);
            assertTrue(((String) s.get("version")).matches("\\d+\\.\\d+\\.\\d+.*"), (String) s.get("version"));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> members = (List<Map<String, Object>>) s.get("members");
            assertEquals(List.of(1L, 2L, 3L), members.stream().map(m -> m.get("id")).toList());
            for (Map<String, Object> m : members) {
                assertEquals(m.get("id").equals(leader.id()) ? "leader" : "follower", m.get("role"));
                assertEquals(m.get("id").equals(n.id()), m.get("self"));
                if (n == leader) {
                    // Caught up and quiet: every member matches the leader's last index.
                    assertEquals(expected.lastIndex(), m.get("match"), m.toString());
                    assertEquals(0L, m.get("lag"), m.toString());
                } else {
                    assertFalse(m.containsKey("match"), "only a leader knows its followers' progress: " + m);
                }
            }
            assertEquals(n == leader, s.get("progressKnown"));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> events = (List<Map<String, Object>>) s.get("events");
            assertFalse(events.isEmpty(), "the election left protocol events");
            assertTrue(events.size() <= HttpPort.EVENTS);
            assertTrue(events.stream().allMatch(ev -> ev.get("node").equals(n.id()) && ev.get("kind") instanceof String));
        }

        // Read-only: other methods are refused, saying what is allowed; HEAD answers without a body.
        HttpResponse<String> post = request(leader, "POST", "/status");
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElseThrow());
        assertEquals(405, request(leader, "DELETE", "/").statusCode());
        HttpResponse<String> head = request(leader, "HEAD", "/health");
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
        assertEquals(404, get(leader, "/nothing").statusCode());
        HttpResponse<String> page = get(leader, "/");
        assertEquals("text/html; charset=utf-8", page.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(page.body().contains("fetch(\"status\""), "the page polls /status");

        // Kill the two others: the survivor has no majority, so it loses (or stops trusting) the
        // leader and stops being ready, while staying live.
        RaftNode survivor = nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
        nodes.stream().filter(n -> n != survivor).forEach(RaftNode::kill);
        await().atMost(WAIT).until(() -> get(survivor, "/health").statusCode() == 503);
        Map<String, Object> health = JsonReader.object(get(survivor, "/health").body());
        assertEquals(true, health.get("live"));
        assertEquals(false, health.get("ready"));
        assertTrue(((String) health.get("reason")).startsWith("no leader known"), health.toString());
        Map<String, Object> status = JsonReader.object(get(survivor, "/status").body());
        assertNull(status.get("leader"));
        assertEquals(false, status.get("ready"));
    }

    @Test
    void aHeadlessBrowserShowsTheLeaderTermAndMembers() throws Exception {
        assumeTrue(HeadlessChromium.available(), "Chromium is not installed (apt-get install -y chromium)");
        List<RaftNode> nodes = threeNodes(50);
        RaftNode leader = null;
        ServerStatus s = null;
        String dom = null;
        // On a loaded machine an election may come between the page's fetch and the check: load
        // the page again then, so the DOM is compared with the leadership it was drawn from.
        for (int attempt = 0; attempt < 3 && dom == null; attempt++) {
            awaitQuiet(nodes);
            leader = leader(nodes);
            s = leader.server().status();
            String drawn = HeadlessChromium.dumpDom(dir, "http://" + leader.httpPort().hostPort() + "/");
            ServerStatus after = leader.server().status();
            if (after.term() == s.term() && after.leader() == s.leader()) {
                dom = drawn;
            }
        }
        assumeTrue(dom != null, "leadership changed while the page loaded, three times");
        assertTrue(dom.contains("<dd id=\"leader\">" + leader.id() + " (clients: " + leader.clientHostPort() + ")</dd>"), dom);
        assertTrue(dom.contains("<dd id=\"term\">" + s.term() + "</dd>"), dom);
        assertTrue(dom.contains("<dd id=\"role\">LEADER</dd>"), dom);
        for (long id = 1; id <= 3; id++) {
            String row = "<tr data-id=\"" + id + "\" class=\"" + (id == leader.id() ? "leader self" : "") + "\"><td>" + id
                    + "</td><td class=\"text\">" + (id == leader.id() ? "leader" : "follower") + "</td>";
            assertTrue(dom.contains(row), row + " in " + dom);
        }
        assertTrue(dom.contains("<span id=\"cluster\">web</span>"), dom);
    }

    @Test
    void anHttpPortThatCannotBeBoundReleasesEverythingElse() throws Exception {
        Path data = dir.resolve("n1");
        int clientPort = FreePorts.next();
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CounterStateMachine machine = new CounterStateMachine();
            IOException e = assertThrows(IOException.class, () -> RaftNode.builder("c", 1).dataDir(data)
                    .clientListen(loopback(clientPort)).http(loopback(taken.getLocalPort())).bootstrap(Set.of(1L))
                    .stateMachine(machine).start());
            assertTrue(e.getMessage().contains("HTTP port") && e.getMessage().contains(":" + taken.getLocalPort()),
                    e.getMessage());
        }
        // The directory, the client port and the peer port were released: the same node starts.
        RaftNode again = closing(RaftNode.builder("c", 1).dataDir(data).clientListen(loopback(clientPort))
                .http(loopback(0)).bootstrap(Set.of(1L)).stateMachine(new CounterStateMachine()).start());
        await().atMost(WAIT).until(() -> get(again, "/health").statusCode() == 200);
    }

    @Test
    void theMeterRegistryGivenIsServedBesideTheJvmMeters() throws Exception {
        SimpleMeterRegistry given = new SimpleMeterRegistry();
        RaftNode node = closing(RaftNode.builder("c", 1).dataDir(dir.resolve("n1")).http(loopback(0))
                .meterRegistry(given).bootstrap(Set.of(1L)).stateMachine(new CounterStateMachine()).start());
        MeterRegistry registry = node.meterRegistry();
        CompositeMeterRegistry composite = assertInstanceOf(CompositeMeterRegistry.class, registry);
        assertTrue(composite.getRegistries().contains(given));
        registry.counter("app_requests", "kind", "a\"b").increment(3);
        assertEquals(3.0, given.counter("app_requests", "kind", "a\"b").count());
        PrometheusText.Exposition e = PrometheusText.parse(get(node, "/metrics").body());
        PrometheusText.Family f = e.family("app_requests_total");
        assertEquals("counter", f.type());
        assertEquals(List.of(Map.of("kind", "a\"b")), f.samples().stream().map(PrometheusText.Sample::labels)
                .collect(Collectors.toList()));
        assertEquals(3.0, f.samples().get(0).value());
        assertTrue(e.families().containsKey("jvm_memory_used_bytes"));
        // The JVM meters are the port's own: the embedder's registry gets none it did not ask for.
        assertTrue(given.getMeters().stream().noneMatch(m -> m.getId().getName().startsWith("jvm.")));
    }

    @Test
    void withoutHttpThereIsNoPortAndTheRegistryIsTheOneGiven() throws Exception {
        RaftNode plain = closing(RaftNode.builder("c", 1).dataDir(dir.resolve("n1"))
                .stateMachine(new CounterStateMachine()).start());
        assertNull(plain.httpPort());
        assertNull(plain.meterRegistry());
        SimpleMeterRegistry given = new SimpleMeterRegistry();
        RaftNode metered = closing(RaftNode.builder("c", 2).dataDir(dir.resolve("n2")).meterRegistry(given)
                .stateMachine(new CounterStateMachine()).start());
        assertSame(given, metered.meterRegistry());
    }

    /** The same view of the cluster, whatever the uptime (which every call measures anew). */
    private static boolean sameView(ServerStatus a, ServerStatus b) {
        return a.role() == b.role() && a.term() == b.term() && a.leader() == b.leader() && a.commit() == b.commit()
                && a.applied() == b.applied() && a.lastIndex() == b.lastIndex() && a.conf().equals(b.conf())
                && a.running() == b.running() && a.recovering() == b.recovering() && a.followers().equals(b.followers());
    }
}
