package dev.raftkit.cli;

import dev.raftkit.cli.jepsen.JepsenNodeMain;
import dev.raftkit.core.ReadMode;
import dev.raftkit.jepsen.real.DiskControl;
import dev.raftkit.jepsen.real.JepsenOptions;
import dev.raftkit.jepsen.real.JepsenResult;
import dev.raftkit.jepsen.real.JepsenRun;
import dev.raftkit.jepsen.real.Nemesis;
import dev.raftkit.jepsen.real.NodeCommand;
import dev.raftkit.jepsen.real.NodeSpec;
import dev.raftkit.jepsen.real.RunIndex;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code raftkit jepsen}: a Jepsen-style test of real node processes on loopback. */
@Command(name = "jepsen", mixinStandardHelpOptions = true,
        description = "Start a cluster of key-value (or, with --sm sql, SQL) server processes on loopback (every peer link through a "
                + "fault-injecting proxy), run clients against it while a nemesis kills, pauses, partitions and "
                + "corrupts disks on a seeded schedule, then heal and check: linearizability per key, no acknowledged "
                + "write lost, a leader within 30 s, every node converged. Writes a report directory with "
                + "history.jsonl, nemesis.jsonl, the nodes' logs and report.html. The last line is 'valid' or "
                + "'INVALID' with counts; exit code 0 when valid, 1 when not. With --sm sql the clients run list-append "
                + "transactions (BEGIN ... COMMIT as one SQL write) and an Elle-style checker judges the history for "
                + "strict serializability: anomaly counts by class (G0, G1a, G1b, G1c, G-single, G2...), the smallest "
                + "cycle of each, and the committed transactions.",
        footer = {"", "Examples:", "  raftkit jepsen --nodes 3 --time 60s --nemesis kill,partition --seed 1",
                "  raftkit jepsen --nodes 5 --time 10m --nemesis kill,pause,partition,disk --seed 7 --report /tmp/j7",
                "  raftkit jepsen --nodes 3 --time 60s --nemesis kill,partition,power --seed 3   (power loss: unsynced writes lost)",
                "  raftkit jepsen --nodes 3 --time 20s --nemesis partition --reads local   (unsafe on purpose: INVALID)",
                "  raftkit jepsen --sm sql --nodes 5 --time 10m --nemesis kill,pause,partition,disk,membership",
                "  raftkit jepsen --sm sql --time 20s --testing-split-sql-transactions   (planted bug: INVALID)"})
final class JepsenCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--nodes", defaultValue = "3", description = "Cluster size (default 3).")
    int nodes;

    @Option(names = "--time", defaultValue = "60s", converter = DurationConverter.class,
            description = "How long to run the workload: 90s, 1.5m, 10m, 1h (default 60s).")
    Duration time;

    @Option(names = "--nemesis", defaultValue = "kill,pause,partition,disk",
            description = "Comma-separated faults: kill, pause, partition, disk, membership, disk-stall (the leader's"
                    + " fsyncs block for up to 3 s), disk-fill (the leader's disk reports 8 MiB free: writes refused with"
                    + " DISK_FULL until lifted); backup (full, incremental and differential backups from random nodes, some cut by a SIGKILL; SIGKILLs timed into a snapshot and a snapshot install; a follower replaced by a new node restored from a backup chain, the restore sometimes SIGKILLed; every backup verified, restored and its state checked against the history at the end); or 'none' (default: kill,pause,partition,disk). disk-stall and disk-fill"
                    + " are injected through the node's testing-only --testing-disk-control file (a real disk cannot be"
                    + " stalled or filled without root), so they need --node jepsen. backup also needs --node jepsen (its nodes have a backup root). power: power loss, a kill -9 that"
                    + " also loses every write not yet fsync'd, on a minority or on every node at once (the nodes then"
                    + " run over the testing-only --testing-lose-unsynced file layer; needs --node jepsen).")
    String nemesis;

    @Option(names = "--seed", description = "Seed of the schedule and the workload (default: random, printed).")
    Long seed;

    @Option(names = "--reads", defaultValue = "mixed",
            description = "Read modes, comma-separated; each read draws one: linearizable, lease, stale (UNSAFE on "
                    + "purpose: a random node's local state without ReadIndex; must be reported INVALID under "
                    + "partitions). Aliases: mixed = linearizable,lease (the default); local = stale.")
    String reads;

    @Option(names = "--clients", defaultValue = "20", description = "Client threads, in groups of 10 per key group (default 20).")
    int clients;

    @Option(names = "--report", paramLabel = "DIR", description = "Report directory (default: jepsen-runs/<time>-seed<seed>;"
            + " jepsen-runs/index.html lists the runs there, as it does any folder holding such an index).")
    Path report;

    @Option(names = "--heap", defaultValue = "256m", description = "Each node's -Xmx (default 256m).")
    String heap;

    @Option(names = "--node", defaultValue = "jepsen",
            description = "What each node runs: 'jepsen' (the harness's node: 1 MiB log segments, so the disk "
                    + "nemesis finds closed ones to corrupt; exits if the runner dies) or 'server' (`raftkit server` "
                    + "as an operator runs it: 64 MiB segments, so bit flips fall back to torn tails). Default jepsen.")
    String node;

    @Option(names = "--sm", paramLabel = "KIND", defaultValue = "kv",
            description = "State machine and workload: 'kv' (registers: writes, reads and CAS, checked for "
                    + "linearizability; the default) or 'sql' (list-append transactions on the SQL state machine, "
                    + "checked for strict serializability by the transactional checker; --reads does not apply).")
    String sm;

    @Option(names = "--testing-split-sql-transactions",
            description = "TESTING ONLY, needs --sm sql and --node jepsen: every node runs the SQL state machine with "
                    + "a planted isolation bug (a transaction's last write is held back and run after the next "
                    + "transaction), so the run must be INVALID with the anomaly named. Proves the checker; never a "
                    + "real test of the cluster.")
    boolean testingSplitSqlTransactions;

    @Option(names = "--quiet", description = "No progress on stderr (by default: time elapsed against --time and"
            + " the time left, as a bar on a terminal or a line every 5 s otherwise).")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        System.setProperty("org.slf4j.simpleLogger.log.dev.raftkit", "error");
        System.setProperty("org.slf4j.simpleLogger.log.io.grpc", "error");
        Duration duration = time;
        if (duration.isZero()) {
            throw new ParameterException(spec.commandLine(), "--time must be more than 0");
        }
        List<String> kinds = new ArrayList<>();
        if (!nemesis.equalsIgnoreCase("none")) {
            for (String k : nemesis.split(",")) {
                String kind = k.trim().toLowerCase(Locale.ROOT);
                if (!Nemesis.KINDS.contains(kind)) {
                    throw new ParameterException(spec.commandLine(), "--nemesis: unknown fault '" + k + "'; use any of "
                            + Nemesis.KINDS.stream().sorted().collect(Collectors.joining(",")) + " or none");
                }
                kinds.add(kind);
            }
        }
        List<ReadMode> readMode = readModes(reads);
        long s = seed != null ? seed : ThreadLocalRandom.current().nextLong(1, 1_000_000);
        Path dir = report != null ? report
                : RUNS.resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-seed" + s);
        JepsenOptions o;
        try {
            JepsenOptions d = JepsenOptions.of(nodes, duration, kinds, s, readMode, dir);
            o = new JepsenOptions(nodes, duration, kinds, s, readMode, clients, d.clientsPerGroup(), d.activeKeys(),
                    d.opsPerKey(), d.opTimeout(), dir).withSm(sm.trim().toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (testingSplitSqlTransactions && !o.sql()) {
            throw new ParameterException(spec.commandLine(), "--testing-split-sql-transactions plants a bug in the SQL"
                    + " state machine: add --sm sql");
        }
        if (testingSplitSqlTransactions && !node.equals("jepsen")) {
            throw new ParameterException(spec.commandLine(), "--testing-split-sql-transactions is a switch of the"
                    + " harness's node process: use --node jepsen (raftkit server has no testing switches)");
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println("[jepsen] seed " + s + " (rerun with --seed " + s + ")");
        if (testingSplitSqlTransactions) {
            out.println("[jepsen] TESTING ONLY: the nodes run a planted isolation bug (split SQL transactions); the run"
                    + " must be INVALID");
        }
        try {
            NodeCommand command = switch (node) {
                case "jepsen" -> kinds.contains("power") ? withArgs(nodeCommand(heap), "--testing-lose-unsynced", "true")
                        : nodeCommand(heap);
                case "server" -> {
                    if (kinds.contains("power")) {
                        throw new IllegalArgumentException("--nemesis power needs --node jepsen: only the harness's node"
                                + " runs over the file layer that loses unsynced writes at a kill");
                    }
                    yield serverCommand(heap);
                }
                default -> throw new IllegalArgumentException("--node must be jepsen or server, got '" + node + "'");
            };
            command = withStateMachine(command, o.sm(), testingSplitSqlTransactions);
            if (report == null) {
                startIndex(out);
            }
            JepsenResult r;
            // The plan is --time of operations; setting up and checking come on top ("finishing").
            try (Progress progress = Progress.timed(spec.commandLine().getErr(), Progress.styleFor(quiet, false),
                    System::nanoTime, "jepsen", duration).startTicker()) {
                r = new JepsenRun(o, command, progress.aside(out)).run();
            }
            out.flush();
            return r.valid() ? 0 : 1;
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        } catch (RuntimeException e) {
            // The harness itself could not go on (a node that never came up, a client stuck past
            // every bound): not a verdict on the cluster, so say so rather than print one.
            out.println("[jepsen] the run could not complete: " + e.getMessage());
            out.println("[jepsen] node logs and data kept in " + dir);
            out.println("ERROR: no verdict (seed " + s + ")");
            out.flush();
            return 1;
        }
    }

    /** Where runs go without {@code --report}; its {@code index.html} lists them. */
    static final Path RUNS = Path.of("jepsen-runs");

    /**
     * Makes the default runs folder an indexed one (the run then adds itself to the index, as it
     * does in any folder holding one). Not being able to is reported, not fatal.
     */
    private static void startIndex(PrintWriter out) {
        try {
            java.nio.file.Files.createDirectories(RUNS);
            if (!RunIndex.isRunsFolder(RUNS)) {
                RunIndex.write(RUNS);
            }
        } catch (java.io.IOException e) {
            out.println("[jepsen] could not start the index of runs in " + RUNS.toAbsolutePath() + ": " + e.getMessage());
        }
    }

    /**
     * Runs each node as {@code java -Xmx… -cp <this JVM's class path> JepsenNodeMain …}: the
     * same jar (or, in tests, the same classes) as the runner.
     */
    static NodeCommand nodeCommand(String heap) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("java.class.path");
        return (NodeSpec n) -> {
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap, "-Xss512k", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                    "-Dorg.slf4j.simpleLogger.showDateTime=true", "-cp", classPath, JepsenNodeMain.class.getName(),
                    "--id", Long.toString(n.id()), "--cluster-id", n.clusterId(), "--data", n.dataDir().toString(),
                    "--listen", n.peerListen(), "--client-listen", n.clientListen(),
                    "--peers", join(n.peers()), "--clients", join(n.clients()),
                    // TESTING ONLY: lets the disk-stall and disk-fill nemeses inject into its log's FileIo.
                    "--testing-disk-control", DiskControl.controlFile(n.dataDir()).toString()));
            if (!n.bootstrap().isEmpty()) {
                cmd.add("--bootstrap");
                cmd.add(n.bootstrap().stream().sorted().map(String::valueOf).collect(Collectors.joining(",")));
            }
            return cmd;
        };
    }

    /** {@code command} with {@code args} added at the end of each node's command line. */
    static NodeCommand withArgs(NodeCommand command, String... args) {
        return n -> {
            List<String> cmd = new ArrayList<>(command.command(n));
            cmd.addAll(List.of(args));
            return cmd;
        };
    }

    /** Runs each node as {@code raftkit server}, the command an operator uses. */
    static NodeCommand serverCommand(String heap) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("java.class.path");
        return (NodeSpec n) -> {
            String peers = n.peers().entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .map(e -> e.getKey() + "=" + e.getValue() + "/" + n.clients().get(e.getKey()))
                    .collect(Collectors.joining(","));
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap, "-Xss512k", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1", "-cp", classPath, Raftkit.class.getName(), "server",
                    "--id", Long.toString(n.id()), "--cluster-id", n.clusterId(), "--data", n.dataDir().toString(),
                    "--listen", n.peerListen(), "--client-listen", n.clientListen(), "--peers", peers,
                    "--tick-ms", "20"));
            if (!n.bootstrap().isEmpty()) {
                cmd.add("--bootstrap");
                cmd.add(n.bootstrap().stream().sorted().map(String::valueOf).collect(Collectors.joining(",")));
            }
            return cmd;
        };
    }

    /**
     * {@code base} with the state machine on its command line: {@code --sm} (both the harness's
     * node and {@code raftkit server} take it) and, TESTING ONLY, the harness node's planted split
     * of SQL transactions. A key-value run's command is {@code base} itself.
     */
    static NodeCommand withStateMachine(NodeCommand base, String sm, boolean testingSplitSqlTransactions) {
        if (sm.equals(JepsenOptions.KV) && !testingSplitSqlTransactions) {
            return base;
        }
        return (NodeSpec n) -> {
            List<String> cmd = new ArrayList<>(base.command(n));
            cmd.addAll(List.of("--sm", sm));
            if (testingSplitSqlTransactions) {
                cmd.addAll(List.of("--testing-split-sql-transactions", "true"));
            }
            return cmd;
        };
    }

    private static String join(Map<Long, String> m) {
        return m.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }

    /** Parses {@code --reads}: read-mode names and the aliases {@code mixed} and {@code local}. */
    private List<ReadMode> readModes(String value) {
        List<ReadMode> modes = new ArrayList<>();
        for (String part : value.split(",")) {
            String name = part.trim().toLowerCase(Locale.ROOT);
            switch (name) {
                case "mixed" -> {
                    modes.add(ReadMode.LINEARIZABLE);
                    modes.add(ReadMode.LEASE);
                }
                case "local", "stale" -> modes.add(ReadMode.STALE);
                case "linearizable" -> modes.add(ReadMode.LINEARIZABLE);
                case "lease" -> modes.add(ReadMode.LEASE);
                default -> throw new ParameterException(spec.commandLine(), "--reads: unknown read mode '" + part.trim()
                        + "'; use linearizable, lease, stale, or the aliases mixed and local, comma-separated");
            }
        }
        return modes;
    }
}
