package dev.raftkit.cli;

import dev.raftkit.cli.node.StateMachineKind;
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
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code raftkit restore}: a backup chain into a new data directory, locally. */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Restore the newest chain of a backup root into a NEW data directory (to its last index, or to a point in time: --index, or --time for the last entry the leader stamped at or before a wall-clock time), verifying it first, and before it reports success rebuilding the state in a state machine of the cluster's kind (--sm) and comparing it with the digest each manifest records (a mismatch restores nothing). Local: needs no cluster. Then start a node on it with raftkit server --data NEWDIR and no --bootstrap. To seed a new cluster, restore once per node and start them all. To replace a lost node, remove it (raftkit member remove) and add the restored one under a NEW id: a node must never come back under its id with less than it acknowledged (see Backup and restore in the README).",
        footer = {"", "Exit codes: 0 restored, 1 the chain is damaged or the restore failed (nothing",
                "is left behind; also when the rebuilt state differs from a manifest's digest),",
                "2 bad arguments (an --index or --time outside the chain, a data directory that",
                "is not empty).",
                "", "Examples:",
                "  raftkit restore --from backups --data data/n3-restored",
                "  raftkit restore --from backups --data data/n3-restored --index 120",
                "  raftkit restore --from backups --data data/n3-restored --time 2026-12-07T10:00:00Z",
                "  raftkit restore --from backups --data data/n3-restored --time '2026-12-07T11:00:00 Europe/Paris'",
                "  raftkit restore --from backups --data data/sql-restored --sm sql",
                "  raftkit restore --from backups --data data/n3-restored --key /etc/raftkit/backup.key"})
final class RestoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--from", required = true, paramLabel = "DIR", description = "The backup directory, on this host.")
    Path from;

    @Option(names = "--data", required = true, paramLabel = "NEWDIR", description = "The data directory to create (must not exist, or be empty).")
    Path data;

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
        if (!isNewDirectory(data)) {
            throw new ParameterException(cl, "--data: " + data.toAbsolutePath() + " exists and is not an empty directory;"
                    + " a restore writes only into a new data directory (move this one away first)");
        }
        PrintWriter out = cl.getOut();
        BackupKey backupKey = BackupCommands.loadKey(cl, key);
        BackupChain chain;
        try {
            chain = BackupChain.discover(from, backupKey);
        } catch (IOException e) {
            return fail(cl, "the chain is not usable: " + e.getMessage());
        }
        long first = chain.full().manifest().lastIndex();
        long last = chain.last().manifest().lastIndex();
        if (index != null && (index < first || index > last)) {
            throw new ParameterException(cl, "--index " + index + " is outside this chain, which restores to any index in "
                    + first + ".." + last);
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
                + data.toAbsolutePath() + "...");
        out.flush();
        long start = System.nanoTime();
        BackupRestore.Result r;
        long target = index == null ? BackupRestore.LATEST : index;
        long planned = BackupRestore.bytesToRead(chain, target);
        // The bytes read (verification, then the copy) against what the manifests say there is to
        // read; the ticker keeps the bar live through a long fsync or a slow first file.
        try (Progress progress = Progress.elapsed(cl.getErr(), Progress.styleFor(quiet, false), System::nanoTime,
                "restore").startTicker()) {
            long[] read = {0};
            progress.report(0, planned, Progress.BYTES);
            r = BackupRestore.restore(chain.backups().stream().map(BackupChain.Backup::dir).toList(), data, target,
                    backupKey, n -> progress.report(read[0] += n, planned, Progress.BYTES), kind::createScratch);
        } catch (BackupException e) {
            return fail(cl, "restore failed (nothing was written): " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            return fail(cl, "restore failed (nothing was written): " + e.getMessage() + " (the state is rebuilt in a "
                    + kind.cliName() + " state machine to check it: is --sm the kind the cluster ran?)");
        }
        out.println("restored to index " + r.lastIndex() + " (term " + r.lastTerm() + "): snapshot at "
                + r.snapshot().index() + ", voters " + r.conf().voters() + ", in "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
        long compared = r.checks().stream().filter(StateVerification.Check::compared).count();
        out.println(compared == 0 ? "state not checked: no manifest up to index " + r.lastIndex() + " records a state"
                + " digest (backups taken before manifest version 2)"
                : "state checked: the rebuilt " + kind.cliName() + " state matches the digests of " + compared + " of "
                + r.checks().size() + " backups up to index " + r.lastIndex() + " (last: "
                + r.checks().get(r.checks().size() - 1).rebuilt() + ")");
        out.println("start a node on it: raftkit server --data " + data + " ... (no --bootstrap; to join a running"
                + " cluster use a new id and raftkit member add)");
        out.flush();
        return ClientCommand.OK;
    }

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
