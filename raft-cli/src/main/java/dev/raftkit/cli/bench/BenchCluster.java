package dev.raftkit.cli.bench;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.runtime.RaftServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The benchmark's 3-node cluster: in this JVM ({@link #inJvm}) or as three JVMs started from the
 * same class path running the hidden {@code bench-node} command ({@link #processes}), which answer
 * a {@code stats} line on stdin with their counters.
 */
abstract class BenchCluster implements AutoCloseable {

    static final Set<Long> VOTERS = Set.of(1L, 2L, 3L);

    /**
     * Counters at one instant: the current leader's log syncs and appended entries, syncs of all
     * nodes, CPU time and GC time of every JVM involved, elections won so far.
     */
    record Counters(long atNanos, long leaderSyncs, long leaderEntries, long allSyncs, long cpuNanos, long gcMillis,
                    long elections, long contextSwitches) {
    }

    abstract void awaitLeader(Duration timeout) throws Exception;

    /** The leader's server, for in-process clients (in-JVM clusters only). */
    abstract RaftServer leaderServer();

    /** Every node's client address. */
    abstract Map<Long, String> clientAddresses();

    abstract Counters counters() throws IOException;

    @Override
    public abstract void close();

    /** {@code metrics}: every node records its metrics into a registry of its own (the cost of metrics on). */
    static BenchCluster inJvm(Path data, StateMachineKind kind, boolean metrics) throws IOException {
        return new InJvm(data, kind, metrics);
    }

    static BenchCluster processes(Path data, List<String> jvmOpts, PrintWriter err, StateMachineKind kind,
                                  boolean metrics) throws IOException {
        return new Processes(data, jvmOpts, err, kind, metrics);
    }

    // ------------------------------------------------------------------ in one JVM

    private static final class InJvm extends BenchCluster {
        private final List<BenchNode> nodes = new ArrayList<>();

        InJvm(Path data, StateMachineKind kind, boolean metrics) throws IOException {
            InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
            try {
                for (long id : new TreeMap<Long, Boolean>(Map.of(1L, true, 2L, true, 3L, true)).keySet()) {
                    nodes.add(BenchNode.start(id, VOTERS, data.resolve("n" + id), any, any, Map.of(), kind, metrics));
                }
                for (BenchNode a : nodes) {
                    for (BenchNode b : nodes) {
                        if (a != b) {
                            a.addPeer(b.id(), b.peerAddress(), b.clientHostPort());
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        private BenchNode leader() {
            BenchNode found = null;
            for (BenchNode n : nodes) {
                if (n.server().status().isLeader()) {
                    found = n;
                }
            }
            return found;
        }

        @Override
        void awaitLeader(Duration timeout) throws Exception {
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end) {
                BenchNode l = leader();
                if (l != null) {
                    // An entry of the new term commits before the leader serves. A session entry,
                    // not an empty command: the state machine refuses that before it is proposed.
                    l.server().openSession().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    return;
                }
                TimeUnit.MILLISECONDS.sleep(20);
            }
            throw new IllegalStateException("no leader elected within " + timeout);
        }

        @Override
        RaftServer leaderServer() {
            BenchNode l = leader();
            if (l == null) {
                throw new IllegalStateException("no leader");
            }
            return l.server();
        }

        @Override
        Map<Long, String> clientAddresses() {
            Map<Long, String> m = new TreeMap<>();
            nodes.forEach(n -> m.put(n.id(), n.clientHostPort()));
            return m;
        }

        @Override
        Counters counters() {
            BenchNode l = leader();
            long all = 0;
            long elections = 0;
            for (BenchNode n : nodes) {
                all += n.syncs();
                elections += n.elected();
            }
            return new Counters(System.nanoTime(), l == null ? 0 : l.syncs(), l == null ? 0 : l.entries(), all,
                    BenchCommand.processCpuNanos(), BenchCommand.gcMillis(), elections, BenchCommand.contextSwitches());
        }

        @Override
        public void close() {
            for (BenchNode n : nodes) {
                try {
                    n.close();
                } catch (RuntimeException e) {
                    // keep closing the others
                }
            }
        }
    }

    // ------------------------------------------------------------------ three JVMs

    private static final class Processes extends BenchCluster {
        private final Map<Long, Process> procs = new TreeMap<>();
        private final Map<Long, BufferedReader> outs = new HashMap<>();
        private final Map<Long, Writer> ins = new HashMap<>();
        private final Map<Long, String> clientAddresses = new TreeMap<>();
        private final Path data;

        Processes(Path data, List<String> jvmOpts, PrintWriter err, StateMachineKind kind, boolean metrics)
                throws IOException {
            this.data = data;
            Map<Long, Integer> peerPorts = new TreeMap<>();
            Map<Long, Integer> clientPorts = new TreeMap<>();
            List<ServerSocket> held = new ArrayList<>();
            try {
                for (long id : List.of(1L, 2L, 3L)) {
                    ServerSocket a = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                    ServerSocket b = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                    held.add(a);
                    held.add(b);
                    peerPorts.put(id, a.getLocalPort());
                    clientPorts.put(id, b.getLocalPort());
                }
            } finally {
                for (ServerSocket s : held) {
                    s.close();
                }
            }
            StringBuilder peers = new StringBuilder();
            peerPorts.forEach((id, port) -> peers.append(peers.length() == 0 ? "" : ",").append(id).append("=127.0.0.1:").append(port));
            StringBuilder clients = new StringBuilder();
            clientPorts.forEach((id, port) -> {
                clients.append(clients.length() == 0 ? "" : ",").append(id).append("=127.0.0.1:").append(port);
                clientAddresses.put(id, "127.0.0.1:" + port);
            });
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            try {
                for (long id : List.of(1L, 2L, 3L)) {
                    List<String> cmd = new ArrayList<>();
                    cmd.add(java);
                    cmd.addAll(jvmOpts);
                    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.raftkit.cli.Raftkit",
                            "bench-node", "--id", Long.toString(id), "--dir", data.resolve("n" + id).toString(),
                            "--peers", peers.toString(), "--clients", clients.toString(), "--sm", kind.cliName(),
                            "--metrics", metrics ? "on" : "off"));
                    Files.createDirectories(data);
                    Process p = new ProcessBuilder(cmd).redirectError(data.resolve("node-" + id + ".log").toFile()).start();
                    procs.put(id, p);
                    outs.put(id, new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
                    ins.put(id, new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8));
                }
                for (long id : procs.keySet()) {
                    String line = outs.get(id).readLine();
                    if (line == null || !line.startsWith("READY")) {
                        throw new IOException("bench node " + id + " did not start (said: " + line + "); its log: "
                                + tail(data.resolve("node-" + id + ".log")));
                    }
                }
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        private static String tail(Path log) {
            try {
                String s = Files.readString(log);
                return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
            } catch (IOException e) {
                return "(unreadable: " + e.getMessage() + ")";
            }
        }

        /** Asks every node for its counters: {@code STATS leader syncs entries elected cpuNanos gcMillis switches}. */
        private Map<Long, long[]> stats() throws IOException {
            for (long id : procs.keySet()) {
                Writer w = ins.get(id);
                w.write("stats\n");
                w.flush();
            }
            Map<Long, long[]> m = new TreeMap<>();
            for (long id : procs.keySet()) {
                String line = outs.get(id).readLine();
                if (line == null || !line.startsWith("STATS ")) {
                    throw new IOException("bench node " + id + " stopped answering (said: " + line + "); its log: "
                            + tail(data.resolve("node-" + id + ".log")));
                }
                String[] f = line.substring(6).trim().split(" ");
                long[] v = new long[f.length];
                for (int i = 0; i < f.length; i++) {
                    v[i] = Long.parseLong(f[i]);
                }
                m.put(id, v);
            }
            return m;
        }

        @Override
        void awaitLeader(Duration timeout) throws Exception {
            long end = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < end) {
                for (long[] v : stats().values()) {
                    if (v[0] == 1) {
                        return;
                    }
                }
                TimeUnit.MILLISECONDS.sleep(20);
            }
            throw new IllegalStateException("no leader elected within " + timeout);
        }

        @Override
        RaftServer leaderServer() {
            throw new UnsupportedOperationException("the nodes run in other processes");
        }

        @Override
        Map<Long, String> clientAddresses() {
            return clientAddresses;
        }

        @Override
        Counters counters() throws IOException {
            Map<Long, long[]> s = stats();
            long leaderSyncs = 0;
            long leaderEntries = 0;
            long all = 0;
            long cpu = BenchCommand.processCpuNanos();
            long gc = BenchCommand.gcMillis();
            long elections = 0;
            long switches = BenchCommand.contextSwitches();
            for (long[] v : s.values()) {
                if (v[0] == 1) {
                    leaderSyncs = v[1];
                    leaderEntries = v[2];
                }
                all += v[1];
                elections += v[3];
                cpu += v[4];
                gc += v[5];
                switches = switches < 0 || v[6] < 0 ? -1 : switches + v[6];
            }
            return new Counters(System.nanoTime(), leaderSyncs, leaderEntries, all, cpu, gc, elections, switches);
        }

        @Override
        public void close() {
            for (Writer w : ins.values()) {
                try {
                    w.close(); // end of input: the node shuts down
                } catch (IOException e) {
                    // it is gone already
                }
            }
            for (Process p : procs.values()) {
                try {
                    if (!p.waitFor(15, TimeUnit.SECONDS)) {
                        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
