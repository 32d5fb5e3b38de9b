package dev.raftkit.core;

import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.message.Message;
import dev.raftkit.testkit.cluster.Describe;
import dev.raftkit.testkit.cluster.Invariants;
import dev.raftkit.testkit.cluster.TestCluster;
import dev.raftkit.testkit.cluster.TestNode;
import dev.raftkit.testkit.datadriven.DataDriven;
import dev.raftkit.testkit.datadriven.ScriptCommand;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every golden script in {@code src/test/resources/golden} (see {@link DataDriven}); the
 * commands are documented in that folder's README.
 */
class GoldenScriptTest {

    static final Path SCRIPTS = Path.of("src/test/resources/golden");

    @TestFactory
    Stream<DynamicTest> scripts() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(SCRIPTS)) {
            files = s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(),
                () -> DataDriven.run(f, new Interpreter()::run)));
    }

    /** Maps script commands onto a {@link TestCluster}. */
    static final class Interpreter {
        private TestCluster cluster;
        /** Protocol decisions (Tracer events) since the last command, when the script asked for them. */
        private final List<String> events = new ArrayList<>();
        /** Raft's safety properties, checked after every command (a violation fails the script). */
        private Invariants invariants = new Invariants();

        String run(ScriptCommand c) {
            StringBuilder out = new StringBuilder(runCommand(c));
            if (cluster != null) {
                try {
                    invariants.check(cluster);
                } catch (AssertionError e) {
                    throw new AssertionError(c.location() + ": after '" + String.join(" ", c.name(),
                            String.join(" ", c.positional())).strip() + "': " + e.getMessage() + "\noutput so far:\n" + out, e);
                }
            }
            if (!events.isEmpty()) {
                if (!out.isEmpty() && out.charAt(out.length() - 1) != '\n') {
                    out.append('\n');
                }
                events.forEach(e -> out.append("~ ").append(e).append('\n'));
                events.clear();
            }
            return out.toString();
        }

        private String runCommand(ScriptCommand c) {
            StringBuilder out = new StringBuilder();
            switch (c.name()) {
                case "add-nodes" -> {
                    int n = Integer.parseInt(c.positional().get(0));
                    cluster = TestCluster.of(n, b -> b
                            .preVote(c.getBool("prevote", false))
                            .checkQuorum(c.getBool("checkquorum", false))
                            .electionTicks((int) c.getLong("election", 10))
                            .heartbeatTicks((int) c.getLong("heartbeat", 1))
                            .maxMsgBytes(c.getLong("max-msg-bytes", 1 << 20))
                            .maxInflightMsgs((int) c.getLong("max-inflight", 256))
                            .maxInflightBytes(c.getLong("max-inflight-bytes", 32L << 20))
                            .maxUncommittedBytes(c.getLong("max-uncommitted", 64L << 20)));
                    invariants = new Invariants();
                    if (c.getBool("trace", false)) {
                        cluster.setTracer((node, kind, detail) -> events.add(node + " " + kind + ": " + detail));
                    }
                    out.append(state());
                }
                case "add-node" -> {
                    cluster.addNode(c.id(0));
                    out.append("node ").append(c.id(0)).append(" added with an empty log");
                }
                case "repeat" -> {
                    // repeat N CMD ARGS…: CMD N times, the invariants checked after each; the
                    // output of the last (the earlier ones mostly say the same).
                    if (c.positional().size() < 2) {
                        throw c.error("expects a count and a command: repeat N CMD ARGS…");
                    }
                    int n = Integer.parseInt(c.positional().get(0));
                    ScriptCommand inner = new ScriptCommand(c.positional().get(1), c.positional().subList(2, c.positional().size()),
                            c.named(), c.location());
                    String last = "";
                    for (int i = 0; i < n; i++) {
                        last = run(inner);
                    }
                    out.append(last);
                }
                case "campaign" -> cluster.node(c.id(0)).raft().campaign();
                case "tick" -> cluster.tick(c.id(0), (int) c.getLong("n", 1));
                case "tick-all" -> cluster.tickAll((int) c.getLong("n", 1));
                case "tick-burst" -> c.ids().forEach(id -> cluster.node(id).raft().tick(c.getLong("n", 1)));
                case "tick-election" -> c.ids().forEach(cluster::tickElection);
                case "tick-heartbeat" -> c.ids().forEach(cluster::tickHeartbeat);
                case "propose" -> out.append("proposed at ").append(cluster.node(c.id(0)).raft()
                        .propose(c.get("data", "").getBytes(StandardCharsets.UTF_8)));
                case "propose-conf-change" -> out.append("proposed at ").append(
                        cluster.node(c.id(0)).raft().proposeConfChange(confChange(c)));
                case "read-index" -> cluster.node(c.id(0)).raft().readIndex(c.getLong("req", 1),
                        c.getBool("lease", false) ? ReadMode.LEASE : ReadMode.LINEARIZABLE);
                case "transfer-leadership" -> cluster.node(c.getLong("from", 0)).raft()
                        .transferLeadership(c.getLong("to", 0));
                case "copy-disk" -> cluster.copyDisk(c.id(0));
                case "restore-copy" -> cluster.restoreCopy(c.id(0));
                case "step-down" -> cluster.node(c.id(0)).raft().stepDown("told to by the script");
                case "report-unreachable" -> cluster.node(c.getLong("from", 0)).raft()
                        .reportUnreachable(c.getLong("to", 0));
                case "report-snapshot" -> cluster.node(c.getLong("from", 0)).raft()
                        .reportSnapshot(c.getLong("to", 0), c.getBool("ok", true));
                case "process-ready" -> {
                    for (long id : c.ids()) {
                        Ready r = cluster.processReady(id);
                        out.append(r == null ? "> " + id + " no Ready\n" : Describe.ready(id, r));
                    }
                }
                case "take-ready" -> {
                    for (long id : c.ids()) {
                        out.append(Describe.ready(id, cluster.takeReady(id)));
                    }
                }
                case "persist" -> {
                    long id = c.id(0);
                    TestNode n = cluster.node(id);
                    long upTo = c.getLong("upto", n.unpersisted().isEmpty() ? 0
                            : n.unpersisted().get(n.unpersisted().size() - 1).number());
                    cluster.persist(id, upTo);
                    out.append("node ").append(id).append(" persisted Readys up to ").append(upTo);
                }
                case "deliver-msgs" -> {
                    Predicate<Message> which = filter(c);
                    List<Message> delivered = cluster.deliver(which);
                    delivered.forEach(m -> out.append(Describe.message(m)).append('\n'));
                    collapse(cluster.drainLog()).forEach(l -> out.append(l).append('\n'));
                    if (delivered.isEmpty()) {
                        out.append("no messages");
                    }
                }
                case "drop-msgs" -> {
                    List<Message> dropped = cluster.drop(filter(c));
                    List<String> lines = new ArrayList<>();
                    dropped.forEach(m -> lines.add("dropped " + Describe.message(m)));
                    collapse(lines).forEach(l -> out.append(l).append('\n'));
                }
                case "dup-msgs" -> {
                    List<Message> copies = cluster.duplicate(filter(c));
                    copies.forEach(m -> out.append("duplicated ").append(Describe.message(m)).append('\n'));
                    if (copies.isEmpty()) {
                        out.append("no messages");
                    }
                }
                case "replay-msg" -> out.append("replayed ").append(Describe.message(
                        cluster.replay(filter(c), (int) c.getLong("back", 1))));
                case "hold-msgs" -> {
                    List<Message> held = cluster.hold(filter(c));
                    held.forEach(m -> out.append("held ").append(Describe.message(m)).append('\n'));
                    if (held.isEmpty()) {
                        out.append("no messages");
                    }
                }
                case "release-msgs" -> {
                    List<Message> released = cluster.release(filter(c));
                    released.forEach(m -> out.append("released ").append(Describe.message(m)).append('\n'));
                    if (released.isEmpty()) {
                        out.append("no messages");
                    }
                }
                case "wipe" -> {
                    cluster.wipe(c.id(0));
                    out.append("node ").append(c.id(0)).append(" lost all durable state and restarted empty (recovering)");
                }
                case "stabilize" -> {
                    cluster.stabilize();
                    collapse(cluster.drainLog()).forEach(l -> out.append(l).append('\n'));
                    out.append(state());
                }
                case "isolate" -> cluster.isolate(c.id(0));
                case "cut" -> cluster.cut(c.id(0), c.id(1));
                case "cut-one-way" -> cluster.cutOneWay(c.id(0), c.id(1));
                case "heal" -> cluster.heal();
                case "crash" -> cluster.crash(c.id(0));
                case "restart" -> cluster.restart(c.id(0));
                case "compact" -> {
                    cluster.compact(c.id(0));
                    TestNode n = cluster.node(c.id(0));
                    out.append("node ").append(c.id(0)).append(" log now starts at ").append(n.storage().firstIndex());
                }
                case "state" -> out.append(state());
                case "status" -> {
                    Status s = cluster.node(c.id(0)).raft().status();
                    out.append(s.role()).append(" term=").append(s.term()).append(" vote=").append(s.vote())
                            .append(" lead=").append(s.leader()).append(" commit=").append(s.commit())
                            .append(" applied=").append(s.applied()).append(" last=").append(s.lastIndex())
                            .append(" first=").append(s.firstIndex()).append('\n').append(s.conf());
                    if (s.recovering()) {
                        out.append(" recovering");
                    }
                    if (s.leadTransferee() != 0) {
                        out.append("\ntransferring to ").append(s.leadTransferee());
                    }
                    s.progress().forEach((id, p) -> out.append('\n').append(id).append(": ").append(p));
                }
                case "raft-log" -> {
                    TestNode n = cluster.node(c.id(0));
                    long first = n.storage().firstIndex();
                    long last = n.storage().lastIndex();
                    List<Entry> es = first > last ? List.of() : n.storage().entries(first, last + 1, Long.MAX_VALUE);
                    out.append(es.isEmpty() ? "log is empty" : Describe.entries(es));
                }
                case "log" -> {
                    // The node's own view of its log (durable part and unstable part).
                    RaftCore r = cluster.node(c.id(0)).raft();
                    long first = r.log().firstIndex();
                    long last = r.log().lastIndex();
                    List<Entry> es = first > last ? List.of() : r.log().slice(first, last + 1, Long.MAX_VALUE);
                    out.append(es.isEmpty() ? "log is empty" : Describe.entries(es)).append('\n')
                            .append("durable up to ").append(r.log().lastStableIndex())
                            .append(", commit=").append(r.committed()).append(", applied=").append(r.log().applied());
                }
                case "applied" -> {
                    for (long id : c.ids()) {
                        out.append(id).append(": ").append(TestCluster.describe(cluster.node(id).applied())).append('\n');
                    }
                }
                default -> throw c.error("is not a known command");
            }
            return out.toString();
        }

        /**
         * Lines about dropped messages (a partitioned node's heartbeats pile up) printed once per
         * distinct line, in order of first appearance, with a count; other lines unchanged.
         */
        private static List<String> collapse(List<String> lines) {
            java.util.LinkedHashMap<String, Integer> dropped = new java.util.LinkedHashMap<>();
            List<String> out = new ArrayList<>();
            for (String l : lines) {
                if (l.startsWith("dropped ")) {
                    dropped.merge(l, 1, Integer::sum);
                } else {
                    out.add(l);
                }
            }
            List<String> all = new ArrayList<>();
            dropped.forEach((l, n) -> all.add(n > 1 ? l + " (x" + n + ")" : l));
            all.addAll(out);
            return all;
        }

        private String state() {
            StringBuilder sb = new StringBuilder();
            for (TestNode n : cluster.nodes()) {
                RaftCore r = n.raft();
                sb.append(n.id()).append(": ").append(n.crashed() ? "CRASHED " : "").append(r.role())
                        .append(" term=").append(r.term()).append(" lead=").append(r.leader())
                        .append(" commit=").append(r.committed()).append(" applied=").append(n.appliedIndex())
                        .append(" last=").append(r.log().lastIndex()).append(r.isRecovering() ? " recovering" : "")
                        .append('\n');
            }
            return sb.toString();
        }

        private static Predicate<Message> filter(ScriptCommand c) {
            long from = c.getLong("from", 0);
            long to = c.getLong("to", 0);
            String type = c.get("type", "");
            Set<Long> targets = Set.copyOf(c.ids());
            return m -> (from == 0 || m.from() == from) && (to == 0 || m.to() == to)
                    && (targets.isEmpty() || targets.contains(m.to()))
                    && (type.isEmpty() || m.getClass().getSimpleName().equals(type));
        }

        /** {@code propose-conf-change 1 v4 l5 r2 transition=implicit}; no steps means leave joint. */
        private static ConfChange confChange(ScriptCommand c) {
            List<ConfChange.Step> steps = new ArrayList<>();
            for (String p : c.positional().subList(1, c.positional().size())) {
                long node = Long.parseLong(p.substring(1));
                steps.add(new ConfChange.Step(switch (p.charAt(0)) {
                    case 'v' -> ConfChange.Type.ADD_VOTER;
                    case 'l' -> ConfChange.Type.ADD_LEARNER;
                    case 'r' -> ConfChange.Type.REMOVE;
                    default -> throw c.error("step '" + p + "' is not v<id>, l<id> or r<id>");
                }, node));
            }
            ConfChange.Transition t = switch (c.get("transition", "auto")) {
                case "auto" -> ConfChange.Transition.AUTO;
                case "implicit" -> ConfChange.Transition.JOINT_IMPLICIT;
                case "explicit" -> ConfChange.Transition.JOINT_EXPLICIT;
                default -> throw c.error("transition must be auto, implicit or explicit");
            };
            return new ConfChange(steps, t);
        }
    }
}
