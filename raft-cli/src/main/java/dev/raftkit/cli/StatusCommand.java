package dev.raftkit.cli;

import dev.raftkit.grpc.NodeStatus;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/** {@code raftkit status}: every node's role, term, leader and indexes, and the membership. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Ask every node of --cluster for its status: role, term, leader, commit/applied/last index; then the voters and learners as the leader sees them.",
        footer = {"", "Exit codes: 0 every node answered and all name the same leader, 1 otherwise (the table says",
                "which node did not answer or disagrees), 2 bad arguments.",
                "", "Example:", "  raftkit status -c 127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003 --cluster-id demo"})
final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ClusterOptions cluster;

    @Option(names = "--json", description = "Print one JSON object (for scripts) instead of the table; the exit code is the same.")
    boolean json;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        List<ClusterOptions.Address> nodes = cluster.parse(cl);
        List<ClusterOptions.Probe> probes = cluster.probe(nodes, cluster.tls(cl));
        return (json ? json(cl.getOut(), probes) : report(cl.getOut(), probes)) ? 0 : 1;
    }

    /**
     * The status as one JSON object: {@code nodes} (each {@code address}, {@code reachable}, and
     * either the node's {@code id, role, running, recovering, term, leader, commit, applied, last}
     * or the {@code error}), {@code voters} and {@code learners} as the leader (or the first node
     * that answered) sees them, the {@code leader} all agree on or null, and {@code healthy} (the
     * exit code's verdict). True if healthy.
     */
    static boolean json(PrintWriter out, List<ClusterOptions.Probe> probes) {
        List<Json> nodes = new ArrayList<>();
        Set<Long> leaders = new TreeSet<>();
        NodeStatus view = null;
        boolean allAnswered = true;
        for (ClusterOptions.Probe p : probes) {
            Json node = Json.object().field("address", p.address().hostPort()).field("reachable", p.answered());
            nodes.add(node);
            if (!p.answered()) {
                allAnswered = false;
                node.field("error", p.error());
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
                    .field("applied", s.appliedIndex()).field("last", s.lastIndex());
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
    static boolean report(PrintWriter out, List<ClusterOptions.Probe> probes) {
        out.printf("%-6s %-14s %6s %7s %8s %8s %8s  %s%n", "NODE", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "LAST",
                "ADDRESS");
        Set<Long> leaders = new TreeSet<>();
        NodeStatus leaderView = null;
        boolean allAnswered = true;
        List<String> unreachable = new ArrayList<>();
        for (ClusterOptions.Probe p : probes) {
            if (!p.answered()) {
                allAnswered = false;
                out.printf("%-6s %-14s %6s %7s %8s %8s %8s  %s%n", p.address().id() == 0 ? "?" : p.address().id(),
                        "UNREACHABLE", "-", "-", "-", "-", "-", p.address().hostPort());
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
            if (s.isLeader()) {
                leaderView = s;
            }
            out.printf("%-6d %-14s %6d %7s %8d %8d %8d  %s%n", s.nodeId(), s.state(),
                    s.term(), s.leaderId() == 0 ? "-" : String.valueOf(s.leaderId()), s.commitIndex(),
                    s.appliedIndex(), s.lastIndex(), p.address().hostPort());
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
}
