package dev.raftkit.jepsen.real;

import dev.raftkit.kv.KvStateMachine;
import dev.raftkit.sql.SqlStateMachine;
import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.NodeStatus;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.jepsen.checker.Budget;
import dev.raftkit.jepsen.checker.CheckResult;
import dev.raftkit.jepsen.checker.LinearizabilityChecker;
import dev.raftkit.jepsen.checker.Verdict;
import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.HistoryRecorder;
import dev.raftkit.jepsen.history.JsonLines;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Response;
import dev.raftkit.jepsen.txn.TxnChecker;
import dev.raftkit.jepsen.txn.TxnHistory;
import dev.raftkit.jepsen.txn.TxnJsonLines;
import dev.raftkit.jepsen.txn.TxnRecorder;
import dev.raftkit.jepsen.txn.TxnResult;
import dev.raftkit.kv.KvOps;
import dev.raftkit.kv.KvResult;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlRequest;
import dev.raftkit.sql.SqlStatement;
import dev.raftkit.storage.FileIo;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * One real-process Jepsen-style run: start the cluster, run the workload under the nemesis, heal,
 * then check — linearizability per key, a leader within a bounded time, no acknowledged write lost
 * (the final reads), every node converged to the same state digest — and write the report:
 * {@code history.jsonl}, {@code nemesis.jsonl}, {@code nodes/n<i>.log}, {@code summary.txt},
 * {@code report.html}.
 *
 * <p>A {@code --sm sql} run ({@link JepsenOptions#sql()}) runs {@link TxnWorkload} instead:
 * list-append transactions on the SQL state machine, whose history {@link TxnChecker} judges for
 * strict serializability in place of the per-key linearizability check (an acknowledged append
 * missing from the final reads is one of its anomalies); the report adds
 * {@code txn-history.jsonl}, {@code txn-check.json} and the checker's text in {@code summary.txt}.
 *
 * <p>Under the {@code backup} nemesis the report adds {@code backups.txt}, and every backup
 * taken is verified and restored ({@link BackupNemesis#audit}).
 */
public final class JepsenRun {

    private static final Duration LEADER_BOUND = Duration.ofSeconds(30);
    private static final Duration CONVERGE_BOUND = Duration.ofSeconds(60);

    /**
     * Closing a client with a call in flight makes Guava log a SEVERE "RuntimeException while
     * executing runnable" through java.util.logging; clients are closed that way on purpose when
     * they "crash" after a timeout. Held in a field so the setting is not garbage-collected.
     */
    private static final java.util.logging.Logger GUAVA_FUTURES =
            java.util.logging.Logger.getLogger("com.google.common.util.concurrent.AbstractFuture");

    static {
        GUAVA_FUTURES.setLevel(java.util.logging.Level.OFF);
    }

    private final JepsenOptions o;
    private final NodeCommand command;
    private final PrintWriter out;
    private java.util.function.Consumer<List<BackupNemesis.Taken>> beforeBackupAudit = t -> { };

    public JepsenRun(JepsenOptions options, NodeCommand command, PrintWriter out) {
        this.o = options;
        this.command = command;
        this.out = out;
    }

    /**
     * TESTING ONLY: runs {@code hook} on the runner's thread with the backups taken, after the run
     * and before their audit, so a test can damage one and prove the audit catches it.
     */
    public JepsenRun testingBeforeBackupAudit(java.util.function.Consumer<List<BackupNemesis.Taken>> hook) {
        this.beforeBackupAudit = java.util.Objects.requireNonNull(hook, "hook");
        return this;
    }

    /**
     * Audits every backup the run took (BackupNemesis#audit), reading {@code keys} from each
     * restored state, says what it found, writes backups.txt.
     */
    private BackupNemesis.Audit auditBackups(BackupNemesis backups, List<BackupNemesis.Taken> taken, Set<String> keys,
                                             Path data, Path report, List<String> problems) throws IOException {
        beforeBackupAudit.accept(taken);
        BackupNemesis.Audit audit = backups.audit(data.resolve("backup-audit"),
                o.sql() ? SqlStateMachine::new : KvStateMachine::new,
                sm -> o.sql() ? BackupReads.readSql(sm, keys) : BackupReads.readKv(sm, keys));
        String line = "backups: taken=" + taken.size() + " chains=" + audit.chains() + " verified=" + audit.verified()
                + " restored=" + audit.restored() + " cross-node-digests=" + audit.digestsCompared()
                + " crashes=" + backups.crashes().size() + " restored-members=" + backups.restoredMembers();
        say(line);
        StringBuilder b = new StringBuilder(line).append('\n');
        taken.forEach(t -> b.append("taken ").append(t).append('\n'));
        backups.crashes().forEach(c -> b.append("crash ").append(c).append('\n'));
        audit.problems().forEach(p -> b.append("PROBLEM ").append(p).append('\n'));
        Files.writeString(report.resolve("backups.txt"), b.toString(), StandardCharsets.UTF_8);
        if (taken.isEmpty()) {
            problems.add("the backup nemesis took no backup (see nemesis.jsonl for the refusals)");
        }
        problems.addAll(audit.problems());
        return audit;
    }

    /** Runs, writes the report, prints progress and, last, {@link JepsenResult#summaryLine()}. */
    public JepsenResult run() throws IOException, InterruptedException {
        Path report = o.reportDir();
        if (Files.exists(report.resolve("history.jsonl"))) {
            throw new IllegalArgumentException("report directory " + report
                    + " already holds a report; give a new directory (reports are never overwritten)");
        }
        Files.createDirectories(report);
        Path data = report.resolve("data");
        List<String> problems = new ArrayList<>();
        HistoryRecorder recorder = new HistoryRecorder();
        TxnRecorder txnRecorder = new TxnRecorder();
        List<FaultEvent> faults;
        long leaderMillis = -1;
        int replacements;
        long runStart;
        List<BackupNemesis.Taken> taken = List.of();
        BackupNemesis.Audit audit = null;
        BackupNemesis backupNemesis = null;
        try (Cluster cluster = new Cluster(o.nodes(), "jepsen", data, report.resolve("nodes"), command)) {
            say("starting " + o.nodes() + " node processes (logs in " + report.resolve("nodes") + ")");
            long first = cluster.start(Duration.ofSeconds(120));
            say("leader elected: node " + first + "; running " + o.clients() + " clients, nemesis "
                    + o.nemeses() + (o.sql() ? ", list-append transactions on SQL" : ", reads " + o.reads()) + ", for " + o.duration().toSeconds() + " s (seed " + o.seed() + ")");
            runStart = System.nanoTime();
            long deadline = runStart + o.duration().toNanos();
            ClientWorkload workload = o.sql() ? null : new ClientWorkload(cluster, o, recorder);
            TxnWorkload txnWorkload = o.sql() ? new TxnWorkload(cluster, o, txnRecorder) : null;
            Nemesis nemesis = new Nemesis(cluster, o.nemeses(), o.seed(), deadline);
            if (o.sql()) {
                nemesis.probeWith(JepsenRun::sqlProbe);
            }
            nemesis.backups().stateMachine(o.sql() ? "sql" : "kv");
            Thread nt = new Thread(nemesis, "jepsen-nemesis");
            nt.setDaemon(true);
            if (o.sql()) {
                txnWorkload.start(deadline);
            } else {
                workload.start(deadline);
            }
            nt.start();
            // A fault started just before the deadline still ends: a restart or a replacement is
            // bounded by a minute each, and a majority kill may restart and replace a few nodes.
            nt.join(o.duration().toMillis() + 300_000);
            if (nt.isAlive()) {
                problems.add("the nemesis did not finish within 5 minutes of the end of the run");
                nt.interrupt();
            }
            if (nemesis.failure() != null) {
                problems.add("nemesis failed: " + nemesis.failure());
            }
            if (o.sql()) {
                txnWorkload.awaitEnd();
                if (txnWorkload.malformedAnswer() != null) {
                    problems.add("the SQL state machine answered a transaction with a result of the wrong shape: "
                            + txnWorkload.malformedAnswer());
                }
            } else {
                workload.awaitEnd();
            }
            faults = nemesis.events();
            say("workload done: " + (o.sql() ? txnRecorder.history().size() + " transactions"
                    : recorder.size() + " operations") + ", " + faults.size() + " faults; healing");

            long healStart = System.nanoTime();
            for (Cluster.Restart r : cluster.healAll(Duration.ofSeconds(60))) {
                if (r.replaced()) {
                    say("node " + r.node() + " refused its data at the final restart (" + r.reason() + "); replaced by node "
                            + r.replacement());
                }
            }
            try {
                long leader = cluster.awaitLeader(LEADER_BOUND);
                leaderMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - healStart);
                say("after healing: leader node " + leader + " within " + leaderMillis + " ms");
            } catch (IllegalStateException e) {
                problems.add("after healing: " + e.getMessage());
            }
            if (leaderMillis >= 0) {
                if (o.sql()) {
                    finalTxnReads(txnWorkload, problems);
                } else {
                    finalReads(cluster, workload.keys(), recorder, problems);
                }
                converge(cluster, problems);
            }
            replacements = cluster.replacements();
            if (o.nemeses().contains("backup")) {
                backupNemesis = nemesis.backups();
                taken = backupNemesis.taken();
                audit = auditBackups(backupNemesis, taken, o.sql() ? txnWorkload.keys() : workload.keys(), data,
                        report, problems);
            }
        }

        History history = recorder.history();
        if (audit != null && !o.sql()) {
            history = BackupReads.withKv(history, taken, audit);
        }
        if (!o.sql()) {
            say("checking linearizability of " + history.size() + " operations");
        }
        Budget budget = Budget.DEFAULT.withTimeLimit(Duration.ofMinutes(Math.max(1, o.duration().toMinutes())));
        CheckResult<Operation> check = LinearizabilityChecker.check(history, budget);
        int anomalies = check.keysWith(Verdict.NOT_LINEARIZABLE).size() + check.keysWith(Verdict.BUDGET_EXCEEDED).size();
        if (!check.isValid()) {
            problems.add(anomalies + " key(s) failed the linearizability check (" + check.verdict() + ")");
        }
        List<Operation> lost = LostWrites.find(history);
        if (!lost.isEmpty()) {
            problems.add(lost.size() + " acknowledged write(s) lost, e.g. " + lost.get(0));
        }
        Map<OpStatus, Integer> counts = history.countByStatus();
        JepsenResult result;
        TxnHistory txns = null;
        if (o.sql()) {
            txns = txnRecorder.history();
            if (audit != null) {
                txns = BackupReads.withSql(txns, taken, audit);
            }
            say("checking " + txns.size() + " transactions for strict serializability");
            TxnResult txn = TxnChecker.check(txns);
            int txnAnomalies = txn.counts().values().stream().mapToInt(Integer::intValue).sum();
            if (!txn.valid()) {
                problems.add("transactional isolation violated: " + txn.summary());
            }
            if (txn.committed() == 0) {
                problems.add("no transaction committed: the run tested nothing");
            }
            Map<OpStatus, Long> byStatus = new java.util.EnumMap<>(OpStatus.class);
            txns.txns().forEach(t -> byStatus.merge(t.status(), 1L, Long::sum));
            result = new JepsenResult(problems.isEmpty(), txns.size(), byStatus.getOrDefault(OpStatus.OK, 0L).intValue(),
                    byStatus.getOrDefault(OpStatus.FAIL, 0L).intValue(), byStatus.getOrDefault(OpStatus.INFO, 0L).intValue(),
                    txnAnomalies, 0, faults.size(), replacements, txn.checkNanos() / 1_000_000, leaderMillis, problems,
                    report, txn);
        } else {
            result = new JepsenResult(problems.isEmpty(), history.size(), counts.getOrDefault(OpStatus.OK, 0),
                    counts.getOrDefault(OpStatus.FAIL, 0), counts.getOrDefault(OpStatus.INFO, 0), anomalies, lost.size(),
                    faults.size(), replacements, check.elapsed().toMillis(), leaderMillis, problems, report);
        }

        if (audit != null) {
            result = result.withBackups(new JepsenResult.Backups(taken.size(), audit.verified(), audit.restored(),
                    audit.states().size(), backupNemesis.crashes().size(), backupNemesis.restoredMembers()));
        }
        writeReport(report, history, faults, check, lost, result, runStart);
        if (txns != null) {
            try (Writer w = Files.newBufferedWriter(report.resolve("txn-history.jsonl"), StandardCharsets.UTF_8)) {
                TxnJsonLines.write(txns, w);
            }
            Files.writeString(report.resolve("txn-check.json"), result.txn().toJson(), StandardCharsets.UTF_8);
        }
        if (result.valid()) {
            FileIo.real().deleteRecursively(data); // the data is only worth keeping to investigate a failure
        }
        for (String p : problems) {
            say("problem: " + p);
        }
        say("report: " + report.resolve("report.html"));
        index(report);
        out.println(result.summaryLine());
        out.flush();
        return result;
    }

    /** Reads every key through the leader after healing; recorded in the history as one more process. */
    private void finalReads(Cluster cluster, Set<String> keys, HistoryRecorder recorder, List<String> problems) {
        RaftClient.Builder b = RaftClient.builder(cluster.clusterId()).timeout(Duration.ofSeconds(10));
        cluster.clientAddresses().forEach(b::node);
        int failed = 0;
        try (RaftClient rc = b.build()) {
            for (String key : keys) {
                long id = recorder.invoke(ClientWorkload.FINAL_PROCESS, Command.read(key));
                try {
                    recorder.ok(id, Response.read(ClientWorkload.decode(rc.read(KvOps.get(key), ReadMode.LINEARIZABLE))));
                } catch (RuntimeException e) {
                    recorder.fail(id);
                    failed++;
                }
            }
        }
        say("final reads: " + keys.size() + " keys read after healing" + (failed > 0 ? ", " + failed + " FAILED" : ""));
        if (failed > 0) {
            problems.add(failed + " of " + keys.size() + " final reads failed after healing: acknowledged writes "
                    + "on those keys could not be verified");
        }
    }

    /**
     * A SQL run's final reads ({@link TxnWorkload#finalReads}): they are transactions in the
     * history, so the checker sees any acknowledged append they miss.
     */
    private void finalTxnReads(TxnWorkload workload, List<String> problems) {
        int failed = workload.finalReads();
        say("final reads: " + workload.keys().size() + " keys read after healing"
                + (failed > 0 ? ", " + failed + " read transaction(s) FAILED" : ""));
        if (failed > 0) {
            problems.add(failed + " final read transaction(s) did not commit after healing: acknowledged appends "
                    + "on their keys could not be verified");
        }
    }

    /**
     * The nemesis's probe write in a SQL run (a SQL node refuses the key-value probe as an invalid
     * command): one row in a table of its own, apart from the workload's.
     */
    private static byte[] sqlProbe() {
        return new SqlRequest.Execute(List.of(
                new SqlStatement("CREATE TABLE IF NOT EXISTS nemesis_probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)",
                        List.of()),
                SqlStatement.of("INSERT OR REPLACE INTO nemesis_probe (id, at) VALUES (1, ?)", System.nanoTime())))
                .encode();
    }

    /** A state digest as of an applied index, whatever the state machine. */
    private record StateDigest(long appliedIndex, String hex) {
        @Override
        public String toString() {
            return "sha256 " + hex.substring(0, Math.min(16, hex.length())) + "… at state machine index " + appliedIndex;
        }
    }

    /** {@code node}'s own digest (a stale read: what it has applied), for {@link #converge}. */
    private StateDigest digest(Cluster cluster, long node) {
        if (o.sql()) {
            byte[] r = cluster.pinnedClient(node).read(SqlOps.digest(), ReadMode.STALE);
            return new StateDigest(SqlOps.ok(r).index(), SqlOps.digestOf(r));
        }
        KvResult.Digest d = KvOps.digestOf(cluster.pinnedClient(node).read(KvOps.digest(), ReadMode.STALE));
        return new StateDigest(d.appliedIndex(), HexFormat.of().formatHex(d.sha256()));
    }

    /** Waits until every node has applied the same index, then compares their state digests. */
    private void converge(Cluster cluster, List<String> problems) throws InterruptedException {
        long deadline = System.nanoTime() + CONVERGE_BOUND.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            Map<Long, StateDigest> digests = new TreeMap<>();
            Map<Long, Long> applied = new TreeMap<>();
            for (long id : cluster.ids()) {
                Optional<NodeStatus> s = cluster.status(id);
                s.ifPresent(x -> applied.put(id, x.appliedIndex()));
            }
            if (applied.size() == cluster.ids().size() && applied.values().stream().distinct().count() == 1) {
                long index = applied.values().iterator().next();
                for (long id : cluster.ids()) {
                    try {
                        digests.put(id, digest(cluster, id));
                    } catch (RuntimeException e) {
                        last = "node " + id + " digest read failed: " + e.getMessage();
                    }
                }
                // The state machine numbers its own applied index (entries it never sees, such as
                // no-ops and configuration changes, are not its business), so digests are compared
                // with each other once every node reports the same raft applied index.
                if (digests.size() == cluster.ids().size()
                        && digests.values().stream().map(StateDigest::appliedIndex).distinct().count() == 1) {
                    if (digests.values().stream().distinct().count() == 1) {
                        say("converged: every node applied index " + index + ", digest "
                                + digests.values().iterator().next());
                        return;
                    }
                    problems.add("nodes DIVERGED at applied index " + index + ": " + digests);
                    return;
                }
                last = "digests " + digests;
            } else {
                last = "applied indexes " + applied;
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
        problems.add("nodes did not converge within " + CONVERGE_BOUND.toSeconds() + " s after healing (" + last + ")");
    }

    private void writeReport(Path report, History history, List<FaultEvent> faults, CheckResult<Operation> check,
                             List<Operation> lost, JepsenResult result, long runStart) throws IOException {
        try (Writer w = Files.newBufferedWriter(report.resolve("history.jsonl"), StandardCharsets.UTF_8)) {
            JsonLines.write(history, w);
        }
        StringBuilder nem = new StringBuilder();
        for (FaultEvent f : faults) {
            nem.append("{\"kind\":").append(JsonLines.quote(f.kind()))
                    .append(",\"startMs\":").append(TimeUnit.NANOSECONDS.toMillis(f.startNanos() - runStart))
                    .append(",\"endMs\":").append(TimeUnit.NANOSECONDS.toMillis(f.endNanos() - runStart))
                    .append(",\"description\":").append(JsonLines.quote(f.description())).append("}\n");
        }
        Files.writeString(report.resolve("nemesis.jsonl"), nem.toString(), StandardCharsets.UTF_8);
        StringBuilder s = new StringBuilder();
        s.append("options: ").append(o).append('\n').append(check).append('\n');
        if (result.txn() != null) {
            s.append(result.txn().text()).append('\n');
        }
        for (String p : result.problems()) {
            s.append("problem: ").append(p).append('\n');
        }
        s.append(result.summaryLine()).append('\n');
        Files.writeString(report.resolve("summary.txt"), s.toString(), StandardCharsets.UTF_8);
        Files.writeString(report.resolve("report.html"), HtmlReport.render(o, history, faults, check, lost, result,
                runStart), StandardCharsets.UTF_8);
    }

    /**
     * Adds this run to the index of the folder holding it, if that folder keeps one ({@link
     * RunIndex}). The run's own report is on disk already, so a failure here is said, not thrown.
     */
    private void index(Path report) {
        Path folder = report.toAbsolutePath().normalize().getParent();
        if (folder == null || !RunIndex.isRunsFolder(folder)) {
            return;
        }
        try {
            RunIndex.write(folder);
            say("runs: " + folder.resolve("index.html"));
        } catch (IOException e) {
            say("could not update the index of runs in " + folder + ": " + e.getMessage());
        }
    }

    private void say(String line) {
        out.println("[jepsen] " + line);
        out.flush();
    }
}
