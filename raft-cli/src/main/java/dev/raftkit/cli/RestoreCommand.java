package dev.raftkit.cli;

import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupKey;
import dev.raftkit.storage.backup.BackupRestore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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
        description = "Restore the newest chain of a backup root into a NEW data directory (to its last index, or to --index for a point in time), verifying it first. Local: needs no cluster. Then start a node on it with raftkit server --data NEWDIR and no --bootstrap. To seed a new cluster, restore once per node and start them all. To replace a lost node, remove it (raftkit member remove) and add the restored one under a NEW id: a node must never come back under its id with less than it acknowledged (see Backup and restore in the README).",
        footer = {"", "Exit codes: 0 restored, 1 the chain is damaged or the restore failed (nothing",
                "is left behind), 2 bad arguments (an --index outside the chain, a data",
                "directory that is not empty).",
                "", "Examples:",
                "  raftkit restore --from backups --data data/n3-restored",
                "  raftkit restore --from backups --data data/n3-restored --index 120",
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
        if (!isNewDirectory(data)) {
            throw new ParameterException(cl, "--data: " + data.toAbsolutePath() + " exists and is not an empty directory;"
                    + " a restore writes only into a new data directory (move this one away first)");
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
        out.println("restoring " + chain.backups().size() + " backup(s) from " + from.toAbsolutePath() + " into "
                + data.toAbsolutePath() + ": " + chain.describePath() + "...");
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
                    backupKey, n -> progress.report(read[0] += n, planned, Progress.BYTES));
        } catch (IOException e) {
            return fail(cl, "restore failed (nothing was written): " + e.getMessage());
        }
        out.println("restored to index " + r.lastIndex() + " (term " + r.lastTerm() + "): snapshot at "
                + r.snapshot().index() + ", voters " + r.conf().voters() + ", in "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
        out.println("start a node on it: raftkit server --data " + data + " ... (no --bootstrap; to join a running"
                + " cluster use a new id and raftkit member add)");
        out.flush();
        return ClientCommand.OK;
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
