package dev.raftkit.cli;

import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.NodeStatus;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.node.HostPort;
import io.grpc.StatusRuntimeException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code raftkit member add|promote|remove}: membership changes, one node at a time, through the
 * leader (joint consensus is not needed for single changes, thesis §4.1). A new node joins as a
 * learner, catches up, then is promoted: it never holds up commits while it is behind (§4.2.1).
 */
@Command(name = "member", mixinStandardHelpOptions = true,
        description = "List the cluster's members, or change them: add a node (as a learner), promote it to voter, remove a node.",
        subcommands = {MemberCommands.ListMembers.class, MemberCommands.Add.class, MemberCommands.Promote.class,
                MemberCommands.Remove.class},
        footer = {"", "Exit codes: 0 the change is committed, 1 the cluster could not make it, 2 bad arguments.",
                "--json (every subcommand) prints one JSON object instead: list {voters,learners,leader,node};",
                "add, promote, remove {node,change,voters} (add also {promoted}).",
                "", "Adding node 4 (start it first: no --bootstrap, nodes 1-3 in its --peers):",
                "  raftkit member add 4 --address 127.0.0.1:7004/8004 \\",
                "      -c 127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003 --cluster-id demo",
                "  raftkit member promote 4 -c 127.0.0.1:8001 --cluster-id demo"})
final class MemberCommands implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "say what to do: raftkit member list|add|promote|remove (see raftkit member --help)");
    }

    static void checkId(CommandLine cl, long node, String what) {
        if (node <= 0) {
            throw new ParameterException(cl, what + " must be a positive node id, got " + node);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Print the voters and learners, as the leader sees them (or, with no leader, the first node of"
                    + " --cluster that answers).",
            footer = {"", "Example:", "  raftkit member list -c 127.0.0.1:8001,127.0.0.1:8002 --cluster-id demo --json"})
    static final class ListMembers extends ScriptableCommand {
        @Override
        int run(RaftClient client) {
            NodeStatus view = null;
            String lastError = null;
            for (long id : nodes.keySet()) {
                try {
                    NodeStatus s = client.status(id);
                    if (view == null || s.isLeader()) {
                        view = s;
                    }
                    if (s.isLeader()) {
                        break;
                    }
                } catch (RaftException e) {
                    lastError = e.getMessage();
                }
            }
            if (view == null) {
                return fail("no node answered: " + lastError);
            }
            String whose = view.isLeader() ? "node " + view.nodeId() + ", the leader," : "node " + view.nodeId()
                    + " (no leader answered)";
            print("voters " + view.voters() + ", learners " + view.learners() + " (as " + whose + " sees them)",
                    Json.object().field("voters", view.voters()).field("learners", view.learners())
                            .field("leader", view.leaderId() == 0 ? null : view.leaderId())
                            .field("node", view.nodeId()));
            return OK;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add node NODE as a learner (with --voter: then promote it once it has caught up). With --address, first tell every node of --cluster where NODE listens (until they restart: then list it in their --peers).",
            footer = {"", "Example:",
                    "  raftkit member add 4 --address 127.0.0.1:7004/8004 \\",
                    "      -c 127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003 --cluster-id demo"})
    static final class Add extends ScriptableCommand {
        @Parameters(index = "0", paramLabel = "NODE")
        long node;

        @Option(names = "--address", paramLabel = "HOST:PORT/CLIENT_PORT",
                description = "Where NODE listens: its peer address, '/', its client port (or CLIENT_HOST:CLIENT_PORT).")
        String address;

        @Option(names = "--voter", description = "Then promote it to voter once it has caught up (retried until --timeout); a node is never made a voter before that.")
        boolean voter;

        @Option(names = "--force", description = "With --voter: promote it even if the new voters would not hold a quorum of live nodes.")
        boolean force;

        private InetSocketAddress peer;
        private String client;

        @Override
        void check(CommandLine cl) {
            checkId(cl, node, "NODE");
            if (address == null) {
                return;
            }
            int slash = address.indexOf('/');
            if (slash < 0) {
                throw new ParameterException(cl, "--address '" + address + "' is not HOST:PORT/CLIENT_PORT (for example"
                        + " 127.0.0.1:7004/8004)");
            }
            try {
                peer = HostPort.parse(address.substring(0, slash), "--address: peer address");
                String c = address.substring(slash + 1);
                client = c.contains(":") ? HostPort.format(HostPort.parse(c, "--address: client address"))
                        : peer.getHostString() + ":" + HostPort.port(c, "--address: client port");
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, e.getMessage());
            }
        }

        @Override
        int run(RaftClient client) {
            if (peer != null && !announce()) {
                return FAILED;
            }
            // The leader refuses a direct ADD_VOTER of a node that is not a caught-up learner: a voter
            // that does not run or lags counts toward every quorum. So --voter is two steps.
            List<Long> voters = client.addLearner(node);
            if (!voter) {
                print("node " + node + " added as a learner; voters now " + voters + "\npromote it once it has caught up:"
                        + " raftkit member promote " + node + " ...", change(node, "added", voters).field("promoted", false));
                return OK;
            }
            if (!json) {
                print("node " + node + " added as a learner; voters now " + voters);
            }
            List<Long> after = client.promote(node, force);
            print("node " + node + " promoted; voters now " + after, change(node, "added", after).field("promoted", true));
            return OK;
        }

        /** Tells every node where the new one listens; true if at least one learnt it. */
        private boolean announce() {
            TlsConfig tls = cluster.tls(spec.commandLine());
            int told = 0;
            for (Map.Entry<Long, String> n : nodes.entrySet()) {
                try (AdminClient admin = new AdminClient(HostPort.parse(n.getValue(), "node address"), tls)) {
                    admin.addPeer(cluster.clusterId, node, HostPort.format(peer), client, cluster.timeout()).get();
                    told++;
                } catch (java.util.concurrent.ExecutionException e) {
                    warn("node " + n.getKey() + " (" + n.getValue() + ") did not learn node " + node + "'s address: "
                            + describe(e.getCause()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            if (told == 0) {
                warn("no node learnt where node " + node + " listens; nothing changed");
                return false;
            }
            return true;
        }
    }

    /** A committed change for {@code --json}: the node, what happened to it, the voters after. */
    static Json change(long node, String what, List<Long> voters) {
        return Json.object().field("node", node).field("change", what).field("voters", voters);
    }

    static String describe(Throwable t) {
        if (t instanceof RaftException r) {
            // The admin client's refusals wrap the node's gRPC status: its code and words are
            // what the operator needs; the client's own failures say it in their message.
            if (!(r.getCause() instanceof StatusRuntimeException)) {
                return r.getMessage();
            }
            t = r.getCause();
        }
        if (t instanceof StatusRuntimeException s) {
            return s.getStatus().getCode() + (s.getStatus().getDescription() == null ? ""
                    : ": " + s.getStatus().getDescription());
        }
        return String.valueOf(t);
    }

    @Command(name = "promote", mixinStandardHelpOptions = true,
            description = "Make learner NODE a voter, once it is live and has caught up with the leader (retried until --timeout)."
                    + " Refused if the new voters would not hold a quorum of live nodes, unless --force.",
            footer = {"", "Example:", "  raftkit member promote 4 -c 127.0.0.1:8001,127.0.0.1:8002 --cluster-id demo"})
    static final class Promote extends ScriptableCommand {
        @Parameters(index = "0", paramLabel = "NODE")
        long node;

        @Option(names = "--force", description = "Promote it even if the new voters would not hold a quorum of live nodes.")
        boolean force;

        @Override
        void check(CommandLine cl) {
            checkId(cl, node, "NODE");
        }

        @Override
        int run(RaftClient client) {
            List<Long> voters = client.promote(node, force);
            print("node " + node + " promoted; voters now " + voters, change(node, "promoted", voters));
            return OK;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove NODE (voter or learner) from the cluster. Stop its server afterwards; removing the leader makes it step down once the change commits."
                    + " Refused, with the arithmetic, if the remaining voters would not hold a quorum of live nodes, unless --force.",
            footer = {"", "Example:", "  raftkit member remove 4 -c 127.0.0.1:8001,127.0.0.1:8002 --cluster-id demo"})
    static final class Remove extends ScriptableCommand {
        @Parameters(index = "0", paramLabel = "NODE")
        long node;

        @Option(names = "--force", description = "Remove it even if the remaining voters would not hold a quorum of live nodes"
                + " (the cluster may then commit nothing until the missing nodes return).")
        boolean force;

        @Override
        void check(CommandLine cl) {
            checkId(cl, node, "NODE");
        }

        @Override
        int run(RaftClient client) {
            List<Long> voters = client.remove(node, force);
            print("node " + node + " removed; voters now " + voters, change(node, "removed", voters));
            return OK;
        }
    }
}
