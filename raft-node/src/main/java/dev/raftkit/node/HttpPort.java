package dev.raftkit.node;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.raftkit.core.Role;
import dev.raftkit.core.Status;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.grpc.ClientService;
import dev.raftkit.grpc.Version;
import dev.raftkit.runtime.ProtocolEvent;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.ServerStatus;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A node's optional, read-only HTTP port ({@link RaftNode.Builder#http}), on the JDK's
 * {@link HttpServer}: {@code /metrics} (Prometheus text), {@code /health} (liveness and readiness
 * for load balancers and probes), {@code /status} (this node's view of the cluster, as JSON) and
 * {@code /} (a page that shows {@code /status}, refreshed every second). Only {@code GET} and
 * {@code HEAD} are served; every other method gets 405. Nothing it serves is secret and nothing it
 * serves changes the node, but it has no authentication and no TLS: bind it to loopback or to a
 * trusted network (docs/user-guide.md, "The HTTP port").
 *
 * <p><b>Threads:</b> requests are answered on the port's own two daemon threads
 * ({@code raftkit-http-<id>-N}); {@code /status} waits there, at most {@link #STATUS_WAIT_MILLIS}
 * ms, for the raft loop's full status. The node owns the port and closes it when it closes.
 */
public final class HttpPort implements AutoCloseable {

    /** How many of the node's recent protocol events {@code /status} shows. */
    static final int EVENTS = 100;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HttpPort.class);

    /**
     * {@code /health} counts a node ready only while its applied index is at most this many
     * entries behind its commit index: further behind, its state machine serves stale reads and a
     * load balancer should send clients elsewhere until it catches up.
     */
    public static final long READY_MAX_APPLY_LAG = 100;

    /** How long {@code /status} waits for the raft loop's full status before answering without it. */
    public static final long STATUS_WAIT_MILLIS = 2_000;

    /** The content type of {@code /metrics}: Prometheus text exposition format 0.0.4. */
    public static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Pattern MATCH = Pattern.compile("^(\\S+) match=(\\d+) next=(\\d+)");

    private final long id;
    private final String clusterId;
    private final RaftServer server;
    private final ClientService clients;
    private final EventHub events;
    private final long startedNanos;
    private final HttpServer http;
    private final ExecutorService threads;
    private final Metrics metrics;
    private final byte[] page;
    private final String version;
    private final AtomicBoolean closed = new AtomicBoolean();

    private HttpPort(long id, String clusterId, RaftServer server, ClientService clients, EventHub events,
                     long startedNanos, HttpServer http, ExecutorService threads, Metrics metrics, byte[] page,
                     String version) {
        this.id = id;
        this.clusterId = clusterId;
        this.server = server;
        this.clients = clients;
        this.events = events;
        this.startedNanos = startedNanos;
        this.http = http;
        this.threads = threads;
        this.metrics = metrics;
        this.page = page;
        this.version = version;
    }

    /**
     * The meters behind {@code /metrics}: the registry the embedder gave when it was a Prometheus
     * one; otherwise a registry the port made (Prometheus alone, with the JVM's meters bound to it,
     * or, when the embedder gave another kind, a composite of that and the Prometheus one, so that
     * meters bound to it show in both).
     */
    static final class Metrics implements AutoCloseable {
        final MeterRegistry registry;
        final PrometheusMeterRegistry prometheus;
        private final boolean owned;
        private final JvmGcMetrics gc;

        private Metrics(MeterRegistry registry, PrometheusMeterRegistry prometheus, boolean owned, JvmGcMetrics gc) {
            this.registry = registry;
            this.prometheus = prometheus;
            this.owned = owned;
            this.gc = gc;
        }

        /** The registry to serve for {@code given} (null: none given). */
        static Metrics of(MeterRegistry given) {
            if (given instanceof PrometheusMeterRegistry p) {
                return new Metrics(p, p, false, null);
            }
            PrometheusMeterRegistry p = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            // Bound to the port's own registry only: the embedder's registry gets no meters it did
            // not ask for. Until the Raft meters are bound, these give /metrics its content.
            new JvmMemoryMetrics().bindTo(p);
            JvmGcMetrics gc = new JvmGcMetrics();
            gc.bindTo(p);
            new JvmThreadMetrics().bindTo(p);
            new ProcessorMetrics().bindTo(p);
            new UptimeMetrics().bindTo(p);
            if (given == null) {
                return new Metrics(p, p, true, gc);
            }
            CompositeMeterRegistry composite = new CompositeMeterRegistry();
            composite.add(given);
            composite.add(p);
            return new Metrics(composite, p, true, gc);
        }

        @Override
        public void close() {
            if (gc != null) {
                gc.close();
            }
            if (owned) {
                if (registry != prometheus) {
                    registry.close();
                }
                prometheus.close();
            }
        }
    }

    /**
     * Binds {@code address} and starts serving. On failure nothing is left bound or running.
     *
     * @throws IOException if the address cannot be bound (in use, not this host's)
     */
    static HttpPort start(InetSocketAddress address, long id, String clusterId, RaftServer server,
                          ClientService clients, EventHub events, long startedNanos, Metrics metrics)
            throws IOException {
        byte[] page = resource("status.html");
        String version = Version.current().isEmpty() ? "unknown" : Version.current();
        HttpServer http;
        try {
            http = HttpServer.create(address, 16);
        } catch (IOException e) {
            throw new IOException("node " + id + ": cannot bind the HTTP port to " + HostPort.format(address) + ": "
                    + e.getMessage() + "; name a free port (or 0 for any)", e);
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "raftkit-http-" + id + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        HttpPort port = new HttpPort(id, clusterId, server, clients, events, startedNanos, http, threads, metrics,
                page, version);
        http.createContext("/", port::handle);
        http.setExecutor(threads);
        http.start();
        return port;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = HttpPort.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("the HTTP port's " + name + " is missing from raft-node's jar; rebuild it");
            }
            return in.readAllBytes();
        }
    }

    /** The address the port is bound to (the bound port when it was asked for port 0). */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** host:port the port is bound to, as a browser or scraper would be pointed at it. */
    public String hostPort() {
        return HostPort.format(address());
    }

    MeterRegistry meterRegistry() {
        return metrics.registry;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String method = ex.getRequestMethod();
            boolean head = method.equals("HEAD");
            if (!head && !method.equals("GET")) {
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
                send(ex, 405, "text/plain; charset=utf-8",
                        ("method " + method + " is not allowed: this port is read-only (GET or HEAD)\n"), false);
                return;
            }
            String path = ex.getRequestURI().getPath();
            switch (path) {
                case "/", "/index.html" -> send(ex, 200, "text/html; charset=utf-8", page, head);
                case "/metrics" -> send(ex, 200, PROMETHEUS_CONTENT_TYPE, metrics.prometheus.scrape(), head);
                case "/health" -> {
                    Health h = health(server.status());
                    String body = JsonText.object().field("live", true).field("ready", h.ready())
                            .field("reason", h.reason()).toString() + "\n";
                    send(ex, h.ready() ? 200 : 503, "application/json", body, head);
                }
                case "/status" -> send(ex, 200, "application/json", status() + "\n", head);
                default -> send(ex, 404, "text/plain; charset=utf-8",
                        "no such page: " + path + " (try /, /status, /health or /metrics)\n", head);
            }
        } catch (RuntimeException e) {
            LOG.warn("node {}: HTTP port failed on {} {}", id, ex.getRequestMethod(), ex.getRequestURI(), e);
            throw e;
        }
    }

    private static void send(HttpExchange ex, int code, String type, String body, boolean head) throws IOException {
        send(ex, code, type, body.getBytes(StandardCharsets.UTF_8), head);
    }

    private static void send(HttpExchange ex, int code, String type, byte[] body, boolean head) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        // Every answer is a live view: a cached /health would keep a dead node in rotation.
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        if (head) {
            ex.sendResponseHeaders(code, -1);
            return;
        }
        ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** Readiness and, when not ready, why. */
    record Health(boolean ready, String reason) {
    }

    /**
     * Ready: the server runs, is not recovering lost state, knows a leader, and has applied to
     * within {@link #READY_MAX_APPLY_LAG} of its commit index.
     */
    static Health health(ServerStatus s) {
        if (!s.running()) {
            return new Health(false, "the server stopped" + (s.failure() == null ? "" : ": " + s.failure()));
        }
        if (s.recovering()) {
            return new Health(false, "recovering lost state: waiting for a leader to catch it up");
        }
        if (s.leader() == 0) {
            return new Health(false, "no leader known in term " + s.term());
        }
        long lag = s.commit() - s.applied();
        if (lag > READY_MAX_APPLY_LAG) {
            return new Health(false, "applied index " + s.applied() + " is " + lag + " behind commit index "
                    + s.commit() + " (more than " + READY_MAX_APPLY_LAG + ")");
        }
        return new Health(true, null);
    }

    /** The {@code /status} document (fields in docs/user-guide.md, "The HTTP port"). */
    String status() {
        ServerStatus s = server.status();
        Status full = null;
        if (s.running()) {
            try {
                full = server.detailedStatus().get(STATUS_WAIT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // Answer with the cheap view: a busy or stopping loop must not fail the page.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        ConfState conf = s.conf();
        JsonText leader = null;
        if (s.leader() != 0) {
            leader = JsonText.object().field("id", s.leader()).field("client", clients.clientAddress(s.leader()));
        }
        JsonText members = JsonText.array();
        TreeSet<Long> ids = new TreeSet<>(conf.members());
        if (full != null) {
            ids.addAll(full.progress().keySet());
        }
        for (long m : ids) {
            JsonText member = JsonText.object().field("id", m)
                    .field("voter", conf.isVoter(m))
                    .field("role", m == s.leader() ? "leader" : conf.isVoter(m) ? "follower" : "learner")
                    .field("self", m == id);
            String progress = full == null ? null : full.progress().get(m);
            Matcher pm = progress == null ? null : MATCH.matcher(progress);
            if (pm != null && pm.find()) {
                long match = Long.parseLong(pm.group(2));
                member.field("state", pm.group(1)).field("match", match).field("next", Long.parseLong(pm.group(3)))
                        .field("lag", Math.max(0, full.lastIndex() - match));
            }
            members.add(member);
        }
        JsonText recent = JsonText.array();
        for (ProtocolEvent e : events.recent(EVENTS)) {
            recent.add(JsonText.object().field("time", e.timeMillis()).field("node", e.node())
                    .field("term", e.term() == ProtocolEvent.NO_TERM ? null : e.term())
                    .field("kind", e.kind()).field("detail", e.detail()));
        }
        Health h = health(s);
        return JsonText.object()
                .field("id", id)
                .field("cluster", clusterId)
                .field("role", s.state())
                .field("term", s.term())
                .field("leader", leader)
                .field("commit", s.commit())
                .field("applied", s.applied())
                .field("lastIndex", s.lastIndex())
                .field("firstIndex", full == null ? -1 : full.firstIndex())
                .field("voters", new TreeSet<>(conf.voters()))
                .field("learners", new TreeSet<>(conf.learners()))
                .field("recovering", s.recovering())
                .field("ready", h.ready())
                .field("reason", h.reason())
                .field("members", members)
                .field("progressKnown", full != null && s.role() == Role.LEADER)
                .field("uptimeMillis", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos))
                .field("version", version)
                .field("events", recent)
                .toString();
    }

    /** Stops serving at once (requests in progress are cut off) and releases the port and the meters it made; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        http.stop(0);
        threads.shutdownNow();
        try {
            if (!threads.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("node {}: HTTP threads did not stop within 5 s", id);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        metrics.close();
    }
}
