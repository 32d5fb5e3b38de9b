package dev.raftkit.cli;

import dev.raftkit.grpc.NodeStatus;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/** {@code raftkit status}: every node's role, term, leader, indexes, lag, health, snapshot, log size, uptime and version, and the membership. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Ask every node of --cluster for its status: role, term, leader, commit/applied/last index, each follower's lag behind the leader's last index and its health (ok, lagging, unreachable, stopped, recovering; as the leader sees it), its snapshot index, log size, uptime and version; then the voters and learners as the leader sees them.",
        footer = {"", "Exit codes: 0 every node answered and all name the same leader, 1 otherwise (the table says",
                "which node did not answer or disagrees), 2 bad arguments.",
                "", "--json: {nodes:[{address,reachable,health,id,role,running,recovering,term,leader,commit,applied,",
                "last,lag,version,uptimeMillis,snapshotIndex,logBytes} or {address,reachable,health,error}],",
                "voters,learners,leader,healthy}",
                "", "Examples:", "  raftkit status -c 127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003 --cluster-id demo",
                "  raftkit status -c 127.0.0.1:8001,127.0.0.1:8002 --cluster-id demo --watch 1s"})
final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ClusterOptions cluster;

    /** A follower this many entries or more behind the leader's last index is lagging, by default. */
    static final long DEFAULT_LAGGING = 1000;

    @Option(names = "--json", description = "Print one JSON object (for scripts) instead of the table; the exit code is the same.")
    boolean json;

    @Option(names = "--watch", arity = "0..1", fallbackValue = "2s", converter = DurationConverter.class,
            paramLabel = "DURATION", description = "Refresh every DURATION (default 2s) until Ctrl-C: the screen is"
            + " cleared on a terminal; otherwise each table follows the last after a blank line (with --json, one"
            + " object per line).")
    Duration watch;

    @Option(names = "--count", paramLabel = "N", description = "With --watch: stop after N refreshes (the exit code is"
            + " the last one's).")
    Integer count;

    @Option(names = "--lagging", paramLabel = "ENTRIES", defaultValue = "" + DEFAULT_LAGGING,
            description = "A follower at least ENTRIES behind the leader's last index is 'lagging' (default "
                    + DEFAULT_LAGGING + ").")
    long lagging;

    @Override
    public Integer call() throws InterruptedException {
        CommandLine cl = spec.commandLine();
        if (count != null && count < 1) {
            throw new CommandLine.ParameterException(cl, "--count must be at least 1, got " + count);
        }
        if (count != null && watch == null) {
            throw new CommandLine.ParameterException(cl, "--count needs --watch (one status is the default)");
        }
        if (watch != null && (watch.isZero() || watch.isNegative())) {
            throw new CommandLine.ParameterException(cl, "--watch must be a positive duration, got " + watch);
        }
        if (lagging < 1) {
            throw new CommandLine.ParameterException(cl, "--lagging must be at least 1 entry, got " + lagging);
        }
        List<ClusterOptions.Address> nodes = cluster.parse(cl);
        PrintWriter out = cl.getOut();
        boolean terminal = System.console() != null && !json;
        boolean healthy = false;
        for (int n = 0; watch == null ? n < 1 : count == null || n < count; n++) {
            if (n > 0) {
                // The cadence an operator asked for; nothing else to wait on.
                Thread.sleep(watch.toMillis());
            }
            List<ClusterOptions.Probe> probes = cluster.probe(nodes, cluster.tls(cl));
            if (watch != null && terminal) {
                out.print("\033[H\033[2J"); // home and clear: the table redrawn in place
            } else if (n > 0 && !json) {
                out.println();
            }
            healthy = json ? json(out, probes, lagging) : report(out, probes, lagging);
        }
        return healthy ? 0 : 1;
    }

    /**
     * The status as one JSON object: {@code nodes} (each {@code address}, {@code reachable},
     * {@code health}, and either the node's {@code id, role, running, recovering, term, leader,
     * commit, applied, last, lag, version, uptimeMillis, snapshotIndex, logBytes} or the
     * {@code error}; {@code lag} is null but on a follower of a leader that answered, {@code version}
     * and {@code logBytes} null when the node does not know), {@code voters} and {@code learners} as the leader (or the first node
     * that answered) sees them, the {@code leader} all agree on or null, and {@code healthy} (the
     * exit code's verdict). True if healthy.
     */
    static boolean json(PrintWriter out, List<ClusterOptions.Probe> probes, long lagging) {
        List<Json> nodes = new ArrayList<>();
        Set<Long> leaders = new TreeSet<>();
        NodeStatus view = null;
        NodeStatus leaderView = leaderView(probes);
        boolean allAnswered = true;
        for (ClusterOptions.Probe p : probes) {
            Json node = Json.object().field("address", p.address().hostPort()).field("reachable", p.answered());
            nodes.add(node);
            if (!p.answered()) {
                allAnswered = false;
                node.field("error", p.error()).field("health", "unreachable");
                continue;
            }
            NodeStatus s = p.status();
            if (p.address().id() != 0 && p.address().id() != s.nodeId()) {
                allAnswered = false;
                node.field("error", "is node " + s.nodeId() + ", not " + p.address().id() + " as --cluster says");
            }
            leaders.add(s.leaderId());
            if (view == null || s.isLeader()) {
                view = s;
            }
            node.field("id", s.nodeId()).field("role", s.state()).field("running", s.running())
                    .field("recovering", s.recovering()).field("term", s.term())
                    .field("leader", s.leaderId() == 0 ? null : s.leaderId()).field("commit", s.commitIndex())
                    .field("applied", s.appliedIndex()).field("last", s.lastIndex())
                    .field("lag", lag(s, leaderView)).field("health", health(s, leaderView, lagging))
                    .field("version", s.version()).field("uptimeMillis", s.uptime().toMillis())
                    .field("snapshotIndex", s.snapshotIndex()).field("logBytes", s.logBytes() < 0 ? null : s.logBytes());
        }
        boolean agreed = leaders.size() == 1 && !leaders.contains(0L);
        Json b = Json.object().objects("nodes", nodes).field("voters", view == null ? null : view.voters())
                .field("learners", view == null ? null : view.learners())
                .field("leader", agreed ? leaders.iterator().next() : null)
                .field("healthy", allAnswered && agreed);
        out.println(b);
        out.flush();
        return allAnswered && agreed;
    }

    /**
     * Prints the status table of {@code probes} and the membership; true if every node answered
     * and all name the same leader.
     */
    static boolean report(PrintWriter out, List<ClusterOptions.Probe> probes, long lagging) {
        int width = Math.max("ADDRESS".length(),
                probes.stream().mapToInt(p -> p.address().hostPort().length()).max().orElse(0));
        String rest = " %6s  %-11s %8s %9s %7s  %s";
        row(out, String.format("%-6s %-14s %6s %7s %8s %8s %8s  %-" + width + "s" + rest, "NODE", "ROLE", "TERM",
                "LEADER", "COMMIT", "APPLIED", "LAST", "ADDRESS", "LAG", "HEALTH", "SNAPSHOT", "LOG", "UPTIME",
                "VERSION"));
        Set<Long> leaders = new TreeSet<>();
        NodeStatus leaderView = leaderView(probes);
        boolean allAnswered = true;
        List<String> unreachable = new ArrayList<>();
        for (ClusterOptions.Probe p : probes) {
            if (!p.answered()) {
                allAnswered = false;
                // Nothing is known past the address: the row ends there (scripts match it so).
                row(out, String.format("%-6s %-14s %6s %7s %8s %8s %8s  %s", p.address().id() == 0 ? "?" : p.address().id(),
                        "UNREACHABLE", "-", "-", "-", "-", "-", p.address().hostPort()));
                unreachable.add(p.address().hostPort() + ": " + p.error());
                continue;
            }
            NodeStatus s = p.status();
            if (p.address().id() != 0 && p.address().id() != s.nodeId()) {
                allAnswered = false;
                out.printf("%-6s %-14s %s is node %d, not %d as --cluster says%n", p.address().id(), "WRONG-ID",
                        p.address().hostPort(), s.nodeId(), p.address().id());
                continue;
            }
            leaders.add(s.leaderId());
            Long lag = lag(s, leaderView);
            row(out, String.format("%-6d %-14s %6d %7s %8d %8d %8d  %-" + width + "s" + rest, s.nodeId(), s.state(),
                    s.term(), s.leaderId() == 0 ? "-" : String.valueOf(s.leaderId()), s.commitIndex(),
                    s.appliedIndex(), s.lastIndex(), p.address().hostPort(), lag == null ? "-" : lag,
                    health(s, leaderView, lagging), s.snapshotIndex(), s.logBytes() < 0 ? "?" : bytes(s.logBytes()),
                    uptime(s.uptime()), s.version() == null ? "?" : s.version()));
        }
        unreachable.forEach(out::println);
        for (ClusterOptions.Probe p : probes) {
            if (p.answered() && p.status().recovering() && p.status().running()) {
                out.println("node " + p.status().nodeId() + " is recovering: it has no state of its own yet (new, or"
                        + " its data was lost) and neither votes nor counts toward commits until a leader has caught"
                        + " it up");
            }
        }
        NodeStatus view = leaderView != null ? leaderView
                : probes.stream().filter(ClusterOptions.Probe::answered).map(ClusterOptions.Probe::status).findFirst().orElse(null);
        if (view != null) {
            out.println("voters " + view.voters() + ", learners " + view.learners() + " (as node "
                    + view.nodeId() + " sees them)");
        }
        boolean agreed = leaders.size() == 1 && !leaders.contains(0L);
        if (view != null && !agreed) {
            out.println(leaders.contains(0L) && leaders.size() == 1 ? "no leader known: an election is on, or no majority is up"
                    : "the nodes name different leaders " + leaders + ": an election is on or a node is cut off");
        }
        out.flush();
        return allAnswered && agreed;
    }

    /** The running leader among the answers, whose view of its followers gives lag and health; or null. */
    static NodeStatus leaderView(List<ClusterOptions.Probe> probes) {
        NodeStatus leader = null;
        for (ClusterOptions.Probe p : probes) {
            if (p.answered() && p.status().isLeader() && (leader == null || p.status().term() > leader.term())) {
                leader = p.status(); // two claim it only across terms: the newer one leads
            }
        }
        return leader;
    }

    /** Entries {@code s} is behind the leader's last index, as the leader sees it; null if no leader answered or it has no view of {@code s}. */
    static Long lag(NodeStatus s, NodeStatus leaderView) {
        if (leaderView == null || s.nodeId() == leaderView.nodeId()) {
            return null;
        }
        NodeStatus.Follower f = leaderView.follower(s.nodeId());
        return f == null ? null : f.lag();
    }

    /**
     * {@code stopped} (its server stopped after a fault), {@code recovering} (it lost its state and
     * has not been caught up), {@code unreachable} (the leader has not heard from it within an
     * election timeout), {@code lagging} (at least {@code lagging} entries behind the leader's last
     * index) or {@code ok}. The last three are the leader's view; with no leader answering, a
     * running node is {@code ok}.
     */
    static String health(NodeStatus s, NodeStatus leaderView, long lagging) {
        if (!s.running()) {
            return "stopped";
        }
        if (s.recovering()) {
            return "recovering";
        }
        if (leaderView == null || s.nodeId() == leaderView.nodeId()) {
            return "ok";
        }
        NodeStatus.Follower f = leaderView.follower(s.nodeId());
        if (f == null) {
            return "ok";
        }
        if (f.recovering()) {
            return "recovering";
        }
        if (!f.live()) {
            return "unreachable";
        }
        return f.lag() >= lagging ? "lagging" : "ok";
    }

    /** {@code 812 B}, {@code 4.0 KiB}, {@code 63.2 MiB}, {@code 1.5 GiB}. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** {@code 42s}, {@code 3m05s}, {@code 2h00m}, {@code 3d04h}. */
    static String uptime(Duration d) {
        long s = d.toSeconds();
        return s >= 86_400 ? String.format(Locale.ROOT, "%dd%02dh", s / 86_400, s % 86_400 / 3600)
                : Progress.duration(d.toNanos() - d.toNanos() % 1_000_000_000L);
    }

    /** One table row, without the padding a last empty column leaves (so a line ends where its text does). */
    private static void row(PrintWriter out, String line) {
        out.println(line.stripTrailing());
    }
}
