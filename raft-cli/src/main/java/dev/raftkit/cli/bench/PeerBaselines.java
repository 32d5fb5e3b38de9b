package dev.raftkit.cli.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;

/**
 * {@code raftkit bench --baseline ratis,sofajraft}: the peers' harnesses (the {@code bench-peers}
 * modules, built with {@code -P bench-peers}) run as child JVMs from their jars, with this JVM's
 * {@code -X}/{@code -XX}/{@code -D} flags and the bench's own settings, so that a round measures
 * Raftkit and then each peer on the same workload. A child prints CSV lines in raftkit bench's
 * columns and writes an HdrHistogram log with one interval per second of each window; this class
 * runs it, parses both and names the settings for the report.
 */
final class PeerBaselines {

    /** The peers there are harnesses for, and the client modes each has. */
    static final Map<String, List<String>> PEERS = Map.of("ratis", List.of("grpc", "in-process"),
            "sofajraft", List.of("in-process"));

    /** The command that builds the peers' jars, for error messages and docs. */
    static final String BUILD = "mvn -B -P bench-peers -pl bench-peers/ratis,bench-peers/sofajraft -am package -DskipTests";

    /** One peer setting's figures, parsed from its CSV line (the line kept as printed). */
    record PeerResult(String library, String mode, int clients, long ops, double opsPerSec, double p50, double p99,
                      double p999, long elections, long errors, int round, String csv, List<Histogram> perSecond,
                      Histogram total) {
    }

    private PeerBaselines() {
    }

    /** The jar of {@code peer} under {@code jars} (the {@code bench-peers} directory of a built clone). */
    static Path jar(Path jars, String peer) {
        return jars.resolve(peer).resolve("target").resolve("bench-" + peer + ".jar");
    }

    /** This JVM's heap, GC and system-property flags: the children run with the same. */
    static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if ((a.startsWith("-X") || a.startsWith("-D")) && !a.startsWith("-Xrunjdwp") && !a.startsWith("-Dmaven.")
                    && !a.startsWith("-Dsurefire.")) {
                flags.add(a);
            }
        }
        return flags;
    }

    /**
     * Runs {@code peer}'s harness for one round: the given client modes and counts, the bench's
     * warm-up, window, value size, keys and data directory. Blocks until the child exits (at
     * most the planned time plus 5 minutes); its stderr goes to a log beside the data, printed on
     * failure.
     */
    static List<PeerResult> run(String peer, Path jars, List<String> modes, List<Integer> clients, int valueBytes,
                                long warmupNanos, long durationNanos, long prewarmNanos, int keys, Path parent, int round,
                                PrintWriter err) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory(parent, "raftkit-bench-" + peer + "-");
        try {
            Path hlog = work.resolve("latency.hlog");
            Path log = work.resolve("stderr.log");
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(jvmFlags());
            cmd.addAll(List.of("-jar", jar(jars, peer).toString(), "--clients", join(clients), "--client-mode",
                    String.join(",", modes), "--value-bytes", Integer.toString(valueBytes), "--warmup",
                    (warmupNanos / 1_000_000) + "ms", "--duration", (durationNanos / 1_000_000) + "ms", "--prewarm",
                    (prewarmNanos / 1_000_000) + "ms", "--keys", Integer.toString(keys), "--dir", work.toString(),
                    "--round", Integer.toString(round), "--histogram-log", hlog.toString()));
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            long planned = prewarmNanos + (long) modes.size() * clients.size() * (warmupNanos + durationNanos);
            if (!p.waitFor(TimeUnit.NANOSECONDS.toSeconds(planned) + 300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(peer + "'s harness did not finish in time; its log: " + tail(log));
            }
            List<PeerResult> results = parse(peer, out, readLog(hlog));
            if (p.exitValue() != 0 && results.isEmpty()) {
                throw new IOException(peer + "'s harness exited " + p.exitValue() + " without results; its log: "
                        + tail(log));
            }
            return results;
        } finally {
            BenchCommand.deleteTree(work);
        }
    }

    /** The harness's CSV lines, with each setting's histograms from {@code logs} (by tag). */
    static List<PeerResult> parse(String peer, String stdout, Map<String, List<Histogram>> logs) {
        List<PeerResult> results = new ArrayList<>();
        for (String line : stdout.split("\n")) {
            line = line.trim();
            if (!line.startsWith("csv,") || line.startsWith("csv,mode,")) {
                continue;
            }
            String[] f = line.split(",");
            if (f.length < 27) {
                throw new IllegalStateException(peer + "'s harness printed a CSV line of " + f.length
                        + " fields, not 27 (an old jar? rebuild: " + BUILD + "): " + line);
            }
            String mode = f[1];
            int clients = Integer.parseInt(f[3]);
            int round = Integer.parseInt(f[25]);
            List<Histogram> seconds = logs.getOrDefault(tag(peer, mode, clients, round), List.of());
            Histogram total = new Histogram(1, LatencyRecording.HIGHEST_NANOS, 3);
            seconds.forEach(total::add);
            results.add(new PeerResult(f[26], mode, clients, Long.parseLong(f[6]), Double.parseDouble(f[7]),
                    Double.parseDouble(f[8]), Double.parseDouble(f[9]), Double.parseDouble(f[10]),
                    Long.parseLong(f[16]), Long.parseLong(f[17]), round, line, seconds, total));
        }
        return results;
    }

    /**
     * The tag a harness gives a setting's intervals in its histogram log: {@code ratis/grpc/16/round1}
     * (no spaces or commas, which end a tag in HdrHistogram's log format).
     */
    static String tag(String peer, String mode, int clients, int round) {
        return peer + "/" + mode + "/" + clients + "/round" + round;
    }

    /** A harness's histogram log: each tag's intervals in order; empty if there is none. */
    static Map<String, List<Histogram>> readLog(Path hlog) throws IOException {
        Map<String, List<Histogram>> byTag = new LinkedHashMap<>();
        if (!Files.exists(hlog)) {
            return byTag;
        }
        HistogramLogReader reader = new HistogramLogReader(hlog.toFile());
        try {
            EncodableHistogram h;
            while ((h = reader.nextIntervalHistogram()) != null) {
                if (h instanceof Histogram hist) {
                    byTag.computeIfAbsent(hist.getTag(), k -> new ArrayList<>()).add(hist);
                }
            }
        } finally {
            reader.close();
        }
        return byTag;
    }

    private static String join(List<Integer> values) {
        StringBuilder b = new StringBuilder();
        for (int v : values) {
            b.append(b.length() == 0 ? "" : ",").append(v);
        }
        return b.toString();
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** {@code ratis grpc, 16 clients}: a peer setting's name in the report. */
    static String name(PeerResult r, boolean rounds) {
        return String.format(Locale.ROOT, "%s %s, %d client%s%s", r.library(), r.mode(), r.clients(),
                r.clients() == 1 ? "" : "s", rounds ? ", round " + r.round() : "");
    }
}
