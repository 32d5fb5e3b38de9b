package dev.raftkit.cli;

import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupKey;
import dev.raftkit.storage.backup.BackupRestore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code raftkit restore}: a backup chain into a new data directory, locally. */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = "Restore the newest chain of a backup root into a NEW data directory (to its last index, or to --index for a point in time), verifying it first; --data a,b,c restores several nodes at once, verifying the chain once. The work runs on --parallelism threads. Local: needs no cluster. Then start a node on it with raftkit server --data NEWDIR and no --bootstrap. To seed a new cluster, restore once per node and start them all. To replace a lost node, remove it (raftkit member remove) and add the restored one under a NEW id: a node must never come back under its id with less than it acknowledged (see Backup and restore in the README).",
        footer = {"", "Exit codes: 0 restored, 1 the chain is damaged or the restore failed (nothing",
                "is left behind), 2 bad arguments (an --index outside the chain, a data",
                "directory that is not empty).",
                "", "Examples:",
                "  raftkit restore --from backups --data data/n3-restored",
                "  raftkit restore --from backups --data data/n3-restored --index 120",
                "  raftkit restore --from backups --data data/n1,data/n2,data/n3 --parallelism 4",
                "  raftkit restore --from backups --data data/n3-restored --key /etc/raftkit/backup.key"})
final class RestoreCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--from", required = true, paramLabel = "DIR", description = "The backup directory, on this host.")
    Path from;

    @Option(names = "--data", required = true, split = ",", paramLabel = "NEWDIR[,NEWDIR...]",
            description = "The data directory to create (must not exist, or be empty); several, comma-separated, to seed"
                    + " several nodes from one verification, written in parallel.")
    List<Path> dataDirs;

    @Option(names = "--parallelism", paramLabel = "N",
            description = "Worker threads for the restore: the backups are verified, the directories written and the"
                    + " entries decoded in parallel (default: the number of cores; 1: one step after another).")
    Integer parallelism;

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
        out.println("restoring " + chain.backups().size() + " backup(s) from " + from.toAbsolutePath() + " into "
                + dataDirs.stream().map(d -> d.toAbsolutePath().toString()).collect(Collectors.joining(", "))
                + " with " + threads + " thread(s)...");
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
            restored = BackupRestore.restore(chain.backups().stream().map(BackupChain.Backup::dir).toList(), dataDirs,
                    target, backupKey, threads, n -> progress.report(read[0] += n, planned, Progress.BYTES));
        } catch (IOException e) {
            return fail(cl, "restore failed (nothing was written): " + e.getMessage());
        }
        BackupRestore.Result r = restored.get(0);
        out.println("restored to index " + r.lastIndex() + " (term " + r.lastTerm() + "): snapshot at "
                + r.snapshot().index() + ", voters " + r.conf().voters() + ", into " + restored.size()
                + " data director" + (restored.size() == 1 ? "y" : "ies") + " in "
                + (System.nanoTime() - start) / 1_000_000 + " ms");
        out.println("start a node on it: raftkit server --data " + dataDirs.get(0) + " ... (no --bootstrap; to join a"
                + " running cluster use a new id and raftkit member add)");
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
