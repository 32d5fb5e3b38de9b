package dev.raftkit.cli.bench;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.core.RaftException;
import dev.raftkit.kv.KvOps;
import dev.raftkit.node.BackupPolicy;
import dev.raftkit.node.RaftNode;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupFile;
import dev.raftkit.storage.backup.BackupKey;
import dev.raftkit.storage.backup.BackupManifest;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.BackupService;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code raftkit bench backup}: backup and restore throughput of a state of a given size, beside
 * this machine's raw sequential write rate measured in the same run. The state is a one-node
 * key-value {@link RaftNode} in this process (fsync'd segmented log, the node's own snapshot
 * store) loaded with puts of random values; the backups are the node's own ({@link
 * RaftNode#backup}, {@link RaftNode#incrementalBackup}: a snapshot of the state machine, then
 * the committed entries), the restores {@link BackupRestore} into new data directories, each
 * measured sequentially (parallelism 1) and concurrently, interleaved round by round (the order
 * alternating) and compared by their medians. Last, a node is started on one restored directory
 * and timed until it has applied everything: the cold restore as an operator sees it. Before the
 * node stops, a differential backup is timed (not restored: the increments make the restored chain
 * longer) and the node is rolled back live to its full backup's state (a hot restore, one node).
 */
@Command(name = "backup", mixinStandardHelpOptions = true,
        description = {"Measure backup and restore of a state of --state bytes (a one-node key-value cluster in this",
                "process): raw disk write rate, full, incremental and differential backup MB/s, a hot restore (the",
                "running node rolled back to the full backup's state), restore into one and into --nodes",
                "directories, sequential against --parallelism threads (interleaved rounds, medians, the speed-up),",
                "and a node started on a restored directory until it has applied everything (the cold restore)."},
        footer = {"", "Exit codes: 0 measured, 1 a backup or restore failed or restored the wrong index, 2 bad arguments.",
                "", "Examples:",
                "  raftkit bench backup --state 64MiB --rounds 3",
                "  raftkit bench backup --state 1GiB --increments 8 --nodes 3 --csv backup.csv"})
public final class BackupBenchCommand implements Callable<Integer> {

    private static final double MB = 1e6;

    @Spec
    CommandSpec spec;

    @Option(names = "--state", defaultValue = "1GiB", paramLabel = "BYTES",
            description = "Size of the state the full backup holds: bytes, or with KiB, MiB, GiB (default 1GiB).")
    String state;

    @Option(names = "--increments", defaultValue = "8",
            description = "Incremental backups after the full one: the chain restored is full + these (default 8).")
    int increments;

    @Option(names = "--increment", paramLabel = "BYTES",
            description = "Values written before each incremental backup (default: a 32nd of --state).")
    String increment;

    @Option(names = "--value-bytes", defaultValue = "65536",
            description = "Bytes of each put's value (default 65536).")
    int valueBytes;

    @Option(names = "--nodes", defaultValue = "3",
            description = "Data directories the several-node restore writes (default 3).")
    int nodes;

    @Option(names = "--parallelism", paramLabel = "N",
            description = "Threads of the concurrent restores (default: the number of cores).")
    Integer parallelism;

    @Option(names = "--rounds", defaultValue = "3",
            description = "Interleaved rounds of each restore measurement; medians over them (default 3).")
    int rounds;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Where to put the node, its backups and the restores (default: the temporary directory);"
                    + " everything is deleted at the end. Needs about (2 + --nodes) times --state free.")
    Path dir;

    @Option(names = "--encrypted", description = "Encrypt the backups (AES-256-GCM, a key generated for the run):"
            + " verification and restore then decrypt and authenticate every chunk, work the restore's threads share.")
    boolean encrypted;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the CSV lines to FILE.")
    Path csvFile;

    /** One measured step: how many bytes it handled and how long each run took. */
    record Step(String name, int parallelism, int dirs, long bytes, double[] seconds) {
        double median() {
            return SimBenchCommand.median(seconds);
        }

        double mbPerSecond() {
            return bytes / MB / median();
        }
    }

    @Override
    public Integer call() throws Exception {
        long stateBytes = bytes(state, "--state");
        long incrementBytes = increment == null ? Math.max(valueBytes, stateBytes / 32) : bytes(increment, "--increment");
        int threads = parallelism == null ? BackupRestore.DEFAULT_PARALLELISM : parallelism;
        if (stateBytes < valueBytes || valueBytes < 1 || valueBytes > 4 << 20) {
            throw new ParameterException(spec.commandLine(), "--value-bytes must be in 1..4194304 and --state at least"
                    + " one value; got --value-bytes " + valueBytes + ", --state " + state);
        }
        if (increments < 0 || nodes < 1 || rounds < 1 || threads < 1) {
            throw new ParameterException(spec.commandLine(), "--increments must not be negative and --nodes, --rounds"
                    + " and --parallelism must be at least 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path parent = dir == null ? Path.of(System.getProperty("java.io.tmpdir")) : dir;
        Files.createDirectories(parent);
        Path work = Files.createTempDirectory(parent, "raftkit-bench-backup-");
        try {
            return run(out, err, work, stateBytes, incrementBytes, threads);
        } finally {
            BenchCommand.deleteTree(work);
        }
    }

    private int run(PrintWriter out, PrintWriter err, Path work, long stateBytes, long incrementBytes, int threads)
            throws Exception {
        List<Step> steps = new ArrayList<>();
        long rawBytes = Math.min(stateBytes, 1L << 30);
        // The raw rate is measured again before each round of restores too, and the median taken:
        // on a shared machine the disk's rate moves during a run as much as the figures compared to it.
        List<Double> raw = new ArrayList<>();
        note(err, "raw disk: writing %s sequentially in 1 MiB blocks, then one fsync...", size(rawBytes));
        raw.add(rawWriteRate(work, rawBytes));

        Path data = work.resolve("node");
        Path root = work.resolve("backups");
        Random random = new Random(16);
        List<BackupService.Result> chain = new ArrayList<>();
        List<Double> incrementSeconds = new ArrayList<>();
        Step hotRestore;
        long incrementFileBytes = 0;
        double loadSeconds;
        BackupKey key = encrypted ? BackupKey.generate(new SecureRandom()) : null;
        try (RaftNode node = startNode(data, root, key)) {
            note(err, "loading %s of %d-byte values into a one-node key-value cluster...", size(stateBytes), valueBytes);
            long t0 = System.nanoTime();
            long[] next = {0};
            load(node, stateBytes, random, next);
            loadSeconds = seconds(t0);
            note(err, "full backup...");
            t0 = System.nanoTime();
            chain.add(node.backup(root));
            double fullSeconds = seconds(t0);
            steps.add(new Step("full backup", 1, 1, dataBytes(chain.get(0).manifest()), new double[] {fullSeconds}));
            for (int i = 1; i <= increments; i++) {
                load(node, incrementBytes, random, next);
                note(err, "incremental backup %d of %d...", i, increments);
                t0 = System.nanoTime();
                BackupService.Result r = node.incrementalBackup(root);
                incrementSeconds.add(seconds(t0));
                if (r.fellBackToFull()) {
                    err.println("incremental backup " + i + " fell back to a full one: " + r.fallbackReason());
                    return 1;
                }
                chain.add(r);
                incrementFileBytes += dataBytes(r.manifest());
            }
            if (increments > 0) {
                // Everything since the full backup: the increments' entries copied from the chain,
                // the rest from the log. Kept out of the chain restored below, which the increments
                // make longer (and so the restore's work larger).
                note(err, "differential backup...");
                t0 = System.nanoTime();
                BackupService.Result d = node.differentialBackup(root);
                double diffSeconds = seconds(t0);
                if (d.fellBackToFull()) {
                    err.println("the differential backup fell back to a full one: " + d.fallbackReason());
                    return 1;
                }
                steps.add(new Step("differential backup", 1, 1, dataBytes(d.manifest()), new double[] {diffSeconds}));
            }
            // Hot: the node serving, rolled back to the full backup's state, until the switch is applied.
            long switchTo = chain.get(0).manifest().lastIndex();
            note(err, "hot restore: the running node rolled back to index %d...", switchTo);
            t0 = System.nanoTime();
            RaftNode.LiveRestoreResult hot = node.liveRestore(root, switchTo, Duration.ofHours(6));
            double hotSeconds = seconds(t0);
            hotRestore = new Step("hot restore of a live node", 1, 1, hot.state().sizeBytes(), new double[] {hotSeconds});
        }
        if (increments > 0) {
            steps.add(new Step("incremental backup", 1, 1, incrementFileBytes / increments,
                    incrementSeconds.stream().mapToDouble(Double::doubleValue).toArray()));
        }

        List<Path> dirs = chain.stream().map(r -> r.backup().dir()).toList();
        BackupChain verified = BackupChain.verify(dirs, key);
        long expectIndex = verified.last().manifest().lastIndex();
        long chainBytes = dataBytes(verified);
        // Each kind of restore: its name, threads, directories, and whether the directories are
        // written by one call (verifying once) or by one call each (as 'raftkit restore' was run once
        // per node before it took several directories).
        String one = "restore into 1 directory";
        String many = "restore into " + nodes + " directories";
        String[] names = {one, one, many, many, nodes + " separate restores"};
        int[] parallel = {1, threads, 1, threads, 1};
        int[] copies = {1, 1, nodes, nodes, nodes};
        boolean[] separate = {false, false, false, false, true};
        int kinds = nodes > 1 ? 5 : 2;
        double[][] restore = new double[kinds][rounds];
        for (int round = 0; round < rounds; round++) {
            note(err, "round %d of %d: raw disk, %s...", round + 1, rounds, size(rawBytes));
            raw.add(rawWriteRate(work, rawBytes));
            // Alternate the order, so no kind always runs on a page cache (or a disk queue) another left.
            for (int j = 0; j < kinds; j++) {
                int k = round % 2 == 0 ? j : kinds - 1 - j;
                note(err, "round %d of %d: %s, parallelism %d...", round + 1, rounds, names[k], parallel[k]);
                List<Path> targets = new ArrayList<>();
                for (int n = 1; n <= copies[k]; n++) {
                    targets.add(work.resolve("restored-" + round + "-" + k).resolve("n" + n));
                }
                long t0 = System.nanoTime();
                List<BackupRestore.Result> results = new ArrayList<>();
                if (separate[k]) {
                    for (Path t : targets) {
                        results.addAll(BackupRestore.restore(dirs, List.of(t), BackupRestore.LATEST, key, 1, null));
                    }
                } else {
                    results.addAll(BackupRestore.restore(dirs, targets, BackupRestore.LATEST, key, parallel[k], null));
                }
                restore[k][round] = seconds(t0);
                for (BackupRestore.Result r : results) {
                    if (r.lastIndex() != expectIndex) {
                        err.println("the restore into " + r.dataDir() + " ended at index " + r.lastIndex()
                                + ", the chain at " + expectIndex);
                        return 1;
                    }
                }
                BenchCommand.deleteTree(targets.get(0).getParent());
            }
        }
        for (int k = 0; k < kinds; k++) {
            steps.add(new Step(names[k], parallel[k], copies[k], chainBytes * copies[k], restore[k]));
        }

        note(err, "cold start: a node on a restored directory, until it has applied index %d...", expectIndex);
        Path restored = work.resolve("cold");
        long t0 = System.nanoTime();
        BackupRestore.restore(dirs, List.of(restored), BackupRestore.LATEST, key, threads, null);
        double restoreSeconds = seconds(t0);
        double applySeconds = startAndApply(restored, expectIndex);
        steps.add(new Step("cold restore + node applied", threads, 1, chainBytes,
                new double[] {restoreSeconds + applySeconds}));
        steps.add(hotRestore);

        double rawMbps = SimBenchCommand.median(raw.stream().mapToDouble(Double::doubleValue).toArray());
        double[] rawSorted = raw.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        print(out, steps, rawMbps, rawSorted, rawBytes, stateBytes, chainBytes, verified.backups().size(), loadSeconds, threads);
        return 0;
    }

    private void print(PrintWriter out, List<Step> steps, double rawMbps, double[] raw, long rawBytes, long stateBytes,
                       long chainBytes, int backups, double loadSeconds, int threads) {
        out.printf(Locale.ROOT, "raftkit bench backup: state %s (%d-byte values), chain of %d %sbackups (%s of files),"
                        + " %d round(s), parallelism %d, %d cores, load average %s%n", size(stateBytes), valueBytes, backups,
                encrypted ? "encrypted " : "",
                size(chainBytes), rounds, threads, Runtime.getRuntime().availableProcessors(), load());
        out.printf(Locale.ROOT, "raw disk: %.1f MB/s sequential write of %s + fsync (median of %d, %.1f..%.1f);"
                + " loading the state took %.1f s%n", rawMbps, size(rawBytes), raw.length, raw[0], raw[raw.length - 1],
                loadSeconds);
        out.println("| step | threads | directories | MB | runs | median s | min s | max s | MB/s | of raw disk |");
        out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (Step s : steps) {
            double[] v = s.seconds().clone();
            Arrays.sort(v);
            out.printf(Locale.ROOT, "| %s | %d | %d | %.1f | %d | %.2f | %.2f | %.2f | %.1f | %.0f%% |%n", s.name(),
                    s.parallelism(), s.dirs(), s.bytes() / MB, v.length, s.median(), v[0], v[v.length - 1],
                    s.mbPerSecond(), 100 * s.mbPerSecond() / rawMbps);
        }
        Step seq1 = find(steps, "restore into 1 directory", 1);
        Step par1 = find(steps, "restore into 1 directory", threads);
        if (threads > 1) {
            out.printf(Locale.ROOT, "speed-up of %d threads over sequential (median time, sequential / concurrent):"
                    + " 1 directory %.2f×", threads, seq1.median() / par1.median());
            if (nodes > 1) {
                Step seqN = find(steps, "restore into " + nodes + " directories", 1);
                Step parN = find(steps, "restore into " + nodes + " directories", threads);
                out.printf(Locale.ROOT, ", %d directories %.2f×", nodes, seqN.median() / parN.median());
            }
            out.println();
        }
        if (nodes > 1) {
            Step sep = find(steps, nodes + " separate restores", 1);
            out.printf(Locale.ROOT, "%d directories in one call against %d separate restores (median time, separate /"
                            + " one call): sequential %.2f×, %d threads %.2f×%n", nodes, nodes,
                    sep.median() / find(steps, "restore into " + nodes + " directories", 1).median(), threads,
                    sep.median() / find(steps, "restore into " + nodes + " directories", threads).median());
        }
        List<String> csv = new ArrayList<>();
        csv.add("csv,step,threads,directories,bytes,runs,median_s,min_s,max_s,mb_per_s,raw_disk_mb_per_s");
        for (Step s : steps) {
            double[] v = s.seconds().clone();
            Arrays.sort(v);
            csv.add(String.format(Locale.ROOT, "csv,%s,%d,%d,%d,%d,%.3f,%.3f,%.3f,%.1f,%.1f", s.name(), s.parallelism(),
                    s.dirs(), s.bytes(), v.length, s.median(), v[0], v[v.length - 1], s.mbPerSecond(), rawMbps));
        }
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

    /** The 1, 5 and 15 minute load averages, as the other benchmarks print them. */
    private static String load() {
        double[] l = BenchCommand.loadAverage();
        return String.format(Locale.ROOT, "%.2f %.2f %.2f", l[0], l[1], l[2]);
    }

    private static Step find(List<Step> steps, String name, int parallelism) {
        return steps.stream().filter(s -> s.name().equals(name) && s.parallelism() == parallelism).findFirst()
                .orElseThrow();
    }

    private RaftNode startNode(Path data, Path root, BackupKey key) throws Exception {
        InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
        Files.createDirectories(root);
        // A slow fsync of a loaded shared machine must not make the only node step down half-way
        // through loading: the disk checks are for failover, and there is no one to fail over to.
        RaftNode node = RaftNode.builder("bench-backup", 1).dataDir(data).peerListen(any).clientListen(any)
                .diskSlowMillis(TimeUnit.MINUTES.toMillis(2)).diskStallTicks(2400).diskStuckTicks(12_000)
                .backups(new BackupPolicy(root.toRealPath(), key))
                .bootstrap(Set.of(1L)).tickMillis(BenchNode.TICK_MILLIS)
                .stateMachine(StateMachineKind.KV.create(data)).stateMachineFactory(StateMachineKind.KV::createScratch)
                .start();
        try {
            awaitLeader(node);
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
        // An entry of the leader's term commits before it serves: a session entry (an empty
        // command would be refused by the state machine before it is proposed).
        node.server().openSession().get(1, TimeUnit.MINUTES);
        return node;
    }

    /**
     * Puts values of random bytes until {@code bytes} more are written, 32 in flight. A put that
     * fails retryably (the node stepped down: a slow fsync on a loaded machine) is sent again once
     * the node leads again; a put applied twice writes the same value to the same key.
     */
    private void load(RaftNode node, long bytes, Random random, long[] key) throws Exception {
        Semaphore inFlight = new Semaphore(32);
        List<byte[]> commands = new ArrayList<>();
        List<CompletableFuture<byte[]>> pending = new ArrayList<>();
        for (long written = 0; written < bytes; written += valueBytes) {
            byte[] value = new byte[valueBytes];
            random.nextBytes(value);
            byte[] command = KvOps.put(("k" + key[0]++).getBytes(StandardCharsets.UTF_8), value);
            inFlight.acquire();
            CompletableFuture<byte[]> f = node.server().submit(command);
            f.whenComplete((r, e) -> inFlight.release());
            commands.add(command);
            pending.add(f);
            if (pending.size() >= 1024) {
                settle(node, commands, pending);
            }
        }
        settle(node, commands, pending);
    }

    /** Waits for every pending put, sending each retryable failure again until it succeeds. */
    private static void settle(RaftNode node, List<byte[]> commands, List<CompletableFuture<byte[]>> pending)
            throws Exception {
        for (int i = 0; i < pending.size(); i++) {
            CompletableFuture<byte[]> f = pending.get(i);
            for (int attempt = 1; ; attempt++) {
                try {
                    f.get(10, TimeUnit.MINUTES);
                    break;
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof RaftException r) || !r.retryable() || attempt > 100) {
                        throw e;
                    }
                    awaitLeader(node);
                    f = node.server().submit(commands.get(i));
                }
            }
        }
        commands.clear();
        pending.clear();
    }

    private static void awaitLeader(RaftNode node) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!node.server().status().isLeader()) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("the one-node cluster has had no leader for two minutes");
            }
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    /** Starts a node on {@code data} (a restored directory) and returns the seconds until it has applied {@code index}. */
    private static double startAndApply(Path data, long index) throws Exception {
        long t0 = System.nanoTime();
        InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
        try (RaftNode node = RaftNode.builder("bench-backup-restored", 1).dataDir(data).peerListen(any)
                .clientListen(any).tickMillis(BenchNode.TICK_MILLIS).stateMachine(StateMachineKind.KV.create(data))
                .start()) {
            awaitApplied(node, index);
            return seconds(t0);
        }
    }

    /** Polls (every 10 ms) until {@code node} has applied {@code index}; a restored node that stalls fails within 10 minutes. */
    private static void awaitApplied(RaftNode node, long index) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (node.server().status().applied() < index) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("node " + node.id() + " applied only " + node.server().status().applied()
                        + " of " + index + " entries within 10 minutes");
            }
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    /** Writes {@code bytes} sequentially in 1 MiB blocks, then fsyncs once; returns MB/s. */
    static double rawWriteRate(Path dir, long bytes) throws IOException {
        Path f = dir.resolve("raw-write.dat");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer block = ByteBuffer.allocateDirect(1 << 20);
            new Random(1).ints(block.capacity() / 4).forEach(block::putInt);
            long t0 = System.nanoTime();
            for (long pos = 0; pos < bytes; ) {
                block.clear();
                block.limit((int) Math.min(block.capacity(), bytes - pos));
                pos += ch.write(block, pos);
            }
            ch.force(true);
            return bytes / MB / seconds(t0);
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /** The data files' bytes of a backup (the snapshot, or the entries). */
    private static long dataBytes(BackupManifest m) {
        return m.files().stream().mapToLong(BackupFile::sizeBytes).sum();
    }

    private static long dataBytes(BackupChain chain) {
        return chain.backups().stream().mapToLong(b -> dataBytes(b.manifest())).sum();
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static void note(PrintWriter err, String format, Object... args) {
        err.printf(Locale.ROOT, format + "%n", args);
        err.flush();
    }

    private static String size(long bytes) {
        if (bytes >= 1L << 30 && bytes % (1L << 30) == 0) {
            return bytes / (1L << 30) + " GiB";
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return bytes + " bytes";
    }

    private long bytes(String value, String option) {
        String v = value.trim();
        long unit = 1;
        for (String[] u : new String[][] {{"KiB", "1024"}, {"MiB", "1048576"}, {"GiB", "1073741824"}}) {
            if (v.endsWith(u[0])) {
                unit = Long.parseLong(u[1]);
                v = v.substring(0, v.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            long n = Long.parseLong(v);
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new ParameterException(spec.commandLine(), option + ": '" + value + "' is not a byte count; give a"
                    + " positive whole number of bytes, or one with KiB, MiB or GiB (64MiB)");
        }
    }
}
