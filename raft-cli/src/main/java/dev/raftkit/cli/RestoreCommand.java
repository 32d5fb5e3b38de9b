package dev.raftkit.cli;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.node.HostPort;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupException;
import dev.raftkit.storage.backup.BackupKey;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.PointInTime;
import dev.raftkit.storage.backup.StateVerification;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * {@code raftkit restore}: a backup chain into a new data directory, locally; or, with
 * {@code --live}, a running cluster rolled back to a backup's state (a live restore, through the
 * admin service of the node whose backup root holds the chain).
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Restore the newest chain of a backup root into a NEW data directory (to its last index, or to a point in time: --index, or --time for the last entry the leader stamped at or before a wall-clock time), verifying it first, and before it reports success rebuilding the state in a state machine of the cluster's kind (--sm) and comparing it with the digest each manifest records (a mismatch restores nothing); --data a,b,c restores several nodes at once, verifying the chain once. The work runs on --parallelism threads. Local: needs no cluster. Then start a node on it with raftkit server --data NEWDIR and no --bootstrap. To seed a new cluster, restore once per node and start them all. To replace a lost node, remove it (raftkit member remove) and add the restored one under a NEW id: a node must never come back under its id with less than it acknowledged (see Backup and restore in the README)."
                + " With --live (admin): roll the RUNNING cluster back to the chain's state at --index, as one log entry every node applies at the same index while the cluster keeps serving; --from is then a directory under the backup root of the node that takes it (--node, default the first of -c), on that node's host.",
        footer = {"", "Exit codes: 0 restored, 1 the chain is damaged or the restore failed (nothing",
                "is left behind; also when the rebuilt state differs from a manifest's digest;",
                "--live: nothing was switched, or the message says the outcome is unknown),",
                "2 bad arguments (an --index or --time outside the chain, a data directory that",
                "is not empty).",
                "", "Examples:",
                "  raftkit restore --from backups --data data/n3-restored",
                "  raftkit restore --from backups --data data/n3-restored --index 120",
                "  raftkit restore --from backups --data data/n3-restored --time 2026-12-07T10:00:00Z",
                "  raftkit restore --from backups --data data/n3-restored --time '2026-12-07T11:00:00 Europe/Paris'",
                "  raftkit restore --from backups --data data/sql-restored --sm sql",
                "  raftkit restore --from backups --data data/n1,data/n2,data/n3 --parallelism 4",
                "  raftkit restore --from backups --data data/n3-restored --key /etc/raftkit/backup.key",
                "  raftkit restore --live --from nightly --index 120 -c 127.0.0.1:8001 --cluster-id demo"})
final class RestoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--from", required = true, paramLabel = "DIR", description = "The backup directory, on this host.")
    Path from;

    @Option(names = "--data", split = ",", paramLabel = "NEWDIR[,NEWDIR...]",
            description = "The data directory to create (must not exist, or be empty); several, comma-separated, to seed"
                    + " several nodes from one verification, written in parallel. Required without --live.")
    List<Path> dataDirs;

    @Option(names = "--parallelism", paramLabel = "N",
            description = "Worker threads for the restore: the backups are verified, the directories written and the"
                    + " entries decoded in parallel (default: the number of cores; 1: one step after another).")
    Integer parallelism;

    @Option(names = "--live", description = "Roll the running cluster (-c, --cluster-id) back to the backup's state"
            + " instead of writing a data directory: an admin call; prints the log index the switch took effect at"
            + " and the SHA-256 of the state now in force. Client sessions carry on across the switch.")
    boolean live;

    @Option(names = "--node", paramLabel = "N", description = "With --live: the node whose backup root holds --from"
            + " (default: the first of -c). It rebuilds the state and stages it on every member.")
    Long node;

    @Mixin
    ClusterOptions cluster;

    @Option(names = "--index", paramLabel = "N", description = "Restore up to log index N (default: everything the chain holds).")
    Long index;

    @Option(names = "--time", paramLabel = "TIME",
            description = "Restore up to the last entry the leader stamped at or before TIME: ISO-8601 with its zone,"
                    + " 2026-12-07T10:00:00Z, 2026-12-07T11:00:00+01:00, or a local date-time and a zone,"
                    + " '2026-12-07T11:00:00 Europe/Paris'. Refused outside the times the chain covers (it says them).")
    String time;

    @Option(names = "--sm", paramLabel = "KIND", defaultValue = "kv",
            description = "The cluster's state machine, kv (default) or sql: the restored state is rebuilt in one to"
                    + " compare with the manifests' digests before the restore reports success.")
    String stateMachine;

    @Option(names = "--key", paramLabel = "FILE",
            description = "The key file the backups were encrypted with (the node's --backup-key); needed for encrypted backups.")
    Path key;

    @Option(names = "--quiet", description = "No progress on stderr (by default: bytes read of the chain's total,"
            + " rate and time left, as a bar on a terminal or a line every 5 s otherwise).")
    boolean quiet;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        if (live) {
            return live(cl);
        }
        if (dataDirs == null) {
            throw new ParameterException(cl, "--data is required (the new data directory to restore into), or give"
                    + " --live to roll a running cluster back");
        }
        if (!Files.isDirectory(from)) {
            throw new ParameterException(cl, "--from: " + from.toAbsolutePath() + " is not a directory");
        }
        if (index != null && index < 0) {
            throw new ParameterException(cl, "--index must not be negative, got " + index);
        }
        if (index != null && time != null) {
            throw new ParameterException(cl, "give --index or --time, not both");
        }
        Instant at;
        try {
            at = time == null ? null : parseTime(time);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--time: " + e.getMessage());
        }
        StateMachineKind kind;
        try {
            kind = StateMachineKind.parse(stateMachine);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--sm: " + e.getMessage());
        }
        int threads = parallelism == null ? BackupRestore.DEFAULT_PARALLELISM : parallelism;
        if (threads < 1) {
            throw new ParameterException(cl, "--parallelism must be at least 1, got " + threads);
        }
        Set<Path> distinct = new HashSet<>();
        for (Path data : dataDirs) {
            if (!distinct.add(data.toAbsolutePath().normalize())) {
                throw new ParameterException(cl, "--data: " + data + " is given twice; give each node its own directory");
            }
            if (!isNewDirectory(data)) {
                throw new ParameterException(cl, "--data: " + data.toAbsolutePath() + " exists and is not an empty"
                        + " directory; a restore writes only into a new data directory (move this one away first)");
            }
        }
        PrintWriter out = cl.getOut();
        BackupKey backupKey = BackupCommands.loadKey(cl, key);
        BackupChain chain;
        try {
            // The shortest valid path to the target: the newest full backup at or below it, then
            // the fewest backups (a differential in place of the increments it holds).
            chain = BackupChain.plan(from, backupKey, index == null ? BackupRestore.LATEST : index);
        } catch (IOException e) {
            if (index != null) {
                BackupChain newest = null;
                try {
                    newest = BackupChain.discover(from, backupKey);
                } catch (IOException unusable) {
                    // The root is damaged: the failure above says how.
                }
                long first = newest == null ? 0 : newest.full().manifest().lastIndex();
                long last = newest == null ? 0 : newest.last().manifest().lastIndex();
                if (newest != null && (index < first || index > last)) {
                    throw new ParameterException(cl, "--index " + index + " is outside this chain, which restores to"
                            + " any index in " + first + ".." + last + ", and no older chain in " + from.toAbsolutePath()
                            + " reaches it either: " + e.getMessage());
                }
            }
            return fail(cl, "the chain is not usable: " + e.getMessage());
        }
        for (String note : chain.notes()) {
            out.println("note: " + note);
        }
        if (at != null) {
            PointInTime.Target t;
            try {
                t = PointInTime.indexAt(chain, at, backupKey);
            } catch (BackupException e) {
                throw new ParameterException(cl, "--time " + time + ": " + e.getMessage());
            } catch (IOException e) {
                return fail(cl, "the chain is not usable: " + e.getMessage());
            }
            index = t.index();
            out.println("restoring to " + at + ": index " + t.index() + ", the last entry at or before it (log time "
                    + t.logTime() + ", in " + t.backup().getFileName() + ")");
        }
        out.println("restoring " + chain.backups().size() + " backup(s) from " + from.toAbsolutePath() + " into "
                + dataDirs.stream().map(d -> d.toAbsolutePath().toString()).collect(Collectors.joining(", "))
                + " with " + threads + " thread(s): " + chain.describePath() + "...");
        out.flush();
        long start = System.nanoTime();
        List<BackupRestore.Result> restored;
        long target = index == null ? BackupRestore.LATEST : index;
        long planned = BackupRestore.bytesToRead(chain, target, dataDirs.size());
        // The bytes read (verification, then the copies) against what the manifests say there is to
        // read, summed over the workers; the ticker keeps the bar live through a long fsync or a
        // slow first file.
        try (Progress progress = Progress.elapsed(cl.getErr(), Progress.styleFor(quiet, false), System::nanoTime,
                "restore").startTicker()) {
            long[] read = {0};
            progress.report(0, planned, Progress.BYTES);
            // BackupRestore calls this one worker at a time, so the plain sum is safe.
            restored = BackupRestore.restore(FileIo.real(), chain.backups().stream().map(BackupChain.Backup::dir)
                            .toList(), dataDirs, target, backupKey, SegmentedLogStorage.Options.defaults(), threads,
                    n -> progress.report(read[0] += n, planned, Progress.BYTES), kind::createScratch);
        } catch (BackupException e) {
            return fail(cl, "restore failed (nothing was written): " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            return fail(cl, "restore failed (nothing was written): " + e.getMessage() + " (the state is rebuilt in a "
                    + kind.cliName() + " state machine to check it: is --sm the kind the cluster ran?)");
        }
        BackupRestore.Result r = restored.get(0);
        out.println("restored to index " + r.lastIndex() + " (term " + r.lastTerm() + "): snapshot at "
                + r.snapshot().index() + ", voters " + r.conf().voters() + ", into " + restored.size()
                + " data director" + (restored.size() == 1 ? "y" : "ies") + " in "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
        long compared = r.checks().stream().filter(StateVerification.Check::compared).count();
        out.println(compared == 0 ? "state not checked: no manifest up to index " + r.lastIndex() + " records a state"
                + " digest (backups taken before manifest version 2)"
                : "state checked: the rebuilt " + kind.cliName() + " state matches the digests of " + compared + " of "
                + r.checks().size() + " backups up to index " + r.lastIndex() + " (last: "
                + r.checks().get(r.checks().size() - 1).rebuilt() + ")");
        out.println("start a node on it: raftkit server --data " + dataDirs.get(0) + " ... (no --bootstrap; to join a"
                + " running cluster use a new id and raftkit member add)");
        out.flush();
        return ClientCommand.OK;
    }

    /** The live restore: one admin call to the node that holds the chain, waited for with the time elapsed. */
    private int live(CommandLine cl) {
        if (dataDirs != null) {
            throw new ParameterException(cl, "--data and --live exclude each other: --live restores the running"
                    + " cluster in place, --data writes a new directory");
        }
        if (key != null) {
            throw new ParameterException(cl, "--key is not used with --live: the node decrypts with its own --backup-key");
        }
        if (index != null && index <= 0) {
            throw new ParameterException(cl, "--index must be positive, got " + index);
        }
        if (node != null) {
            MemberCommands.checkId(cl, node, "--node");
        }
        TlsConfig tls = cluster.tls(cl);
        Map<Long, String> nodes;
        try {
            nodes = cluster.ids(cl, cluster.parse(cl), tls, w -> cl.getErr().println("raftkit restore: " + w));
        } catch (RaftException e) {
            return fail(cl, e.getMessage());
        }
        long taker = node != null ? node : nodes.keySet().iterator().next();
        String address = nodes.get(taker);
        if (address == null) {
            throw new ParameterException(cl, "--node " + taker + " is not among the nodes of --cluster " + nodes.keySet()
                    + "; add its address there");
        }
        long start = System.nanoTime();
        AdminClient.LiveRestored r;
        try (AdminClient admin = new AdminClient(HostPort.parse(address, "node address"), tls);
             Progress progress = Progress.elapsed(cl.getErr(), Progress.styleFor(quiet, false), System::nanoTime,
                     "restore --live: node " + taker + " rebuilding and staging the backup's state").startTicker()) {
            // No deadline of the command's own beyond the node's: a large state takes as long as it takes.
            r = admin.liveRestore(cluster.clusterId, from.toString(), index == null ? 0 : index, LIVE_LIMIT).get();
        } catch (ExecutionException e) {
            return fail(cl, "node " + taker + " (" + address + ") did not restore the live cluster: "
                    + MemberCommands.describe(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail(cl, "interrupted while node " + taker + " was restoring (it may still switch the cluster)");
        }
        PrintWriter out = cl.getOut();
        out.println("live restore by node " + r.node() + ": the cluster switched at index " + r.switchIndex()
                + " to the backup's state at index " + r.sourceIndex() + " (" + r.bytes() + " bytes, staged on nodes "
                + r.stagedOn() + ", proposed by leader " + r.leader() + ", " + (System.nanoTime() - start) / 1_000_000
                + " ms)");
        out.println("state now in force: sha256 " + r.sha256());
        out.println("rebuilt from: " + String.join(", ", r.chain()));
        out.flush();
        return ClientCommand.OK;
    }

    /** How long the node may take; the node's own limit is the same. */
    private static final Duration LIVE_LIMIT = Duration.ofHours(6);


    /**
     * A {@code --time}: an ISO-8601 instant or date-time with an offset ({@code 2026-12-07T10:00:00Z},
     * {@code 2026-12-07T11:00:00+01:00}), one with a zone in brackets
     * ({@code 2026-12-07T11:00:00[Europe/Paris]}), or a local date-time, a space and a zone id
     * ({@code 2026-12-07T11:00:00 Europe/Paris}). A local date-time alone is refused: which zone
     * it means would be a guess.
     *
     * @throws IllegalArgumentException saying which forms are accepted
     */
    static Instant parseTime(String text) {
        String t = text.trim();
        try {
            int space = t.indexOf(' ');
            if (space > 0) {
                return LocalDateTime.parse(t.substring(0, space)).atZone(ZoneId.of(t.substring(space + 1).trim()))
                        .toInstant();
            }
            if (t.endsWith("]")) {
                return ZonedDateTime.parse(t).toInstant();
            }
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeException e) {
            String why = "'" + text + "' is not an ISO-8601 time with its zone (" + e.getMessage() + ")";
            try {
                LocalDateTime.parse(t);
                why = "'" + text + "' has no zone (ISO-8601 needs one here): add Z for UTC, an offset (+01:00) or a"
                        + " zone id after a space (' Europe/Paris')";
            } catch (DateTimeException notLocal) {
                // Not a local date-time either: the first message stands.
            }
            throw new IllegalArgumentException(why + "; e.g. 2026-12-07T10:00:00Z or '2026-12-07T11:00:00 Europe/Paris'");
        }
    }

    private static boolean isNewDirectory(Path dir) {
        if (!Files.exists(dir)) {
            return true;
        }
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private static int fail(CommandLine cl, String message) {
        cl.getErr().println("raftkit restore: " + message);
        cl.getErr().flush();
        return ClientCommand.FAILED;
    }
}
