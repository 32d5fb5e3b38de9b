package dev.raftkit.benchpeers;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogWriter;
import org.HdrHistogram.Recorder;

/**
 * The workload of {@code raftkit bench}, for a peer library: 3 nodes in this JVM over loopback
 * with fsync'd logs and an in-memory key-value state machine, {@code C} closed-loop client threads
 * with one outstanding put each (keys {@code c<thread>-<n mod keys>}, a fixed random value,
 * commands encoded before the clock starts), a fresh cluster per setting, a warm-up, then a
 * measured window in which only writes that start and finish inside it count. Latency is recorded
 * in nanoseconds in an HdrHistogram (1 ns to 60 s, 3 significant digits), as raftkit bench does;
 * like it, the load is closed-loop, so the percentiles are service times (coordinated omission:
 * a stall holds the clients back instead of queueing writes behind it).
 *
 * <p>Output: the CSV header and a {@code csv,...} line per setting on stdout, in raftkit bench's
 * columns (what a library does not expose is NaN), the library's name in the last column; with
 * {@code --histogram-log FILE}, one HdrHistogram log interval per second of each window, tagged
 * with the setting, for raftkit bench's HTML report. Chatter goes to stderr. The exit code is 0,
 * 1 if a setting committed nothing or had failed writes, 2 for bad arguments.
 */
public final class PeerBench {

    /** CSV columns, the same as raftkit bench's. */
    public static final String CSV_HEADER = "csv,mode,processes,clients,value_bytes,seconds,ops,ops_per_s,p50_ms,p99_ms,"
            + "p999_ms,leader_fsyncs_per_s,entries_per_fsync,all_fsyncs_per_s,cpu_pct,gc_ms,elections,errors,"
            + "raw_fsync_per_s,raw_fsync_prealloc_per_s,rtt_p50_us,load1,ctx_switches_per_op,state_machine,metrics,round,"
            + "library";

    private static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);

    /**
     * A peer library: how to start its 3-node cluster. Called on the main thread only; it may
     * block. An exception fails the run (exit 1) with its message.
     */
    public interface Library {
        /** The name in the CSV's last column: {@code ratis}, {@code sofajraft}. */
        String name();

        /** The client modes it has, in raftkit bench's names ({@code grpc}, {@code in-process}). */
        List<String> modes();

        /** Starts 3 nodes with their logs under {@code dir}, and returns once a leader is elected. */
        Cluster start(Path dir) throws Exception;
    }

    /** A running 3-node cluster; its methods are called from the main thread, except the clients'. */
    public interface Cluster extends AutoCloseable {
        /**
         * Client {@code thread}'s way to write in {@code mode}; called before the clock starts.
         * The client is used by that one thread only.
         */
        Client client(String mode, int thread) throws Exception;

        /** The leader's current term (a change in the window counts as an election). */
        long term() throws Exception;

        /** The leader's log syncs so far, or -1 if the library does not tell. */
        default long leaderSyncs() {
            return -1;
        }

        /** All three nodes' log syncs so far, or -1 if the library does not tell. */
        default long allSyncs() {
            return -1;
        }

        /** The leader's commit index (for entries per sync). */
        default long committed() {
            return -1;
        }

        @Override
        void close();
    }

    /** One client thread's writer. */
    public interface Client extends AutoCloseable {
        /**
         * Writes {@code command} ({@code [u16 key length][key][value]}) and waits until it is
         * applied; true if it was, false (or an exception) if it failed.
         */
        boolean write(byte[] command) throws Exception;

        @Override
        default void close() {
        }
    }

    private PeerBench() {
    }

    /** Runs the settings named by {@code args} on {@code library}; exits the JVM with the exit code. */
    public static void main(Library library, String[] args) {
        int exit;
        try {
            exit = run(library, Options.parse(args, library), System.out, System.err);
        } catch (IllegalArgumentException e) {
            System.err.println(library.name() + " bench: " + e.getMessage());
            exit = 2;
        } catch (Exception e) {
            e.printStackTrace();
            exit = 1;
        }
        System.out.flush();
        // gRPC, Netty and Bolt leave non-daemon threads behind.
        System.exit(exit);
    }

    /** The parsed command line. */
    record Options(List<Integer> clients, int valueBytes, List<String> modes, long warmupNanos, long durationNanos,
                   long prewarmNanos, int keys, Path dir, int round, Path histogramLog) {

        static Options parse(String[] args, Library library) {
            List<Integer> clients = List.of(1, 16, 64);
            int valueBytes = 100;
            List<String> modes = List.of(library.modes().get(0));
            long warmup = TimeUnit.SECONDS.toNanos(5);
            long duration = TimeUnit.SECONDS.toNanos(20);
            long prewarm = 0;
            int keys = 1000;
            Path dir = Path.of(System.getProperty("java.io.tmpdir"));
            int round = 1;
            Path log = null;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--help") || a.equals("-h")) {
                    throw new IllegalArgumentException("usage: java -jar bench-" + library.name() + ".jar [--clients N,N]"
                            + " [--value-bytes B] [--client-mode " + String.join("|", library.modes()) + "[,...]]"
                            + " [--warmup 5s] [--duration 20s] [--prewarm 0s] [--keys 1000] [--dir DIR] [--round N]"
                            + " [--histogram-log FILE]");
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(a + " needs a value (try --help)");
                }
                String v = args[++i];
                switch (a) {
                    case "--clients" -> clients = Stream.of(v.split(",")).map(s -> positive(a, s)).toList();
                    case "--value-bytes" -> valueBytes = Integer.parseInt(v);
                    case "--client-mode" -> {
                        modes = List.of(v.split(","));
                        for (String m : modes) {
                            if (!library.modes().contains(m)) {
                                throw new IllegalArgumentException("--client-mode: " + library.name() + " has "
                                        + library.modes() + ", not '" + m + "'");
                            }
                        }
                    }
                    case "--warmup" -> warmup = nanos(a, v);
                    case "--duration" -> duration = nanos(a, v);
                    case "--prewarm" -> prewarm = nanos(a, v);
                    case "--keys" -> keys = positive(a, v);
                    case "--dir" -> dir = Path.of(v);
                    case "--round" -> round = positive(a, v);
                    case "--histogram-log" -> log = Path.of(v);
                    default -> throw new IllegalArgumentException("unknown option " + a + " (try --help)");
                }
            }
            if (duration <= 0) {
                throw new IllegalArgumentException("--duration must be positive");
            }
            return new Options(clients, valueBytes, modes, warmup, duration, prewarm, keys, dir, round, log);
        }

        private static int positive(String option, String v) {
            try {
                int n = Integer.parseInt(v.trim());
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(option + " takes a positive integer, got '" + v + "'");
        }

        /** {@code 500ms}, {@code 5s}, {@code 1.5m} or a bare number of seconds. */
        static long nanos(String option, String v) {
            try {
                if (v.endsWith("ms")) {
                    return (long) (Double.parseDouble(v.substring(0, v.length() - 2)) * 1e6);
                }
                if (v.endsWith("s")) {
                    return (long) (Double.parseDouble(v.substring(0, v.length() - 1)) * 1e9);
                }
                if (v.endsWith("m")) {
                    return (long) (Double.parseDouble(v.substring(0, v.length() - 1)) * 60e9);
                }
                return (long) (Double.parseDouble(v) * 1e9);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " takes a duration such as 500ms, 5s or 1.5m, got '" + v + "'");
            }
        }
    }

    static int run(Library library, Options o, PrintStream out, PrintStream err) throws Exception {
        HistogramLogWriter log = null;
        if (o.histogramLog() != null) {
            log = new HistogramLogWriter(o.histogramLog().toFile());
            log.outputLogFormatVersion();
            log.outputStartTime(System.currentTimeMillis());
            log.setBaseTime(0);
        }
        try {
            if (o.prewarmNanos() > 0) {
                err.printf(Locale.ROOT, "%s: JIT prewarm, %s, 16 clients, %.0f s (not reported)%n", library.name(),
                        o.modes().get(0), o.prewarmNanos() / 1e9);
                setting(library, o, o.modes().get(0), 16, 0, o.prewarmNanos(), null, null);
            }
            out.println(CSV_HEADER);
            boolean failed = false;
            double load1 = load1();
            for (String mode : o.modes()) {
                for (int c : o.clients()) {
                    err.printf(Locale.ROOT, "%s, %s, %d client%s, %d B: warm-up %.1f s, measuring %.1f s...%n",
                            library.name(), mode, c, c == 1 ? "" : "s", o.valueBytes(), o.warmupNanos() / 1e9,
                            o.durationNanos() / 1e9);
                    String line = setting(library, o, mode, c, o.warmupNanos(), o.durationNanos(), log, load1);
                    out.println(line);
                    out.flush();
                    String[] f = line.split(",");
                    failed |= Long.parseLong(f[6]) == 0 || Long.parseLong(f[17]) > 0;
                }
            }
            return failed ? 1 : 0;
        } finally {
            if (log != null) {
                log.close();
            }
        }
    }

    /** One setting on a fresh cluster; its CSV line (null {@code log}: a prewarm, nothing kept). */
    private static String setting(Library library, Options o, String mode, int clients, long warmupNanos,
                                  long durationNanos, HistogramLogWriter log, Double load1) throws Exception {
        Path data = Files.createTempDirectory(Files.createDirectories(o.dir()), "bench-" + library.name() + "-");
        byte[] value = new byte[o.valueBytes()];
        new Random(42).nextBytes(value);
        try (Cluster cluster = library.start(data)) {
            Recorder recorder = new Recorder(1, HIGHEST_NANOS, 3);
            long start = System.nanoTime() + 20_000_000L;
            long windowStart = start + warmupNanos;
            long windowEnd = windowStart + durationNanos;
            Worker[] workers = new Worker[clients];
            Thread[] threads = new Thread[clients];
            for (int t = 0; t < clients; t++) {
                byte[][] cmds = new byte[o.keys()][];
                for (int k = 0; k < o.keys(); k++) {
                    cmds[k] = encode("c" + t + "-" + k, value);
                }
                workers[t] = new Worker(cmds, cluster.client(mode, t), recorder, start, windowStart, windowEnd);
                threads[t] = new Thread(workers[t], "bench-client-" + t);
                threads[t].setDaemon(true);
                threads[t].start();
            }
            sleepUntil(windowStart);
            long term0 = cluster.term();
            long syncs0 = cluster.leaderSyncs();
            long all0 = cluster.allSyncs();
            long commit0 = cluster.committed();
            long cpu0 = cpuNanos();
            long gc0 = gcMillis();
            long t0 = System.nanoTime();
            List<Histogram> seconds = new ArrayList<>();
            Histogram interval = null;
            for (long s = windowStart + 1_000_000_000L; s < windowEnd; s += 1_000_000_000L) {
                sleepUntil(s);
                interval = recorder.getIntervalHistogram(interval);
                seconds.add(interval.copy());
            }
            sleepUntil(windowEnd);
            interval = recorder.getIntervalHistogram(interval);
            seconds.add(interval.copy());
            long t1 = System.nanoTime();
            long cpu1 = cpuNanos();
            long gc1 = gcMillis();
            long term1 = cluster.term();
            long syncs1 = cluster.leaderSyncs();
            long all1 = cluster.allSyncs();
            long commit1 = cluster.committed();
            for (Thread th : threads) {
                th.join(TimeUnit.SECONDS.toMillis(30));
            }
            // A write that finished inside the window but was recorded after its end: the last second's.
            seconds.get(seconds.size() - 1).add(recorder.getIntervalHistogram());
            for (Worker w : workers) {
                w.client.close();
            }
            if (log == null) {
                return null;
            }
            Histogram total = new Histogram(1, HIGHEST_NANOS, 3);
            seconds.forEach(total::add);
            long errors = 0;
            for (Worker w : workers) {
                errors += w.errors;
            }
            // No spaces or commas: HdrHistogram's log reader splits a line at them.
            String tag = library.name() + "/" + mode + "/" + clients + "/round" + o.round();
            for (int i = 0; i < seconds.size(); i++) {
                Histogram h = seconds.get(i);
                h.setTag(tag);
                h.setStartTimeStamp(i * 1000L);
                h.setEndTimeStamp((i + 1) * 1000L);
                log.outputIntervalHistogram(h);
            }
            double secs = (t1 - t0) / 1e9;
            long ops = total.getTotalCount();
            int cores = Runtime.getRuntime().availableProcessors();
            double leaderSyncs = syncs0 < 0 || syncs1 < 0 ? Double.NaN : syncs1 - syncs0;
            return String.format(Locale.ROOT, "csv,%s,%s,%d,%d,%.1f,%d,%.1f,%.3f,%.3f,%.3f,%.1f,%.2f,%.1f,%.1f,%d,%d,%d,"
                            + "%.0f,%.0f,%.1f,%.2f,%.2f,%s,%s,%d,%s",
                    mode, false, clients, o.valueBytes(), durationNanos / 1e9, ops, ops / (durationNanos / 1e9),
                    ms(total, 50), ms(total, 99), ms(total, 99.9), leaderSyncs / secs,
                    commit0 < 0 || commit1 < 0 || !(leaderSyncs > 0) ? Double.NaN : (commit1 - commit0) / leaderSyncs,
                    all0 < 0 || all1 < 0 ? Double.NaN : (all1 - all0) / secs,
                    cpu0 < 0 ? Double.NaN : 100.0 * (cpu1 - cpu0) / (secs * 1e9 * cores), gc1 - gc0, term1 - term0,
                    errors, Double.NaN, Double.NaN, Double.NaN, load1, Double.NaN, "kv", "off", o.round(),
                    library.name());
        } finally {
            deleteTree(data);
        }
    }

    /** One closed-loop client thread. */
    private static final class Worker implements Runnable {
        final byte[][] cmds;
        final Client client;
        final Recorder recorder;
        final long start;
        final long windowStart;
        final long windowEnd;
        long errors;

        Worker(byte[][] cmds, Client client, Recorder recorder, long start, long windowStart, long windowEnd) {
            this.cmds = cmds;
            this.client = client;
            this.recorder = recorder;
            this.start = start;
            this.windowStart = windowStart;
            this.windowEnd = windowEnd;
        }

        @Override
        public void run() {
            sleepUntil(start);
            long n = 0;
            while (true) {
                long t0 = System.nanoTime();
                if (t0 >= windowEnd) {
                    return;
                }
                boolean ok;
                try {
                    ok = client.write(cmds[(int) (n++ % cmds.length)]);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (Exception e) {
                    ok = false;
                }
                long t1 = System.nanoTime();
                if (t0 >= windowStart && t1 <= windowEnd) {
                    if (ok) {
                        recorder.recordValue(Math.max(1, Math.min(HIGHEST_NANOS, t1 - t0)));
                    } else {
                        errors++;
                    }
                }
            }
        }
    }

    /** {@code [u16 key length][key][value]}: the command both peers' state machines decode. */
    public static byte[] encode(String key, byte[] value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[2 + k.length + value.length];
        b[0] = (byte) (k.length >>> 8);
        b[1] = (byte) k.length;
        System.arraycopy(k, 0, b, 2, k.length);
        System.arraycopy(value, 0, b, 2 + k.length, value.length);
        return b;
    }

    /** Free loopback ports for {@code n} nodes. */
    public static int[] freePorts(int n) throws IOException {
        ServerSocket[] ss = new ServerSocket[n];
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                ss[i] = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ports[i] = ss[i].getLocalPort();
            }
        } finally {
            for (ServerSocket s : ss) {
                if (s != null) {
                    s.close();
                }
            }
        }
        return ports;
    }

    /** Polls {@code leader} every 20 ms until it answers non-negative or 30 s pass. */
    public static int awaitLeader(java.util.function.IntSupplier leader) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            int i = leader.getAsInt();
            if (i >= 0) {
                return i;
            }
            Thread.sleep(20); // not a test: a harness waiting for the peer library's election
        }
        throw new IllegalStateException("no leader elected within 30 s");
    }

    static double ms(Histogram h, double p) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(p) / 1e6;
    }

    static void sleepUntil(long deadline) {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static long cpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    static long gcMillis() {
        long sum = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            sum += Math.max(0, gc.getCollectionTime());
        }
        return sum;
    }

    static double load1() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        }
    }

    static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }
}
