package dev.raftkit.cli.bench;

import dev.raftkit.core.ReadMode;
import dev.raftkit.cli.DurationConverter;
import dev.raftkit.cli.Progress;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.bench.DiskProbe;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code raftkit bench}: closed-loop write throughput and latency of a 3-node key-value cluster
 * (with {@code --sm sql}: a SQL cluster too, same settings, and the ratio of the two) with fsync'd
 * logs over loopback gRPC, beside this machine's raw fsync rate and loopback round trip. The workload is the one of the Ratis and SOFAJRaft harnesses in {@code bench-peers/}, which
 * {@code --baseline} runs beside it:
 * C client threads, one outstanding put each, keys {@code c<thread>-<n mod keys>}, a fresh cluster
 * per setting, a warm-up, then a measured window in which only writes that start and finish inside
 * the window count.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = {SimBenchCommand.class, BackupBenchCommand.class},
        description = "Benchmark a 3-node key-value cluster (fsync'd logs, gRPC on loopback) with closed-loop "
                + "clients, and measure this machine's raw fsync rate and loopback round trip in the same run. "
                + "With --sm sql, each setting also runs on a SQL cluster (replicated INSERTs) and the SQL/key-value "
                + "ratio is printed.",
        footer = {"", "Prints one table (and a CSV line per setting). Exit codes: 0 ok, 1 a setting failed "
                + "(no write completed, or writes failed), 2 bad arguments.", "",
                "Examples:",
                "  raftkit bench",
                "  raftkit bench --clients 1,16,64 --value-bytes 100 --client-mode grpc,in-process --prewarm 20s",
                "  raftkit bench --processes --clients 16 --warmup 2s --duration 10s",
                "  raftkit bench --sm sql --clients 16",
                "  raftkit bench --baseline ratis,sofajraft --rounds 3 --client-mode grpc,in-process --prewarm 20s   # the peers, interleaved (build bench-peers first)",
                "  raftkit bench --clients 16 --metrics off,on --rounds 4 --prewarm 20s   # the cost of metrics: paired, both orders",
                "  raftkit bench sim --seeds 200 --nodes 3,5   # the simulator's speed (see: raftkit bench sim --help)"})
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--clients", defaultValue = "1,16,64", split = ",", paramLabel = "N[,N...]",
            description = "Closed-loop client threads, one setting each (default 1,16,64).")
    List<Integer> clients;

    @Option(names = "--value-bytes", defaultValue = "100", description = "Value size in bytes (default 100).")
    int valueBytes;

    @Option(names = "--read-percent", defaultValue = "0", description = "Percent of operations that are point reads"
            + " (a get of one of the client's keys; SQL: a lookup by rowid), the rest writes: 90 for a 90/10"
            + " read/write mix (default 0: writes only).")
    int readPercent;

    @Option(names = "--read-mode", defaultValue = "linearizable", description = "With --read-percent: linearizable"
            + " (ReadIndex, a heartbeat round per batch of reads, §6.4) or lease (served by the leader within its"
            + " lease, §6.4.1) (default: ${DEFAULT-VALUE}).")
    String readMode;

    @Option(names = "--sm", paramLabel = "KIND", defaultValue = "kv",
            description = "kv: the key-value store (default); sql: each setting on a SQL cluster (INSERTs of a row with "
                    + "the value as a BLOB) and on a key-value cluster (puts), one after the other, and the ratio.")
    String stateMachine;

    @Option(names = "--client-mode", defaultValue = "grpc", split = ",", paramLabel = "MODE[,MODE]",
            description = "grpc: through RaftClient over the gRPC client service; in-process: RaftServer.submit on "
                    + "the leader directly (no client RPC). A list runs each (default grpc).")
    List<String> modes;

    @Option(names = "--metrics", defaultValue = "off", split = ",", paramLabel = "off|on[,...]",
            description = "off: the nodes measure nothing (RaftMetrics.NONE); on: each node records every metric into "
                    + "a Micrometer SimpleMeterRegistry (RaftNode.Builder.meterRegistry). A list runs each setting "
                    + "with each, side by side (default off).")
    List<String> metrics;

    @Option(names = "--rounds", defaultValue = "1", paramLabel = "N",
            description = "Run every setting N times, the --metrics list in reverse order every other round (so"
                    + " neither setting is always the second, which a warmer JIT and page cache favour); with both"
                    + " metrics settings, print per setting the median over the rounds of each round's on/off ratio"
                    + " (default 1).")
    int rounds;

    @Option(names = "--grpc-clients", defaultValue = "per-thread", paramLabel = "per-thread|shared",
            description = "grpc mode: a RaftClient per client thread (like the Ratis harness' default) or one "
                    + "shared by all threads (default per-thread).")
    String grpcClients;

    @Option(names = "--warmup", defaultValue = "5s", converter = DurationConverter.class,
            description = "Warm-up per setting, e.g. 5s, 500ms (default 5s).")
    Duration warmup;

    @Option(names = "--duration", defaultValue = "20s", converter = DurationConverter.class,
            description = "Measured window per setting: 20s, 1.5m, 1h (default 20s).")
    Duration duration;

    @Option(names = "--prewarm", defaultValue = "0s", converter = DurationConverter.class,
            description = "One unmeasured JIT warm-up run at 16 clients before the settings, per state machine and "
                    + "client mode (the baselines use 20s; default 0s; worth it with --sm sql or two client modes, "
                    + "so that none pays for the JIT).")
    Duration prewarm;

    @Option(names = "--keys", defaultValue = "1000", description = "Keys per client thread (default 1000).")
    int keys;

    @Option(names = "--probe", defaultValue = "2s", converter = DurationConverter.class,
            description = "Length of each physical probe (raw fsync, loopback round trip); 0s skips them (default 2s).")
    Duration probe;

    @Option(names = "--processes", description = "Run the three nodes as three JVMs started from this jar "
            + "(grpc client mode only).")
    boolean processes;

    @Option(names = "--node-jvm-opts", defaultValue = "-Xms1g -Xmx1g -XX:+UseG1GC "
            + "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2", paramLabel = "OPTS",
            description = "With --processes: JVM options of each node (default: ${DEFAULT-VALUE}).")
    String nodeJvmOpts;

    @Option(names = "--dir", paramLabel = "DIR", description = "Parent directory for the nodes' data (default: the "
            + "system temporary directory); each setting gets a fresh directory, deleted afterwards.")
    Path dir;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the CSV lines to FILE.")
    Path csvFile;

    @Option(names = "--report", paramLabel = "DIR", description = "Write the run's HTML report (throughput and p50/p99"
            + " latency per second, latency by percentile, one line per setting; self-contained, no network) to"
            + " DIR/raftkit-bench-<UTC time>.html. Without --report, with --csv FILE: beside it, FILE with .html for"
            + " its extension. Neither: no report.")
    Path reportDir;

    @Option(names = "--baseline", split = ",", paramLabel = "PEER[,PEER]",
            description = "Also run the peers' harnesses on the same workload, each round after Raftkit's settings: "
                    + "ratis (client modes grpc, in-process), sofajraft (in-process). Each runs as a child JVM from its "
                    + "jar under --peer-jars with this JVM's -X/-XX/-D flags; prints their rows, the ratios (medians "
                    + "over the rounds) and adds them to the report. Build the jars first: " + PeerBaselines.BUILD)
    List<String> baselines = new ArrayList<>();

    @Option(names = "--peer-jars", defaultValue = "bench-peers", paramLabel = "DIR",
            description = "The bench-peers directory of a built clone, holding <peer>/target/bench-<peer>.jar "
                    + "(default: ${DEFAULT-VALUE}, relative to the working directory).")
    Path peerJars;

    @Option(names = "--quiet", description = "No progress on stderr: neither the line per setting nor the time"
            + " elapsed against the planned total and the time left (a bar on a terminal, a line every 5 s otherwise).")
    boolean quiet;

    /** The peers' settings measured in this run (--baseline), in the order they ran. */
    private final List<PeerBaselines.PeerResult> peerResults = new ArrayList<>();

    /**
     * One setting's measurements: {@code latency} is the measured window's histogram (closed-loop
     * service times, see {@link LatencyRecording} on coordinated omission), {@code perSecond} one
     * histogram per second of the window.
     */
    record Result(BenchWorkload workload, String mode, String metrics, int clients, int valueBytes, double seconds, long ops, long errors, Histogram latency,
                  List<Histogram> perSecond, double leaderFsyncsPerSec, double allFsyncsPerSec, double entriesPerFsync, double cpuPercent,
                  long gcMillis, long elections, double switchesPerOp, int round) {
        /** This result, measured in round {@code n} of {@code --rounds}. */
        Result inRound(int n) {
            return new Result(workload, mode, metrics, clients, valueBytes, seconds, ops, errors, latency, perSecond,
                    leaderFsyncsPerSec, allFsyncsPerSec, entriesPerFsync, cpuPercent, gcMillis, elections, switchesPerOp,
                    n);
        }

        double opsPerSec() {
            return ops / seconds;
        }

        /** Latency percentile {@code p} (0..100) in milliseconds, from the histogram (3 significant digits). */
        double pct(double p) {
            return LatencyRecording.percentileMillis(latency, p);
        }
    }

    /** Physical limits measured in this run. */
    record Physical(double fsyncPerSec, double fsyncPreallocPerSec, LoopbackRtt.Result rtt) {
        /**
         * A commit at one client: a leader fsync in parallel with a round trip plus a follower fsync.
         * The log preallocates its segments, so the faster of the two fsync rates counts.
         */
        double floorMillis() {
            return 1000.0 / Math.max(fsyncPerSec, fsyncPreallocPerSec) + rtt.p50Micros() / 1000.0;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            // Start-up and shutdown chatter of nine servers per setting would bury the progress lines.
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        long warmupNanos = warmup.toNanos();
        long durationNanos = duration.toNanos();
        long prewarmNanos = prewarm.toNanos();
        long probeNanos = probe.toNanos();
        if (durationNanos <= 0) {
            throw new ParameterException(spec.commandLine(), "--duration must be positive, got " + duration);
        }
        for (int c : clients) {
            if (c < 1 || c > 4096) {
                throw new ParameterException(spec.commandLine(), "--clients must be in 1..4096, got " + c);
            }
        }
        if (valueBytes < 0 || valueBytes > (16 << 20)) {
            throw new ParameterException(spec.commandLine(), "--value-bytes must be in 0..16777216, got " + valueBytes);
        }
        if (readPercent < 0 || readPercent > 100) {
            throw new ParameterException(spec.commandLine(), "--read-percent must be in 0..100, got " + readPercent);
        }
        if (!readMode.equals("linearizable") && !readMode.equals("lease")) {
            throw new ParameterException(spec.commandLine(), "--read-mode must be linearizable or lease, got '" + readMode
                    + "'");
        }
        if (keys < 1) {
            throw new ParameterException(spec.commandLine(), "--keys must be positive, got " + keys);
        }
        for (String m : modes) {
            if (!m.equals("grpc") && !m.equals("in-process")) {
                throw new ParameterException(spec.commandLine(), "--client-mode must be grpc or in-process, got '" + m + "'");
            }
            if (processes && m.equals("in-process")) {
                throw new ParameterException(spec.commandLine(), "--processes runs the nodes in other JVMs: "
                        + "only --client-mode grpc is possible");
            }
        }
        List<BenchWorkload> workloads = switch (stateMachine) {
            case "kv" -> List.of(BenchWorkload.KV);
            case "sql" -> List.of(BenchWorkload.KV, BenchWorkload.SQL);
            default -> throw new ParameterException(spec.commandLine(), "--sm must be kv or sql (sql also runs kv, for"
                    + " the ratio), got '" + stateMachine + "'");
        };
        if (rounds < 1 || rounds > 100) {
            throw new ParameterException(spec.commandLine(), "--rounds must be in 1..100, got " + rounds);
        }
        for (String m : metrics) {
            if (!m.equals("off") && !m.equals("on")) {
                throw new ParameterException(spec.commandLine(), "--metrics takes off, on or both (off,on), got '" + m + "'");
            }
        }
        if (!grpcClients.equals("per-thread") && !grpcClients.equals("shared")) {
            throw new ParameterException(spec.commandLine(), "--grpc-clients must be per-thread or shared, got '"
                    + grpcClients + "'");
        }
        if (readPercent > 0 && !baselines.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--read-percent with --baseline: the peers' harnesses"
                    + " measure writes only; compare a read mix without --baseline");
        }
        for (String b : baselines) {
            if (!PeerBaselines.PEERS.containsKey(b)) {
                throw new ParameterException(spec.commandLine(), "--baseline takes ratis and/or sofajraft, got '" + b + "'");
            }
            if (!Files.isRegularFile(PeerBaselines.jar(peerJars, b))) {
                throw new ParameterException(spec.commandLine(), "--baseline " + b + ": no harness jar at "
                        + PeerBaselines.jar(peerJars, b) + "; build the peers' jars in the clone (" + PeerBaselines.BUILD
                        + ") or point --peer-jars at its bench-peers directory");
            }
            if (modes.stream().noneMatch(PeerBaselines.PEERS.get(b)::contains)) {
                throw new ParameterException(spec.commandLine(), "--baseline " + b + " has client modes "
                        + PeerBaselines.PEERS.get(b) + ", none of --client-mode " + modes);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        Path parent = dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"));
        Files.createDirectories(parent);
        // The plan: the probes (two disk rates and a round trip), the prewarm per state machine,
        // then warm-up and measurement per setting; starting and stopping clusters come on top.
        long settings = (long) modes.size() * clients.size() * metrics.size() * workloads.size() * rounds;
        long peerSettings = 0;
        for (String b : baselines) {
            peerSettings += modes.stream().filter(PeerBaselines.PEERS.get(b)::contains).count() * clients.size() * rounds;
        }
        long prewarms = (long) workloads.size() * modes.size() * (processes ? metrics.size() : 1) + baselines.size();
        long plannedNanos = 3 * probeNanos + prewarmNanos * prewarms
                + (settings + peerSettings) * (warmupNanos + durationNanos);
        try (Progress progress = Progress.timed(stderr, Progress.styleFor(quiet, false), System::nanoTime, "bench",
                Duration.ofNanos(plannedNanos)).startTicker()) {
            PrintWriter err = quiet ? new PrintWriter(Writer.nullWriter()) : progress.aside(stderr);
            try {
                return measure(out, err, stderr, parent, workloads, warmupNanos, durationNanos, prewarmNanos, probeNanos);
            } finally {
                closeProcessClusters();
            }
        }
    }

    /** The probes, the prewarm and every setting; chatter to {@code err}, failures to {@code stderr}. */
    private int measure(PrintWriter out, PrintWriter err, PrintWriter stderr, Path parent, List<BenchWorkload> workloads,
                        long warmupNanos, long durationNanos, long prewarmNanos, long probeNanos) throws Exception {

        int fjp = java.util.concurrent.ForkJoinPool.getCommonPoolParallelism();
        if (fjp < 2) {
            err.println("note: common ForkJoinPool parallelism is " + fjp + "; the baselines run with "
                    + "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2");
        }
        Physical physical = null;
        if (probeNanos > 0) {
            double secs = probeNanos / 1e9;
            err.printf(Locale.ROOT, "probing this machine: raw 4 KiB write+fdatasync and loopback round trip (%.1f s each)...%n", secs);
            err.flush();
            Path probeDir = Files.createTempDirectory(parent, "raftkit-probe-");
            try {
                double append = DiskProbe.fsyncRate(probeDir, secs, false, 4096);
                double pre = DiskProbe.fsyncRate(probeDir, secs, true, 4096);
                LoopbackRtt.Result rtt = LoopbackRtt.measure(100, Math.min(1.0, secs / 2), secs);
                physical = new Physical(append, pre, rtt);
            } finally {
                deleteTree(probeDir);
            }
        }
        if (prewarmNanos > 0) {
            for (BenchWorkload w : workloads) {
                // Each state machine's and each client mode's code warmed alike, or the first setting
                // measured pays for the JIT (the gRPC client path is code the in-process one never
                // runs); with --processes, each set of node JVMs that will be measured.
                for (String mode : modes) {
                    for (String m : processes ? metrics : List.of(metrics.get(0))) {
                        err.printf(Locale.ROOT, "JIT prewarm: %s, %s%s, 16 clients, %.0f s (not reported)...%n",
                                w.kind().cliName(), mode, processes ? ", metrics " + m + ", the measured JVMs" : "",
                                prewarmNanos / 1e9);
                        err.flush();
                        runSetting(parent, w, mode, m, 16, 0, prewarmNanos, quiet ? stderr : err);
                    }
                }
            }
        }
        List<Result> results = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            List<String> order = new ArrayList<>(metrics);
            if (round % 2 == 0) {
                java.util.Collections.reverse(order);
            }
            for (String mode : modes) {
                for (int c : clients) {
                    for (String m : order) {
                        for (BenchWorkload w : workloads) {
                            err.printf(Locale.ROOT, "%s%s, %s, metrics %s, %d client%s, %d B: warm-up %.1f s, measuring"
                                            + " %.1f s...%n", rounds > 1 ? "round " + round + ": " : "",
                                    w.kind().cliName(), mode, m, c, c == 1 ? "" : "s", valueBytes, warmupNanos / 1e9,
                                    durationNanos / 1e9);
                            err.flush();
                            Result r = runSetting(parent, w, mode, m, c, warmupNanos, durationNanos,
                                    quiet ? stderr : err).inRound(round);
                            results.add(r);
                            err.printf(Locale.ROOT, "  %.0f ops/s, p50 %.2f ms%n", r.opsPerSec(), r.pct(50));
                            err.flush();
                        }
                    }
                }
            }
            for (String peer : baselines) {
                List<String> peerModes = modes.stream().filter(PeerBaselines.PEERS.get(peer)::contains).toList();
                err.printf(Locale.ROOT, "%s%s (child JVM), %s, clients %s, %d B: warm-up %.1f s, measuring %.1f s each...%n",
                        rounds > 1 ? "round " + round + ": " : "", peer, String.join(",", peerModes), clients, valueBytes,
                        warmupNanos / 1e9, durationNanos / 1e9);
                err.flush();
                for (PeerBaselines.PeerResult r : PeerBaselines.run(peer, peerJars, peerModes, clients, valueBytes,
                        warmupNanos, durationNanos, round == 1 ? prewarmNanos : 0, keys, parent, round, err)) {
                    peerResults.add(r);
                    err.printf(Locale.ROOT, "  %s %s, %d clients: %.0f ops/s, p50 %.2f ms%n", r.library(), r.mode(),
                            r.clients(), r.opsPerSec(), r.p50());
                    err.flush();
                }
            }
        }
        print(out, physical, results, warmupNanos, durationNanos);
        writeReport(out, stderr, results);
        boolean failed = results.stream().anyMatch(r -> r.ops() == 0 || r.errors() > 0)
                || peerResults.stream().anyMatch(r -> r.ops() == 0 || r.errors() > 0);
        return failed ? 1 : 0;
    }

    // ------------------------------------------------------------------ one setting

    /**
     * With {@code --processes}: the three node JVMs of each state machine and metrics setting,
     * started once and kept for every setting and round, so the prewarm and each warm-up warm the
     * very processes that are measured (a new JVM per setting would measure a cold JIT). Closed at
     * the end of {@link #measure}.
     */
    private final java.util.Map<String, BenchCluster> processClusters = new java.util.LinkedHashMap<>();
    private final List<Path> processData = new ArrayList<>();

    private BenchCluster processCluster(Path parent, BenchWorkload workload, boolean metricsOn, PrintWriter err)
            throws Exception {
        String key = workload.kind().cliName() + "/" + metricsOn;
        BenchCluster c = processClusters.get(key);
        if (c == null) {
            Path data = Files.createTempDirectory(parent, "raftkit-bench-");
            processData.add(data);
            c = BenchCluster.processes(data, List.of(nodeJvmOpts.trim().split("\\s+")), err, workload.kind(), metricsOn);
            processClusters.put(key, c);
        }
        return c;
    }

    private void closeProcessClusters() {
        processClusters.values().forEach(BenchCluster::close);
        processClusters.clear();
        processData.forEach(BenchCommand::deleteTree);
        processData.clear();
    }

    private Result runSetting(Path parent, BenchWorkload workload, String mode, String metricsSetting, int clientCount,
                              long warmupNanos, long durationNanos, PrintWriter err) throws Exception {
        if (processes) {
            BenchCluster cluster = processCluster(parent, workload, metricsSetting.equals("on"), err);
            cluster.awaitLeader(Duration.ofSeconds(30));
            return drive(cluster, workload, mode, metricsSetting, clientCount, warmupNanos, durationNanos);
        }
        Path data = Files.createTempDirectory(parent, "raftkit-bench-");
        boolean metricsOn = metricsSetting.equals("on");
        try (BenchCluster cluster = BenchCluster.inJvm(data, workload.kind(), metricsOn)) {
            cluster.awaitLeader(Duration.ofSeconds(30));
            return drive(cluster, workload, mode, metricsSetting, clientCount, warmupNanos, durationNanos);
        } finally {
            deleteTree(data);
        }
    }

    private Result drive(BenchCluster cluster, BenchWorkload workload, String mode, String metricsSetting,
                         int clientCount, long warmupNanos, long durationNanos) throws Exception {
        byte[] value = new byte[valueBytes];
        new Random(42).nextBytes(value);
        List<RaftClient> grpc = new ArrayList<>();
        boolean inProcess = mode.equals("in-process");
        Supplier<RaftServer> leader = inProcess ? cluster::leaderServer : null;
        if (!inProcess) {
            int n = grpcClients.equals("shared") ? 1 : clientCount;
            for (int i = 0; i < n; i++) {
                RaftClient.Builder b = RaftClient.builder("bench").timeout(Duration.ofSeconds(10));
                cluster.clientAddresses().forEach(b::node);
                RaftClient client = b.build();
                grpc.add(client);
            }
        }
        try {
            // Open every session before the clock starts (a session is one write through the log).
            for (RaftClient c : grpc) {
                c.clientId();
            }
            byte[] setup = workload.setup();
            if (setup != null) {
                byte[] r = grpc.isEmpty() ? cluster.leaderServer().submit(setup).get(30, TimeUnit.SECONDS)
                        : grpc.get(0).submit(setup);
                if (!workload.succeeded(r)) {
                    throw new IllegalStateException("the " + workload.kind().cliName() + " benchmark's set-up failed: "
                            + SqlOps.decode(r));
                }
            }
            long start = System.nanoTime() + 20_000_000L;
            long windowStart = start + warmupNanos;
            long windowEnd = windowStart + durationNanos;
            LatencyRecording latency = new LatencyRecording();
            Worker[] workers = new Worker[clientCount];
            Thread[] threads = new Thread[clientCount];
            for (int t = 0; t < clientCount; t++) {
                byte[][] cmds = new byte[keys][];
                byte[][] reads = new byte[readPercent > 0 ? keys : 0][];
                for (int k = 0; k < keys; k++) {
                    cmds[k] = workload.write(t, k, value);
                    if (readPercent > 0) {
                        reads[k] = workload.read(t, k, keys);
                    }
                }
                RaftClient client = grpc.isEmpty() ? null : grpc.get(t % grpc.size());
                workers[t] = new Worker(cmds, reads, readPercent, readMode.equals("lease") ? ReadMode.LEASE
                        : ReadMode.LINEARIZABLE, t, workload, leader, client, latency, start, windowStart, windowEnd);
                threads[t] = new Thread(workers[t], "bench-client-" + t);
                threads[t].setDaemon(true);
                threads[t].start();
            }
            sleepUntil(windowStart);
            BenchCluster.Counters before = cluster.counters();
            // One histogram per second of the window, for the report's figures over time.
            for (long s = windowStart + 1_000_000_000L; s < windowEnd; s += 1_000_000_000L) {
                sleepUntil(s);
                latency.nextSecond();
            }
            sleepUntil(windowEnd);
            latency.nextSecond();
            BenchCluster.Counters after = cluster.counters();
            for (Thread th : threads) {
                th.join(TimeUnit.SECONDS.toMillis(30));
            }
            latency.finish();
            long errors = 0;
            for (Worker w : workers) {
                errors += w.errors;
            }
            Histogram all = latency.total();
            long ops = all.getTotalCount();
            double secs = (after.atNanos() - before.atNanos()) / 1e9;
            long leaderSyncs = after.leaderSyncs() - before.leaderSyncs();
            long leaderEntries = after.leaderEntries() - before.leaderEntries();
            long cores = Runtime.getRuntime().availableProcessors();
            return new Result(workload, mode, metricsSetting, clientCount, valueBytes, durationNanos / 1e9, ops, errors, all,
                    latency.perSecond(),
                    leaderSyncs / secs, (after.allSyncs() - before.allSyncs()) / secs,
                    leaderSyncs == 0 ? Double.NaN : (double) leaderEntries / leaderSyncs,
                    100.0 * (after.cpuNanos() - before.cpuNanos()) / (secs * 1e9 * cores),
                    after.gcMillis() - before.gcMillis(), after.elections() - before.elections(),
                    after.contextSwitches() < 0 || before.contextSwitches() < 0 || ops == 0 ? Double.NaN
                            : (double) (after.contextSwitches() - before.contextSwitches()) / ops, 1);
        } finally {
            for (RaftClient c : grpc) {
                c.close();
            }
        }
    }

    /**
     * One closed-loop client thread: one outstanding operation at a time, a read with probability
     * {@code readPercent}% (drawn from a generator seeded by the thread's number), else a write.
     */
    private static final class Worker implements Runnable {
        final byte[][] cmds;
        final byte[][] reads;
        final int readPercent;
        final ReadMode readMode;
        final Random rnd;
        final BenchWorkload workload;
        final Supplier<RaftServer> leaders;
        final RaftClient client;
        final LatencyRecording latency;
        final long start;
        final long windowStart;
        final long windowEnd;
        long errors;

        Worker(byte[][] cmds, byte[][] reads, int readPercent, ReadMode readMode, int thread, BenchWorkload workload,
               Supplier<RaftServer> leaders, RaftClient client, LatencyRecording latency, long start, long windowStart,
               long windowEnd) {
            this.cmds = cmds;
            this.reads = reads;
            this.readPercent = readPercent;
            this.readMode = readMode;
            this.rnd = new Random(thread);
            this.workload = workload;
            this.leaders = leaders;
            this.client = client;
            this.latency = latency;
            this.start = start;
            this.windowStart = windowStart;
            this.windowEnd = windowEnd;
        }

        @Override
        public void run() {
            sleepUntil(start);
            long n = 0;
            RaftServer leader = null;
            while (true) {
                long t0 = System.nanoTime();
                if (t0 >= windowEnd) {
                    return;
                }
                int k = (int) (n++ % cmds.length);
                boolean read = readPercent > 0 && rnd.nextInt(100) < readPercent;
                boolean ok;
                try {
                    byte[] result;
                    if (client != null) {
                        result = read ? client.read(reads[k], readMode) : client.submit(cmds[k]);
                    } else {
                        if (leader == null) {
                            leader = leaders.get();
                        }
                        result = (read ? leader.read(reads[k], readMode) : leader.submit(cmds[k]))
                                .get(10, TimeUnit.SECONDS);
                    }
                    ok = read ? workload.readSucceeded(result) : workload.succeeded(result);
                } catch (Exception e) {
                    ok = false;
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    // In-process clients have no RaftClient to find the leader: after an election
                    // (or none known yet) look again, pausing so a refusal is not a busy loop.
                    leader = null;
                    sleepUntil(System.nanoTime() + 10_000_000L);
                }
                long t1 = System.nanoTime();
                if (t0 >= windowStart && t1 <= windowEnd) {
                    if (ok) {
                        latency.record(t1 - t0);
                    } else {
                        errors++;
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ output

    private void print(PrintWriter out, Physical physical, List<Result> results, long warmupNanos, long durationNanos) {
        double[] load = loadAverage();
        out.printf(Locale.ROOT, "raftkit bench: 3 nodes %s, gRPC between replicas on loopback, fsync'd segmented logs, "
                        + "%s; %d B values%s; warm-up %.1f s, measured %.1f s per setting%n",
                processes ? "in three JVMs" : "in one JVM", stateMachine.equals("sql")
                        ? "SQL state machine (INSERTs) and key-value state machine (puts), " + (processes
                        ? "each on three JVMs of its own kept for every setting" : "a fresh cluster each setting")
                        : "key-value state machine" + (processes ? ", the same three JVMs for every setting" : ""), valueBytes, readPercent == 0 ? ""
                        : "; " + readPercent + "% " + readMode + " point reads, " + (100 - readPercent) + "% writes (ops and"
                        + " latencies count both)", warmupNanos / 1e9, durationNanos / 1e9);
        out.printf(Locale.ROOT, "machine: %d CPUs, load average %.2f %.2f %.2f, Java %s%n",
                Runtime.getRuntime().availableProcessors(), load[0], load[1], load[2], System.getProperty("java.version"));
        if (physical != null) {
            out.printf(Locale.ROOT, "physical limits: raw 4 KiB write+fdatasync %.0f/s appending (%.0f/s overwriting a "
                            + "preallocated file); loopback TCP round trip p50 %.1f µs (p99 %.1f µs)%n",
                    physical.fsyncPerSec(), physical.fsyncPreallocPerSec(), physical.rtt().p50Micros(),
                    physical.rtt().p99Micros());
            out.printf(Locale.ROOT, "floor at 1 client: one fsync (the faster rate) + one round trip ≈ %.2f ms per commit ≈ %.0f ops/s%n",
                    physical.floorMillis(), 1000.0 / physical.floorMillis());
        }
        out.println();
        out.println((rounds > 1 ? "| round " : "") + "| state machine | client mode | metrics | clients | ops/s | p50 ms | p99 ms | p99.9 ms | leader fsync/s | entries/fsync "
                + "| all fsync/s | CPU % | GC ms | ctx sw/op | elections | errors |" + (physical != null ? " vs floor |" : ""));
        out.println((rounds > 1 ? "|---:" : "") + "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + (physical != null ? "---:|" : ""));
        for (Result r : results) {
            out.printf(Locale.ROOT, (rounds > 1 ? "| " + r.round() + " " : "") + "| %s | %s | %s | %d | %.0f | %.2f | %.2f | %.2f | %.0f | %.1f | %.0f | %.0f | %d | %.1f | %d | %d |%s%n",
                    r.workload().kind().cliName(), r.mode(), r.metrics(), r.clients(), r.opsPerSec(), r.pct(50), r.pct(99), r.pct(99.9), r.leaderFsyncsPerSec(),
                    r.entriesPerFsync(), r.allFsyncsPerSec(), r.cpuPercent(), r.gcMillis(), r.switchesPerOp(), r.elections(),
                    r.errors(), physical != null ? String.format(Locale.ROOT, " %.2f |", physical.floorMillis() / r.pct(50)) : "");
        }
        if (physical != null) {
            out.println("(vs floor: the floor's commit time divided by p50; 1.00 would be the physical limit)");
        }
        printRatios(out, results, metrics.size() > 1);
        printBaselines(out, results, peerResults);
        printMetricsCost(out, results);
        out.println();
        List<String> csv = new ArrayList<>();
        csv.add("csv,mode,processes,clients,value_bytes,seconds,ops,ops_per_s,p50_ms,p99_ms,p999_ms,leader_fsyncs_per_s,"
                + "entries_per_fsync,all_fsyncs_per_s,cpu_pct,gc_ms,elections,errors,raw_fsync_per_s,raw_fsync_prealloc_per_s,"
                + "rtt_p50_us,load1,ctx_switches_per_op,state_machine,metrics,round,library,read_percent,read_mode");
        // Every row has the same columns: the read mix last (the peers' harnesses measure writes only).
        String mix = "," + readPercent + "," + (readPercent == 0 ? "-" : readMode);
        for (Result r : results) {
            csv.add(String.format(Locale.ROOT, "csv,%s,%s,%d,%d,%.1f,%d,%.1f,%.3f,%.3f,%.3f,%.1f,%.2f,%.1f,%.1f,%d,%d,%d,%.0f,%.0f,%.1f,%.2f,%.2f,%s,%s,%d,raftkit",
                    r.mode(), processes, r.clients(), r.valueBytes(), r.seconds(), r.ops(), r.opsPerSec(), r.pct(50),
                    r.pct(99), r.pct(99.9), r.leaderFsyncsPerSec(), r.entriesPerFsync(), r.allFsyncsPerSec(),
                    r.cpuPercent(), r.gcMillis(), r.elections(), r.errors(),
                    physical == null ? Double.NaN : physical.fsyncPerSec(),
                    physical == null ? Double.NaN : physical.fsyncPreallocPerSec(),
                    physical == null ? Double.NaN : physical.rtt().p50Micros(), load[0], r.switchesPerOp(),
                    r.workload().kind().cliName(), r.metrics(), r.round()) + mix);
        }
        peerResults.forEach(r -> csv.add(r.csv() + ",0,-"));
        csv.forEach(out::println);
        out.flush();
        if (csvFile != null) {
            try {
                Files.write(csvFile, csv, StandardCharsets.UTF_8);
            } catch (IOException e) {
                spec.commandLine().getErr().println("could not write " + csvFile + ": " + e.getMessage());
            }
        }
    }

    /** Where this run's HTML report goes (see {@code --report}), or null for none. */
    Path reportFile() {
        if (reportDir != null) {
            String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)
                    .format(java.time.LocalDateTime.now(java.time.ZoneOffset.UTC));
            return reportDir.resolve("raftkit-bench-" + stamp + ".html");
        }
        if (csvFile != null) {
            String name = csvFile.getFileName().toString();
            int dot = name.lastIndexOf('.');
            return csvFile.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".html");
        }
        return null;
    }

    /** The HTML report of {@code results}, one series per setting, if {@code --report} or {@code --csv} asks for it. */
    private void writeReport(PrintWriter out, PrintWriter stderr, List<Result> results) {
        Path file = reportFile();
        if (file == null) {
            return;
        }
        List<BenchReport.Series> series = new ArrayList<>();
        for (Result r : results) {
            series.add(new BenchReport.Series(settingName(r, results), r.perSecond(), r.latency()));
        }
        for (PeerBaselines.PeerResult r : peerResults) {
            series.add(new BenchReport.Series(PeerBaselines.name(r, rounds > 1), r.perSecond(), r.total()));
        }
        List<String> notes = new ArrayList<>(List.of(String.format(Locale.ROOT, "3 nodes %s, fsync'd logs, loopback gRPC between "
                        + "replicas, %d B values, warm-up %.1f s then a measured window of %.1f s per setting; %d CPUs, "
                        + "Java %s.", processes ? "in three JVMs" : "in one JVM", valueBytes, warmup.toNanos() / 1e9,
                        duration.toNanos() / 1e9, Runtime.getRuntime().availableProcessors(),
                        System.getProperty("java.version")),
                "Latencies are recorded with HdrHistogram (3 significant digits). The clients are closed-loop (one "
                        + "outstanding write each), so a stall delays each client's next write instead of queueing "
                        + "more: the percentiles are service times, and a pause shows as a dip in throughput rather "
                        + "than in full in the tail (coordinated omission)."));
        if (!peerResults.isEmpty()) {
            notes.add("The peers ran the same workload in child JVMs with this JVM's flags, each round after Raftkit's "
                    + "settings: Ratis with gRPC between its servers, SOFAJRaft with Bolt RPC; both in one JVM.");
        }
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.writeString(file, BenchReport.html("raftkit bench", notes, series), StandardCharsets.UTF_8);
            out.println("report: " + file);
            out.flush();
        } catch (IOException e) {
            stderr.println("could not write the report " + file + ": " + e.getMessage()
                    + " (check that the directory is writable, or pass another --report DIR)");
        }
    }

    /** A setting's name in the report: its state machine, mode and clients, and what else varies in this run. */
    static String settingName(Result r, List<Result> all) {
        StringBuilder n = new StringBuilder("raftkit ").append(r.workload().kind().cliName()).append(' ').append(r.mode())
                .append(", ").append(r.clients()).append(r.clients() == 1 ? " client" : " clients");
        if (all.stream().map(Result::metrics).distinct().count() > 1) {
            n.append(", metrics ").append(r.metrics());
        }
        if (all.stream().mapToInt(Result::round).distinct().count() > 1) {
            n.append(", round ").append(r.round());
        }
        return n.toString();
    }

    /**
     * With --baseline: the peers' rows, then per peer, client mode and clients Raftkit's figures
     * over the peer's, each round's pair (they ran one after the other) and the median over the
     * rounds: above 1 Raftkit does more ops/s; below 1 its latency is shorter.
     */
    static void printBaselines(PrintWriter out, List<Result> results, List<PeerBaselines.PeerResult> peers) {
        if (peers.isEmpty()) {
            return;
        }
        out.println();
        out.println("| round | library | client mode | clients | ops/s | p50 ms | p99 ms | p99.9 ms | elections | errors |");
        out.println("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for (PeerBaselines.PeerResult p : peers) {
            out.printf(Locale.ROOT, "| %d | %s | %s | %d | %.0f | %.2f | %.2f | %.2f | %d | %d |%n", p.round(), p.library(),
                    p.mode(), p.clients(), p.opsPerSec(), p.p50(), p.p99(), p.p999(), p.elections(), p.errors());
        }
        out.println();
        out.println("Raftkit (key-value) / peer, each round's pair, median over the rounds (range); ops/s above 1 and "
                + "latency below 1 favour Raftkit:");
        Map<String, List<double[]>> ratios = new LinkedHashMap<>();
        for (PeerBaselines.PeerResult p : peers) {
            for (Result r : results) {
                if (r.workload() == BenchWorkload.KV && r.mode().equals(p.mode()) && r.clients() == p.clients()
                        && r.round() == p.round() && r.metrics().equals(results.get(0).metrics())) {
                    ratios.computeIfAbsent(p.library() + ", " + p.mode() + ", " + p.clients() + " client"
                                    + (p.clients() == 1 ? "" : "s"), k -> new ArrayList<>())
                            .add(new double[] {r.opsPerSec() / p.opsPerSec(), r.pct(50) / p.p50(), r.pct(99) / p.p99(),
                                r.pct(99.9) / p.p999()});
                }
            }
        }
        ratios.forEach((setting, pairs) -> out.printf(Locale.ROOT,
                "  vs %s: ops/s %s, p50 %s, p99 %s, p99.9 %s (%d round%s)%n", setting, medianAndRange(pairs, 0),
                medianAndRange(pairs, 1), medianAndRange(pairs, 2), medianAndRange(pairs, 3), pairs.size(),
                pairs.size() == 1 ? "" : "s"));
    }

    /**
     * With --sm sql: each setting's SQL INSERTs/s over the key-value puts/s of the same round (the
     * two ran one after the other), with metrics on and off compared alike and named when both
     * ran; with --rounds, then the median of the rounds' ratios and their range.
     */
    private static void printRatios(PrintWriter out, List<Result> results, boolean nameMetrics) {
        boolean rounds = results.stream().anyMatch(r -> r.round() > 1);
        Map<String, List<double[]>> ratios = new LinkedHashMap<>();
        for (Result sql : results) {
            if (sql.workload() != BenchWorkload.SQL) {
                continue;
            }
            for (Result kv : results) {
                if (kv.workload() == BenchWorkload.KV && kv.mode().equals(sql.mode()) && kv.clients() == sql.clients()
                        && kv.metrics().equals(sql.metrics()) && kv.round() == sql.round()) {
                    String setting = (nameMetrics ? sql.mode() + ", metrics " + sql.metrics() : sql.mode()) + ", "
                            + sql.clients() + " client" + (sql.clients() == 1 ? "" : "s");
                    double ratio = sql.opsPerSec() / kv.opsPerSec();
                    out.printf(Locale.ROOT, "SQL vs key-value, %s%s: %.0f %s/s vs %.0f %s/s = %.2f%n", setting,
                            rounds ? ", round " + sql.round() : "", sql.opsPerSec(), BenchWorkload.SQL.writes(),
                            kv.opsPerSec(), BenchWorkload.KV.writes(), ratio);
                    ratios.computeIfAbsent(setting, k -> new ArrayList<>()).add(new double[] {ratio});
                }
            }
        }
        if (rounds) {
            ratios.forEach((setting, r) -> out.printf(Locale.ROOT, "SQL vs key-value, %s: %s (median of %d rounds)%n",
                    setting, medianAndRange(r, 0), r.size()));
        }
    }

    /**
     * With metrics both on and off: per setting, each round's on/off ratio of ops/s, p50 and p99
     * (the two ran next to each other, so a slow minute of the machine hits both), and their
     * median over the rounds with the range.
     */
    static void printMetricsCost(PrintWriter out, List<Result> results) {
        boolean both = results.stream().anyMatch(r -> r.metrics().equals("on"))
                && results.stream().anyMatch(r -> r.metrics().equals("off"));
        if (!both) {
            return;
        }
        out.println();
        out.println("metrics on / off, each round's pair, median over the rounds (range):");
        java.util.Map<String, List<double[]>> ratios = new java.util.LinkedHashMap<>();
        for (Result on : results) {
            if (!on.metrics().equals("on")) {
                continue;
            }
            for (Result off : results) {
                if (off.metrics().equals("off") && off.round() == on.round() && off.workload() == on.workload()
                        && off.mode().equals(on.mode()) && off.clients() == on.clients()) {
                    ratios.computeIfAbsent(on.workload().kind().cliName() + ", " + on.mode() + ", " + on.clients()
                                    + " client" + (on.clients() == 1 ? "" : "s"), k -> new ArrayList<>())
                            .add(new double[] {on.opsPerSec() / off.opsPerSec(), on.pct(50) / off.pct(50),
                                    on.pct(99) / off.pct(99)});
                }
            }
        }
        ratios.forEach((setting, pairs) -> out.printf(Locale.ROOT, "  %s: ops/s %s, p50 %s, p99 %s (%d round%s)%n",
                setting, medianAndRange(pairs, 0), medianAndRange(pairs, 1), medianAndRange(pairs, 2), pairs.size(),
                pairs.size() == 1 ? "" : "s"));
    }

    /** {@code ×0.98 (0.95–1.03)}: the median of column {@code i}, and its range over more than one value. */
    static String medianAndRange(List<double[]> rows, int i) {
        double[] v = rows.stream().mapToDouble(r -> r[i]).sorted().toArray();
        double median = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        return v.length == 1 ? String.format(Locale.ROOT, "×%.2f", median)
                : String.format(Locale.ROOT, "×%.2f (%.2f–%.2f)", median, v[0], v[v.length - 1]);
    }

    // ------------------------------------------------------------------ helpers

    static double[] loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
        } catch (IOException | RuntimeException e) {
            double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            return new double[] {l, Double.NaN, Double.NaN};
        }
    }

    /**
     * Context switches (voluntary and not) of this JVM's live threads so far, from
     * {@code /proc/self/task/}; -1 where that is not readable. Per operation it counts the
     * thread hand-offs of the commit path, and unlike time it hardly depends on the machine's load.
     */
    static long contextSwitches() {
        long sum = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                try {
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                            sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                        }
                    }
                } catch (IOException | RuntimeException gone) {
                    // the thread ended meanwhile
                }
            }
            return sum;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** CPU time of this JVM so far, in nanoseconds (-1 if unknown). */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** Total GC time of this JVM so far, in milliseconds. */
    static long gcMillis() {
        long sum = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            sum += Math.max(0, gc.getCollectionTime());
        }
        return sum;
    }

    static void sleepUntil(long deadlineNanos) {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Best effort: a benchmark's temporary directory. */
    static void deleteTree(Path root) {
        try {
            FileIo.real().deleteRecursively(root);
        } catch (IOException e) {
            // best effort
        }
    }
}
