package dev.raftkit.cli.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code raftkit bench sim}: how fast the simulator runs, as seeds per minute and events per
 * second, for each cluster size; with {@code --baseline-jar}, beside another build's
 * {@code raftkit sim} in the same sitting. Every measurement is a fresh JVM running
 * {@code raftkit sim --seeds N} (so both sides start cold alike), the two sides interleaved round by
 * round, and the medians compared.
 */
@Command(name = "sim", mixinStandardHelpOptions = true,
        description = {"Measure the simulator: seeds/minute and events/s per cluster size, each a fresh JVM running",
                "'raftkit sim --seeds N', interleaved with --baseline-jar's over several rounds; medians and ratios."},
        footer = {"", "Examples:",
                "  raftkit bench sim --seeds 200 --nodes 3,5 --rounds 3",
                "  raftkit bench sim --baseline-jar /tmp/old/raftkit.jar   # another build, side by side"})
public final class SimBenchCommand implements Callable<Integer> {

    /** The closing line of {@code raftkit sim --seeds N}, as SimRunner.Summary.line() prints it. */
    static final Pattern CLOSING = Pattern.compile(
            "^(\\d+) runs, (\\d+) violations, (\\d+) operations, (\\d+) events in ([\\d.]+) s");

    @Spec
    CommandSpec spec;

    @Option(names = "--seeds", defaultValue = "200", description = "Seeds per measurement (default 200).")
    long seeds;

    @Option(names = "--nodes", defaultValue = "3,5", split = ",", paramLabel = "N[,N...]",
            description = "Cluster sizes (default 3,5).")
    List<Integer> nodes;

    @Option(names = "--rounds", defaultValue = "3", description = "Interleaved rounds; medians over them (default 3).")
    int rounds;

    @Option(names = "--threads", defaultValue = "2", description = "Simulator threads, on both sides (default 2).")
    int threads;

    @Option(names = "--sim-args", defaultValue = "--faults all", paramLabel = "ARGS",
            description = "More arguments for every 'raftkit sim' run, both sides (default: --faults all).")
    String simArgs;

    @Option(names = "--baseline-jar", paramLabel = "JAR",
            description = "Another build's raftkit.jar to measure beside this one (e.g. an older commit's).")
    Path baselineJar;

    /** One measured run: what its closing line said. */
    record Measured(long runs, long violations, long events, double seconds) {
        double eventsPerSecond() {
            return events / seconds;
        }

        double seedsPerMinute() {
            return runs * 60 / seconds;
        }
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (seeds < 1 || rounds < 1 || threads < 1) {
            throw new ParameterException(spec.commandLine(), "--seeds, --rounds and --threads must be at least 1");
        }
        for (int n : nodes) {
            if (n != 3 && n != 5 && n != 7) {
                throw new ParameterException(spec.commandLine(), "--nodes takes 3, 5 or 7, got " + n);
            }
        }
        if (baselineJar != null && !Files.isRegularFile(baselineJar)) {
            throw new ParameterException(spec.commandLine(), "--baseline-jar " + baselineJar
                    + " is not a file; build the other commit with 'mvn -DskipTests -pl raft-cli -am package' and"
                    + " give its raft-cli/target/raftkit.jar");
        }
        PrintWriter out = spec.commandLine().getOut();
        List<String> self = List.of("-cp", System.getProperty("java.class.path"), "dev.raftkit.cli.Raftkit");
        List<String> base = baselineJar == null ? null : List.of("-jar", baselineJar.toString());
        out.printf("simulator benchmark: %d seeds per run, %d threads, %d rounds, 'sim %s'%s%n", seeds, threads, rounds,
                simArgs, base == null ? "" : ", baseline " + baselineJar);
        int failures = 0;
        for (int n : nodes) {
            List<Measured> ours = new ArrayList<>();
            List<Measured> theirs = new ArrayList<>();
            for (int round = 1; round <= rounds; round++) {
                // Alternate which side goes first, so neither always runs on a machine the other warmed.
                boolean baseFirst = base != null && round % 2 == 0;
                if (baseFirst) {
                    theirs.add(measure(base, n, out, "baseline", round));
                }
                ours.add(measure(self, n, out, "this build", round));
                if (base != null && !baseFirst) {
                    theirs.add(measure(base, n, out, "baseline", round));
                }
            }
            failures += (int) ours.stream().mapToLong(Measured::violations).sum();
            double eps = median(ours.stream().mapToDouble(Measured::eventsPerSecond).toArray());
            double spm = median(ours.stream().mapToDouble(Measured::seedsPerMinute).toArray());
            out.printf("%d nodes, this build: median %,.0f events/s, %,.0f seeds/minute%n", n, eps, spm);
            if (base != null) {
                double beps = median(theirs.stream().mapToDouble(Measured::eventsPerSecond).toArray());
                double bspm = median(theirs.stream().mapToDouble(Measured::seedsPerMinute).toArray());
                out.printf("%d nodes, baseline:   median %,.0f events/s, %,.0f seeds/minute; this build runs seeds at"
                        + " %.2f× and events at %.2f× the baseline's rate%n", n, beps, bspm, spm / bspm, eps / beps);
            }
            out.flush();
        }
        if (failures > 0) {
            out.println("this build's runs reported " + failures + " violations: replay them with 'raftkit sim --seed S'");
            return 1;
        }
        return 0;
    }

    private Measured measure(List<String> launcher, int n, PrintWriter out, String side, int round)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(launcher);
        cmd.addAll(List.of("sim", "--seeds", Long.toString(seeds), "--nodes", Integer.toString(n),
                "--threads", Integer.toString(threads)));
        for (String a : simArgs.trim().split("\\s+")) {
            if (!a.isEmpty()) {
                cmd.add(a);
            }
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String closing = null;
        List<String> tail = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (CLOSING.matcher(line).find()) {
                    closing = line;
                }
                tail.add(line);
                if (tail.size() > 5) {
                    tail.remove(0);
                }
            }
        }
        int code = p.waitFor();
        Matcher m = closing == null ? null : CLOSING.matcher(closing);
        if (m == null || !m.find()) {
            throw new IOException(side + " 'raftkit sim' (" + String.join(" ", cmd) + ") exited " + code
                    + " without its closing line; its last output: " + String.join(" | ", tail));
        }
        Measured result = new Measured(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(4)),
                Double.parseDouble(m.group(5)));
        out.printf("  round %d, %d nodes, %-10s: %s%n", round, n, side, closing);
        out.flush();
        return result;
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
