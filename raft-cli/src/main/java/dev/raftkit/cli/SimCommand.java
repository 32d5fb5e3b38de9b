package dev.raftkit.cli;

import dev.raftkit.core.ReadMode;
import dev.raftkit.core.SnapshotSource;
import dev.raftkit.jepsen.sim.BankWorkload;
import dev.raftkit.jepsen.sim.Fault;
import dev.raftkit.jepsen.sim.Hooks;
import dev.raftkit.jepsen.sim.KvWorkload;
import dev.raftkit.jepsen.sim.ScheduleFile;
import dev.raftkit.jepsen.sim.ScheduleShrinker;
import dev.raftkit.jepsen.sim.SimOptions;
import dev.raftkit.jepsen.sim.SimReport;
import dev.raftkit.jepsen.sim.SimResult;
import dev.raftkit.jepsen.sim.SimRunner;
import dev.raftkit.jepsen.sim.Simulator;
import dev.raftkit.jepsen.sim.SqlAppendWorkload;
import dev.raftkit.jepsen.sim.Workload;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code raftkit sim}: seeded, deterministic simulation of a Raft cluster under faults. */
@Command(name = "sim", mixinStandardHelpOptions = true,
        description = "Simulate a Raft cluster under faults on one thread with virtual time, checking the Raft "
                + "safety properties after every event and linearizability of the clients' history. A run is a "
                + "pure function of its seed and options: a failing seed replays exactly.",
        footer = {"", "Examples:",
                "  raftkit sim --seeds 1000 --nodes 5 --faults all",
                "  raftkit sim --seed 42 --trace run.jsonl --history history.jsonl",
                "  raftkit sim --seed 42 --report /tmp/seed42   # open /tmp/seed42/index.html",
                "  raftkit sim --seeds 100 --sm sql",
                "  raftkit sim --seeds 20 --sm sql-append --plant split-sql-transactions   # the txn checker names it",
                "  raftkit sim --seeds 200 --plant ack-before-commit   # a planted bug: caught, shrunk, written to a file",
                "  raftkit sim --replay sim-seed-3.schedule --report /tmp/r",
                "  raftkit sim --seeds 200 --faults partition --unsafe-local-reads   # must report violations"})
final class SimCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    static final class Seeds {
        @Option(names = "--seeds", paramLabel = "N", description = "Run seeds 1..N (default 100).")
        Long count;

        @Option(names = "--seed", paramLabel = "S", description = "Run exactly this seed (to replay a failure).")
        Long seed;

        @Option(names = "--replay", paramLabel = "FILE",
                description = "Run the schedule file FILE (written when a run fails and is shrunk, or by hand): its seed,"
                        + " options and fault steps; the other run options are ignored.")
        Path replay;
    }

    @ArgGroup(exclusive = true)
    Seeds seeds = new Seeds();

    @Option(names = "--first-seed", paramLabel = "S", defaultValue = "1", description = "First seed with --seeds (default 1).")
    long firstSeed;

    @Option(names = "--nodes", defaultValue = "3", description = "Founding voters: 3, 5 or 7 (default 3).")
    int nodes;

    @Option(names = "--faults", defaultValue = "all", paramLabel = "LIST",
            description = "Comma-separated: partition, loss, duplicate, reorder, crash, wipe, disk, clock, pause, slow,"
                    + " snapshot, membership, transfer, backup; or all, none (default all).")
    String faults;

    @Option(names = "--ticks", defaultValue = "1500", description = "Ticks of 10 ms virtual time with faults (default 1500).")
    long ticks;

    @Option(names = "--clients", defaultValue = "6", description = "Concurrent clients (default 6).")
    int clients;

    @Option(names = "--keys", defaultValue = "4", description = "Keys the clients touch (default 4).")
    int keys;

    @Option(names = "--sm", defaultValue = "kv", paramLabel = "NAME",
            description = "The state machine and its workload: kv (registers on the key-value store, checked for "
                    + "linearizability), sql (bank transfers on replicated SQL, checked for a conserved total) or "
                    + "sql-append (Elle's list-append transactions on replicated SQL, one write each, checked for strict "
                    + "serializability by the transactional checker: G0, G1a/b/c, G-single, G2…); default kv.")
    String sm;

    @Option(names = "--unsafe-local-reads", description = "Let clients read a node's local state with no checks (NOT linearizable; shows the checker catching it).")
    boolean unsafeLocalReads;

    @Option(names = "--quiet", description = "No progress on stderr (by default --seeds shows seeds done, rate and"
            + " time left: a bar on a terminal, a line every 5 s otherwise).")
    boolean quiet;

    @Option(names = "--threads", defaultValue = "2", description = "Runs in parallel (default 2).")
    int threads;

    @Option(names = "--trace", paramLabel = "FILE", description = "With --seed: write every event as JSON lines.")
    Path trace;

    @Option(names = "--report", paramLabel = "DIR",
            description = "With --seed: write DIR/index.html (a timeline: each node's role and term, crashes, faults,"
                    + " the clients' operations), trace.jsonl, history.jsonl and summary.txt.")
    Path report;

    @Option(names = "--history", paramLabel = "FILE", description = "With --seed: write the clients' history as JSON lines.")
    Path history;

    @Option(names = "--plant", paramLabel = "BUG", defaultValue = "none",
            description = "Run with a deliberate bug, to watch the checks catch it: send-before-persist, ack-before-commit,"
                    + " read-from-believed-leader, apply-before-commit, trust-lost-state, cut-log-at-first-invalid-record,"
                    + " answer-for-any-term, forget-session-responses-on-restore, restore-unverified-snapshot,"
                    + " nondeterministic-apply, keep-entries-past-any-snapshot, ignore-disk-stall,"
                    + " ignore-disk-full, trust-named-match, accept-gapped-backup-chain, skip-unheld-state-switch,"
                    + " publish-restored-directories-early, split-sql-transactions (with --sm sql-append).")
    String plant;

    @Option(names = "--snapshot-source", paramLabel = "leader|peers", defaultValue = "leader",
            description = "Who streams a lagging node its snapshot: leader (default), or peers: an up-to-date member the"
                    + " leader names, the leader sending its own when that peer declines, crashes or times out.")
    String snapshotSource;

    @Option(names = "--no-shrink", description = "On a violation, do not shrink the (first) failing run to a schedule file.")
    boolean noShrink;

    @Option(names = "--shrink-runs", defaultValue = "200", paramLabel = "N",
            description = "Runs a shrink may spend (default 200).")
    int shrinkRuns;

    @Option(names = "--schedule-out", paramLabel = "FILE",
            description = "Where to write the shrunk failing run (default sim-seed-S.schedule in the current directory).")
    Path scheduleOut;

    @Override
    public Integer call() throws IOException {
        // The simulated nodes run the real runtime, which logs what an operator should see (a node
        // recovering lost state, a failed stage); over hundreds of seeds that drowns the results,
        // and the disk faults make nodes fail-stop with errors on purpose; what matters reaches the
        // run's trace and its violations. Silent unless the caller set a level
        // (-Dorg.slf4j.simpleLogger.log.dev.raftkit=info).
        if (System.getProperty("org.slf4j.simpleLogger.log.dev.raftkit") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.dev.raftkit", "off");
        }
        Set<Fault> faultSet;
        try {
            faultSet = Fault.parse(faults);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--faults: " + e.getMessage());
        }
        if (nodes != 3 && nodes != 5 && nodes != 7) {
            throw new ParameterException(spec.commandLine(), "--nodes must be 3, 5 or 7, got " + nodes);
        }
        if ((trace != null || history != null || report != null) && seeds.seed == null && seeds.replay == null) {
            throw new ParameterException(spec.commandLine(), "--trace, --history and --report need --seed S or --replay"
                    + " FILE (one run)");
        }
        if (shrinkRuns < 1) {
            throw new ParameterException(spec.commandLine(), "--shrink-runs must be at least 1");
        }
        PrintWriter out = spec.commandLine().getOut();
        if (seeds.replay != null) {
            return replay(seeds.replay, out);
        }
        Hooks hooks;
        try {
            hooks = Hooks.named(plant);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--plant: " + e.getMessage());
        }
        if (threads < 1) {
            throw new ParameterException(spec.commandLine(), "--threads must be at least 1");
        }
        Workload workload;
        Set<ReadMode> modes = unsafeLocalReads ? EnumSet.of(ReadMode.STALE)
                : EnumSet.of(ReadMode.LINEARIZABLE, ReadMode.LEASE);
        switch (sm) {
            case "kv" -> workload = new KvWorkload(modes);
            case "sql" -> workload = new BankWorkload();
            case "sql-append" -> workload = new SqlAppendWorkload();
            default -> throw new ParameterException(spec.commandLine(), "--sm: unknown state machine '" + sm
                    + "'; use kv, sql or sql-append");
        }
        if (hooks.splitSqlTransactions() && !sm.equals("sql-append")) {
            throw new ParameterException(spec.commandLine(), "--plant split-sql-transactions needs --sm sql-append (only"
                    + " the list-append workload runs the SQL store with it and checks transactions)");
        }
        if (unsafeLocalReads && !sm.equals("kv")) {
            throw new ParameterException(spec.commandLine(), "--unsafe-local-reads needs --sm kv (the bank's reads "
                    + "are always linearizable)");
        }
        SimOptions base;
        try {
            base = SimOptions.defaults(0).withNodes(nodes).withTicks(ticks).withFaults(faultSet)
                    .withClients(clients, keys).withReadModes(modes).withWorkload(workload).withHooks(hooks)
                    .withSnapshotSource(switch (snapshotSource) {
                        case "leader" -> SnapshotSource.LEADER;
                        case "peers" -> SnapshotSource.PEERS;
                        default -> throw new ParameterException(spec.commandLine(),
                                "--snapshot-source must be leader or peers, got '" + snapshotSource + "'");
                    });
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (seeds.seed != null) {
            return single(base.withSeed(seeds.seed).withTrace(trace != null || report != null), out, true);
        }
        long count = seeds.count == null ? 100 : seeds.count;
        if (count < 1) {
            throw new ParameterException(spec.commandLine(), "--seeds must be at least 1");
        }
        SimRunner.Summary summary;
        try (Progress progress = Progress.counting(spec.commandLine().getErr(), Progress.styleFor(quiet, false),
                System::nanoTime, "sim", count, "seeds")) {
            summary = SimRunner.run(base, firstSeed, count, threads, r -> {
                synchronized (progress) {
                    if (!r.ok()) {
                        // Off the bar's line first: a terminal shows stdout and stderr on one screen.
                        progress.clear();
                        report(r, out);
                    }
                    progress.advance(1);
                }
            });
        }
        if (!summary.failures().isEmpty()) {
            shrink(summary.failures().get(0), out);
        }
        out.println(summary.line()); // the last line, for scripts
        out.flush();
        return summary.failures().isEmpty() ? 0 : 1;
    }

    /** Runs a schedule file: the run it names, bit for bit; says whether it failed as the file expects. */
    private int replay(Path file, PrintWriter out) throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ParameterException(spec.commandLine(), "--replay: no such file " + file);
        }
        SimOptions options;
        try {
            options = ScheduleFile.read(text, Map.of());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--replay " + file + ": " + e.getMessage());
        }
        out.println("replaying " + file + ": seed " + options.seed() + ", " + options.schedule().steps().size()
                + " fault steps");
        String expected = ScheduleFile.expected(text);
        int code = single(options.withTrace(trace != null || report != null), out, false);
        if (expected != null) {
            out.println(code != 0 ? "the file expects " + expected + ": see the first violation above"
                    : "the file expects " + expected + ", but the run passed: the bug it pinned is fixed, or the run"
                    + " changed since the file was written");
        }
        out.flush();
        return code;
    }

    /** Shrinks a failing run and writes it as a schedule file. */
    private void shrink(SimResult failing, PrintWriter out) throws IOException {
        if (noShrink) {
            return;
        }
        if (failing.options().hooks().name() == null) {
            return; // hooks from code: no file can carry them
        }
        out.println("shrinking seed " + failing.options().seed() + " (at most " + shrinkRuns + " runs; --no-shrink skips)...");
        out.flush();
        ScheduleShrinker.Outcome o = ScheduleShrinker.shrink(failing, shrinkRuns);
        out.println(o.line());
        if (o.refusal() == null) {
            Path file = scheduleOut != null ? scheduleOut : Path.of("sim-seed-" + failing.options().seed() + ".schedule");
            Files.writeString(file, o.scheduleFile());
            out.println("schedule: " + file + " (" + o.shrunk().options().schedule().steps().size() + " steps); replay: "
                    + "./raftkit sim --replay " + file);
        }
        out.flush();
    }

    private int single(SimOptions options, PrintWriter out, boolean shrinkOnFailure) throws IOException {
        SimResult r = Simulator.run(options);
        if (trace != null) {
            SimReport.writeTrace(r, trace);
            out.println("trace: " + r.traceEvents() + " events written to " + trace);
        }
        if (report != null) {
            SimReport.write(r, report);
            out.println("report: " + report.resolve("index.html") + " (the timeline), trace.jsonl, history.jsonl, summary.txt");
        }
        if (history != null) {
            Files.writeString(history, SimReport.historyJsonLines(r.history()));
            out.println("history: " + r.history().size() + " operations written to " + history);
        }
        out.println(r.summary());
        if (!r.ok()) {
            report(r, out);
        }
        if (!r.ok() && shrinkOnFailure) {
            shrink(r, out);
        }
        double seconds = r.wallNanos() / 1e9;
        out.printf("1 runs, %d violations, %d operations, %d events in %.1f s (%,.0f events/s)%n",
                r.ok() ? 0 : 1, r.history().size(), r.events(), seconds, r.events() / Math.max(seconds, 1e-9));
        out.flush();
        return r.ok() ? 0 : 1;
    }

    private static void report(SimResult r, PrintWriter out) {
        out.println("VIOLATION " + r.summary());
        r.violations().forEach(v -> out.println("  " + v));
        if (r.options().schedule() == null) {
            out.println("  replay: " + r.options().replayCommand() + " --report report");
        }
        out.flush();
    }
}
