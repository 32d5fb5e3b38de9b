package dev.raftkit.cli;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.node.HostPort;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupFile;
import dev.raftkit.storage.backup.BackupKey;
import dev.raftkit.storage.backup.BackupKind;
import dev.raftkit.storage.backup.BackupManifest;
import dev.raftkit.storage.backup.StateVerification;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code raftkit backup full|differential|incremental|verify|policy|keygen}. A backup is taken online by one node of
 * the cluster (its admin service), which writes it into a directory under its own backup root
 * ({@code raftkit server --backup-root}) on its own host: the node must take it because only it
 * has its server and snapshot store. Verifying reads a backup directory locally and needs no
 * cluster; keygen creates a key file for encrypted backups.
 */
@Command(name = "backup", mixinStandardHelpOptions = true,
        description = "Take online backups (full: a snapshot; differential: every committed entry since the chain's full backup; incremental: the committed entries since the last backup in the directory) and verify a chain of them. The cluster keeps serving meanwhile. The node writes them only under its --backup-root.",
        subcommands = {BackupCommands.Full.class, BackupCommands.Differential.class, BackupCommands.Incremental.class,
                BackupCommands.Verify.class, BackupCommands.Policy.class, BackupCommands.Keygen.class},
        footer = {"", "Exit codes: 0 done (verify: the chain is sound), 1 the backup failed (verify: the chain is",
                "damaged; the message names the bad file), 2 bad arguments.",
                "", "Examples:",
                "  raftkit backup full         --dir nightly -c 127.0.0.1:8001 --cluster-id demo",
                "  raftkit backup differential --dir nightly -c 127.0.0.1:8001 --cluster-id demo",
                "  raftkit backup incremental  --dir nightly -c 127.0.0.1:8001 --cluster-id demo",
                "  raftkit backup verify      --dir /var/backups/n1/nightly",
                "  raftkit backup policy      -c 127.0.0.1:8001 --cluster-id demo --node 1",
                "  raftkit backup keygen      --out /etc/raftkit/backup.key"})
final class BackupCommands implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "say what to do: raftkit backup full|differential|incremental|verify|policy (see raftkit backup --help)");
    }

    /** Shared by full and incremental: which node takes it, where, and waiting with progress. */
    abstract static class Take extends OneNodeCommand {
        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "",
                description = "Backup directory on the node's host, under the node's --backup-root: a relative DIR is"
                        + " relative to that root (default: the root itself), an absolute one must be inside it. Created"
                        + " if missing; one directory per cluster. Anything outside the root, or inside the node's data"
                        + " directory, is refused. Take a chain's incrementals from the node (--node) that took its"
                        + " full backup.")
        String dir;

        @Option(names = "--quiet", description = "No progress on stderr (by default: how far the node has got"
                + " copying its snapshot or entries, and the time left, as a bar on a terminal or a line every 5 s"
                + " otherwise).")
        boolean quiet;

        @Option(names = "--stall", paramLabel = "DURATION", defaultValue = "10m", converter = DurationConverter.class,
                description = "Give up once the node has reported no progress (bytes or entries copied) for this long"
                        + " (default 10m). There is no other limit: a large backup that keeps copying takes as long as"
                        + " it needs. Taking the snapshot itself shows no progress: set it above the time your node"
                        + " takes to write one.")
        Duration stall;

        /** {@code "full"}, {@code "incremental"} or {@code "differential"}. */
        abstract String kind();

        @Override
        int run(RaftClient client) {
            Target t = target();
            long taker = t.id();
            String address = t.address();
            String what = kind();
            long start = System.nanoTime();
            AdminClient.BackupTaken r;
            // The time elapsed until the node knows the size of what it copies (its snapshot, the
            // entries since the chain's last backup), then how far it has got and the time left.
            try (Progress progress = Progress.elapsed(spec.commandLine().getErr(), Progress.styleFor(quiet, json),
                    System::nanoTime, "backup: node " + taker + " taking the " + what + " backup")) {
                r = take(address, cluster.tls(spec.commandLine()), cluster.clusterId, what, dir, taker, progress,
                        stall);
            } catch (ExecutionException e) {
                return fail("node " + taker + " (" + address + ") did not take the " + what + " backup: "
                        + MemberCommands.describe(e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail("interrupted while node " + taker + " was taking the backup (it may still finish)");
            }
            if (r.fallbackReason() != null) {
                warn("took a full backup instead of " + (what.equals("incremental") ? "an " : "a ") + what
                        + " one: " + r.fallbackReason());
            }
            if (r.staleReason() != null) {
                warn(r.staleReason());
            }
            print(json ? json(r, System.nanoTime() - start) : describe(r, System.nanoTime() - start));
            return OK;
        }
    }

    /**
     * Has node {@code taker}, at client address {@code address}, take a full or incremental backup
     * into {@code dir} under its backup root on its host (relative to the root, or absolute inside
     * it), and waits for it, showing on {@code progress} how far the node says it has got (asked
     * every {@link #PROGRESS_POLL}; the time elapsed only, from a node that does not say).
     *
     * @throws ExecutionException with the node's refusal or the call's failure as the cause
     */
    static AdminClient.BackupTaken take(String address, TlsConfig tls, String clusterId, boolean incremental,
                                        String dir, long taker, Progress progress)
            throws ExecutionException, InterruptedException {
        return take(address, tls, clusterId, incremental ? "incremental" : "full", dir, taker, progress,
                DEFAULT_STALL);
    }

    /** How long a backup may report no progress before {@code raftkit backup} gives up on it. */
    static final Duration DEFAULT_STALL = Duration.ofMinutes(10);

    /**
     * As {@link #take(String, TlsConfig, String, boolean, String, long, Progress)}, for a backup of
     * {@code kind}, with no deadline: the call fails only once the node has reported no progress
     * (no change in what it has copied) for {@code stall}.
     */
    static AdminClient.BackupTaken take(String address, TlsConfig tls, String clusterId, String kind,
                                        String dir, long taker, Progress progress, Duration stall)
            throws ExecutionException, InterruptedException {
        try (AdminClient admin = new AdminClient(HostPort.parse(address, "node address"), tls)) {
            // No deadline: how long a backup takes grows with the state; a stall is what fails it.
            CompletableFuture<AdminClient.BackupTaken> f = admin.backup(clusterId, kind, dir, null);
            long nextPoll = System.nanoTime();
            CompletableFuture<AdminClient.BackupProgress> asked = null;
            AdminClient.BackupProgress seen = null;
            long lastChange = System.nanoTime();
            while (true) {
                try {
                    return f.get(Progress.BAR_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    if (asked != null && asked.isDone()) {
                        // null: no answer (an older node), or the backup is ending: keep what is shown
                        AdminClient.BackupProgress p = asked.getNow(null);
                        if (p != null) {
                            progress.report(p.done(), p.total(), p.unit());
                            if (!p.equals(seen)) {
                                seen = p;
                                lastChange = System.nanoTime();
                            }
                        }
                        asked = null;
                    }
                    if (System.nanoTime() - lastChange > stall.toNanos()) {
                        f.cancel(true);
                        throw new ExecutionException(new IOException("node " + taker + " reported no progress for "
                                + stall + (seen == null ? "" : " (last: " + seen.phase() + ", " + seen.done() + " of "
                                + seen.total() + " " + seen.unit() + ")") + "; gave up waiting (is the node or its disk"
                                + " stuck? raise --stall for a node that takes longer to write a snapshot)"));
                    }
                    if (asked == null && System.nanoTime() - nextPoll >= 0) {
                        nextPoll = System.nanoTime() + PROGRESS_POLL.toNanos();
                        asked = admin.backupProgress(clusterId, PROGRESS_POLL).exceptionally(t -> null);
                    }
                    progress.refresh();
                }
            }
        }
    }

    /** How often a waiting {@code raftkit backup} asks the node how far it has got. */
    static final Duration PROGRESS_POLL = Duration.ofSeconds(1);

    /** A node's backup as one JSON object: who took it, where, what it covers, how long it took. */
    static String json(AdminClient.BackupTaken r, long elapsedNanos) {
        return Json.object().field("node", r.node()).field("directory", r.directory())
                .field("kind", r.kind())
                .field("prevIndex", r.prevIndex()).field("lastIndex", r.lastIndex())
                .field("lastTerm", r.lastTerm()).field("bytes", r.bytes())
                .field("fallbackReason", r.fallbackReason()).field("staleReason", r.staleReason())
                .field("millis", elapsedNanos / 1_000_000).toString();
    }

    /** One line saying what a node's backup holds and where it is. */
    static String describe(AdminClient.BackupTaken r, long elapsedNanos) {
        String covers = !r.kind().equals("full")
                ? "entries " + (r.prevIndex() + 1) + ".." + r.lastIndex()
                : "snapshot at index " + r.lastIndex() + " (term " + r.lastTerm() + ")";
        return r.kind() + " backup by node "
                + r.node() + ": " + covers + ", " + r.bytes() + " bytes, in " + r.directory() + " ("
                + elapsedNanos / 1_000_000 + " ms)";
    }

    @Command(name = "full", mixinStandardHelpOptions = true,
            description = "Have a node take a snapshot now and copy it, with a manifest, into a new backup in --dir (under the node's --backup-root).",
            footer = {"", "Example:", "  raftkit backup full --dir demo -c 127.0.0.1:8001 --cluster-id demo"})
    static final class Full extends Take {
        @Override
        String kind() {
            return "full";
        }
    }

    @Command(name = "differential", mixinStandardHelpOptions = true,
            description = "Have a node write every entry committed since the full backup of the newest chain in --dir: a restore then needs only the full backup, this one and the increments after it. The entries the chain's backups hold are copied from them, the rest taken from the node's log. Falls back to a full backup, and says why, as incremental does.",
            footer = {"", "Example:", "  raftkit backup differential --dir demo -c 127.0.0.1:8001 --cluster-id demo"})
    static final class Differential extends Take {
        @Override
        String kind() {
            return "differential";
        }
    }

    @Command(name = "incremental", mixinStandardHelpOptions = true,
            description = "Have a node export the entries committed since the newest backup in --dir. Falls back to a full backup, and says why, when it cannot continue the chain (no backup yet, or the node no longer holds the entries: it restarted or was not the node that took the previous backup).",
            footer = {"", "Example:", "  raftkit backup incremental --dir demo -c 127.0.0.1:8001 --cluster-id demo"})
    static final class Incremental extends Take {
        @Override
        String kind() {
            return "incremental";
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check the newest chain in --dir without restoring it: every manifest, every file's size and checksum, each incremental's entries, and that the chain is complete and in order; with --key, that every backup is encrypted with that key and unchanged (authenticated). With --deep, also restore it into a scratch directory, rebuild the state in a state machine of the cluster's kind (--sm) and compare its digest with each manifest's (what checksums cannot see: a backup of a wrong state). Local: needs no cluster.",
            footer = {"", "Examples:", "  raftkit backup verify --dir /var/backups/n1/demo --key /etc/raftkit/backup.key",
                    "  raftkit backup verify --dir /var/backups/n1/demo --deep --sm sql"})
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", required = true, paramLabel = "DIR",
                description = "The backup directory, on this host (a relative path is relative to this shell's directory).")
        Path dir;

        @Option(names = "--key", paramLabel = "FILE",
                description = "The key file the backups were encrypted with (the node's --backup-key).")
        Path key;

        @Option(names = "--json", description = "Print the verdict as one JSON object (for scripts): ok, and the chain or"
                + " the error; the exit code is the same.")
        boolean json;

        @Option(names = "--deep", description = "Also restore the chain into a scratch directory (under --scratch), rebuild"
                + " the state up to each backup's index and compare its digest with the one the manifest records;"
                + " a mismatch names the backup and both digests. Reads and applies the whole chain.")
        boolean deep;

        @Option(names = "--sm", paramLabel = "KIND", defaultValue = "kv",
                description = "With --deep: the cluster's state machine, kv (default) or sql.")
        String stateMachine;

        @Option(names = "--scratch", paramLabel = "DIR",
                description = "With --deep: where to restore the scratch copy (default: the system's temporary"
                        + " directory); it is deleted afterwards. Needs about the chain's size free.")
        Path scratch;

        @Override
        public Integer call() {
            CommandLine cl = spec.commandLine();
            if (!Files.isDirectory(dir)) {
                throw new ParameterException(cl, "--dir: " + dir.toAbsolutePath() + " is not a directory");
            }
            StateMachineKind kind;
            try {
                kind = StateMachineKind.parse(stateMachine);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, "--sm: " + e.getMessage());
            }
            if (!deep && (scratch != null || !"kv".equals(stateMachine))) {
                throw new ParameterException(cl, "--sm and --scratch go with --deep: add --deep to rebuild and compare"
                        + " the state");
            }
            PrintWriter out = cl.getOut();
            BackupKey backupKey = loadKey(cl, key);
            BackupChain chain;
            List<StateVerification.Check> checks = null;
            try {
                chain = BackupChain.discover(dir, backupKey);
                if (deep) {
                    Path where = scratch != null ? scratch : Path.of(System.getProperty("java.io.tmpdir"));
                    Path own = Files.createTempDirectory(Files.createDirectories(where), "raftkit-verify-");
                    try {
                        checks = StateVerification.deepVerify(chain.backups().stream().map(BackupChain.Backup::dir)
                                .toList(), backupKey, kind::createScratch, own);
                    } finally {
                        Files.deleteIfExists(own);
                    }
                }
            } catch (IOException | RuntimeException e) {
                cl.getErr().println("raftkit backup verify: the chain is not usable: " + e.getMessage());
                cl.getErr().flush();
                if (json) {
                    out.println(Json.object().field("ok", false).field("error", e.getMessage()));
                    out.flush();
                }
                return ClientCommand.FAILED;
            }
            if (json) {
                List<Json> backups = new ArrayList<>();
                for (BackupChain.Backup b : chain.backups()) {
                    BackupManifest m = b.manifest();
                    Json o = Json.object().field("directory", b.dir().toString())
                            .field("kind", m.kind().word())
                            .field("prevIndex", m.prevIndex()).field("lastIndex", m.lastIndex())
                            .field("lastTerm", m.lastTerm());
                    if (m.stateDigest() != null) {
                        o.field("stateDigest", m.stateDigest());
                    }
                    if (m.firstTime() != null) {
                        o.field("firstTime", m.firstTime().toString());
                    }
                    if (m.lastTime() != null) {
                        o.field("lastTime", m.lastTime().toString());
                    }
                    if (checks != null) {
                        o.field("stateChecked", checks.get(backups.size()).compared());
                    }
                    backups.add(o);
                }
                out.println(Json.object().field("ok", true).field("cluster", chain.full().manifest().clusterId())
                        .objects("backups", backups).field("encrypted", backupKey != null)
                        .field("path", chain.describePath())
                        .field("skipped", chain.notes().isEmpty() ? null : String.join("; ", chain.notes())));
                out.flush();
                return ClientCommand.OK;
            }
            for (int i = 0; i < chain.backups().size(); i++) {
                BackupChain.Backup b = chain.backups().get(i);
                out.println(describe(b) + (checks == null ? "" : checks.get(i).compared()
                        ? "; state digest matches (" + b.manifest().stateDigest() + ")"
                        : "; no state digest recorded (an older backup): state not compared"));
            }
            for (String note : chain.notes()) {
                out.println("note: " + note);
            }
            BackupManifest first = chain.full().manifest();
            long diffs = chain.backups().stream().filter(b -> b.manifest().kind() == BackupKind.DIFFERENTIAL).count();
            out.println("chain OK: cluster '" + first.clusterId() + "', 1 full + " + (diffs == 0 ? "" : diffs
                    + " differential + ") + (chain.backups().size() - 1 - diffs) + " incremental, restorable to any"
                    + " index in " + first.lastIndex() + ".." + chain.last().manifest().lastIndex()
                    + " (uses " + chain.describePath() + ")"
                    + (backupKey == null ? "" : "; encrypted and authenticated with key " + backupKey.id())
                    + (checks == null ? "" : "; deep: the state rebuilt in a " + kind.cliName() + " state machine matches "
                    + checks.stream().filter(StateVerification.Check::compared).count() + " of " + checks.size()
                    + " recorded digests"));
            out.flush();
            return ClientCommand.OK;
        }
    }

    @Command(name = "policy", mixinStandardHelpOptions = true,
            description = "Show a node's backup schedule (raftkit server --backup-schedule): what ran (when, kind, index, bytes), what failed and why, what retention deleted, and when each kind is next due. Asked of the node (--node, default the first of -c).",
            footer = {"", "JSON (--json): {node,scheduled,schedule,keepChains,root,running,ran:[{at,asked,taken,lastIndex,bytes,directory,fallbackReason,millis}],failed:[{at,kind,reason}],due:[{kind,at,everyMillis}],pruned}",
                    "", "Example:", "  raftkit backup policy -c 127.0.0.1:8001 --cluster-id demo --node 1"})
    static final class Policy extends OneNodeCommand {
        @Override
        int run(RaftClient client) {
            Target t = target();
            AdminClient.BackupPolicyStatus st;
            try (AdminClient admin = new AdminClient(HostPort.parse(t.address(), "node address"),
                    cluster.tls(spec.commandLine()))) {
                st = admin.backupPolicy(cluster.clusterId, cluster.timeout())
                        .get(cluster.timeout().toMillis() + 5000, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                return fail("node " + t.id() + " (" + t.address() + ") did not say: " + MemberCommands.describe(e.getCause()));
            } catch (TimeoutException e) {
                return fail("node " + t.id() + " (" + t.address() + ") did not answer within " + cluster.timeout());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail("interrupted");
            }
            if (json) {
                List<Json> ran = new ArrayList<>();
                st.ran().forEach(r -> ran.add(Json.object().field("at", r.at().toString()).field("asked", r.asked())
                        .field("taken", r.taken()).field("lastIndex", r.lastIndex()).field("bytes", r.bytes())
                        .field("directory", r.directory()).field("fallbackReason", r.fallbackReason())
                        .field("millis", r.took().toMillis())));
                List<Json> failed = new ArrayList<>();
                st.failed().forEach(f -> failed.add(Json.object().field("at", f.at().toString()).field("kind", f.kind())
                        .field("reason", f.reason())));
                List<Json> due = new ArrayList<>();
                st.due().forEach(d -> due.add(Json.object().field("kind", d.kind()).field("at", d.at().toString())
                        .field("everyMillis", d.every().toMillis())));
                print(Json.object().field("node", st.node()).field("scheduled", st.scheduled())
                        .field("schedule", st.scheduled() ? st.schedule() : null).field("keepChains", st.keepChains())
                        .field("root", st.scheduled() ? st.root() : null).field("running", st.running())
                        .objects("ran", ran).objects("failed", failed).objects("due", due)
                        .field("pruned", String.join(",", st.pruned())).toString());
                return OK;
            }
            if (!st.scheduled()) {
                print("node " + st.node() + " has no backup schedule (start it with --backup-root DIR --backup-schedule"
                        + " full=7d,differential=1d,incremental=1h)");
                return OK;
            }
            StringBuilder b = new StringBuilder();
            b.append("node ").append(st.node()).append(": schedule ").append(st.schedule()).append(", keep ")
                    .append(st.keepChains() == 0 ? "all chains" : st.keepChains() + " chains").append(", into ")
                    .append(st.root()).append(st.running() == null ? "" : "; taking a " + st.running() + " backup now");
            b.append("\nran (").append(st.ran().size()).append("):");
            for (AdminClient.PolicyRun r : st.ran()) {
                b.append("\n  ").append(r.at()).append("  ").append(r.taken())
                        .append(r.asked().equals(r.taken()) ? "" : " (instead of " + r.asked() + ")")
                        .append("  index ").append(r.lastIndex()).append("  ").append(r.bytes()).append(" bytes  ")
                        .append(r.directory()).append("  (").append(r.took().toMillis()).append(" ms)");
            }
            b.append("\nfailed (").append(st.failed().size()).append("):");
            for (AdminClient.PolicyFailure f : st.failed()) {
                b.append("\n  ").append(f.at()).append("  ").append(f.kind()).append(": ").append(f.reason());
            }
            if (!st.pruned().isEmpty()) {
                b.append("\npruned (").append(st.pruned().size()).append("): ").append(String.join(", ", st.pruned()));
            }
            b.append("\ndue:");
            for (AdminClient.PolicyDue d : st.due()) {
                b.append("\n  ").append(d.kind()).append(" every ")
                        .append(dev.raftkit.storage.backup.BackupSchedule.show(d.every())).append(", next ")
                        .append(d.at().equals(java.time.Instant.EPOCH) ? "now (none taken yet)" : d.at().toString());
            }
            print(b.toString());
            return OK;
        }
    }

    /** Loads {@code --key FILE} (null if not given); a bad file is a bad argument. */
    static BackupKey loadKey(CommandLine cl, Path file) {
        if (file == null) {
            return null;
        }
        try {
            return BackupKey.load(file);
        } catch (IOException e) {
            throw new ParameterException(cl, "--key: " + e.getMessage());
        }
    }

    @Command(name = "keygen", mixinStandardHelpOptions = true,
            description = "Create a new random key file for encrypted backups (64 hex digits, readable only by you). Give it to the servers with --backup-key and to verify/restore with --key; keep a copy away from the backups: without it they cannot be read.",
            footer = {"", "Example:", "  raftkit backup keygen --out /etc/raftkit/backup.key"})
    static final class Keygen implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "The key file to create (must not exist).")
        Path out;

        @Override
        public Integer call() {
            CommandLine cl = spec.commandLine();
            if (Files.exists(out)) {
                throw new ParameterException(cl, "--out: " + out.toAbsolutePath() + " exists; a key file is never"
                        + " overwritten (backups written with it would become unreadable)");
            }
            BackupKey k;
            try {
                k = BackupKey.createFile(out, new java.security.SecureRandom());
            } catch (IOException e) {
                cl.getErr().println("raftkit backup keygen: cannot create " + out.toAbsolutePath() + ": " + e.getMessage());
                cl.getErr().flush();
                return ClientCommand.FAILED;
            }
            cl.getOut().println("backup key " + k.id() + " written to " + out.toAbsolutePath());
            cl.getOut().flush();
            return ClientCommand.OK;
        }
    }

    static String describe(BackupChain.Backup b) {
        BackupManifest m = b.manifest();
        long bytes = m.files().stream().mapToLong(BackupFile::sizeBytes).sum();
        String covers = m.kind() == BackupKind.FULL ? "snapshot at index " + m.lastIndex() + " (term " + m.lastTerm() + ")"
                : (m.kind() == BackupKind.DIFFERENTIAL ? "differential, " : "") + "entries " + (m.prevIndex() + 1)
                + ".." + m.lastIndex();
        return b.dir().getFileName() + "  " + covers + ", " + bytes + " bytes, node " + m.sourceNode() + ", " + m.createdAt()
                + (m.lastTime() == null ? "" : ", log time " + (m.firstTime() == null
                || m.firstTime().equals(m.lastTime()) ? m.lastTime() : m.firstTime() + " .. " + m.lastTime()));
    }
}
