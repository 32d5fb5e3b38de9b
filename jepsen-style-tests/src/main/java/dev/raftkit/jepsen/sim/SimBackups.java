package dev.raftkit.jepsen.sim;

import dev.raftkit.runtime.ServerStatus;
import dev.raftkit.storage.SimFileIo;
import dev.raftkit.storage.StorageTestingHooks;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupException;
import dev.raftkit.storage.backup.BackupManifest;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.BackupService;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The {@link Fault#BACKUP} fault: backups taken through the real {@link BackupService} from nodes
 * while they serve, and restores through the real {@link BackupRestore} on spare machines, each
 * held to what a correct one must do.
 *
 * <ul>
 *   <li>A restored node (a spare, never a member) applies exactly up to the index restored, what
 *       it applies agrees with what the cluster applied there (the {@link SafetyChecker} sees it
 *       as one more node), and its state's digest equals the digest a member's state machine had
 *       after the same commands (recorded at each snapshot and restore, {@link
 *       SafetyChecker#onStateDigest}).
 *   <li>A chain with one increment lost is refused by verification (a planted bug that bridges
 *       the gap, {@link Hooks#acceptGappedBackupChain}, is caught here).
 *   <li>A restore cut by a power loss leaves no data directory, or a whole one; the next restore
 *       into the same place succeeds.
 *   <li>Every backup reported taken is on the node's disk durably, and every backup in a root
 *       verifies: backups are published whole and synced, so a chain a node's own root refuses
 *       is a bug (crashes mid-backup leave only partial directories).
 * </ul>
 */
final class SimBackups {

    /** Spare machines get ids from here up: never a member's. */
    private static final long SPARE_BASE = 100;
    /** A restored node must have applied what it was given within this many ticks of starting. */
    private static final int RESTORE_BOUND_TICKS = 100;
    private static final StorageTestingHooks ACCEPT_GAPS = new StorageTestingHooks() {
        @Override
        public boolean acceptGappedBackupChain() {
            return true;
        }
    };

    private final Simulator sim;
    private final List<SimHost> spares = new ArrayList<>();

    SimBackups(Simulator sim) {
        this.sim = sim;
    }

    /** Starts a backup on {@code v}; null once started, else why not. Its outcome is traced. */
    String backup(SimHost v, boolean incremental) {
        CompletableFuture<BackupService.Result> f = v.backup(incremental);
        if (f == null) {
            return "node " + v.id + " is down";
        }
        sim.trace(v.id, "fault", incremental ? "backup incremental" : "backup full");
        f.whenComplete((r, t) -> {
            sim.trace(v.id, "backup", t == null ? describe(r) : "failed: " + message(t));
            if (t == null && v.publishedBackups != null) {
                v.publishedBackups.add(r.backup().dir());
            }
        });
        return null;
    }

    private static String describe(BackupService.Result r) {
        var m = r.manifest();
        return r.backup().dir().getFileName() + " (" + m.prevIndex() + ", " + m.lastIndex() + "]"
                + (r.fellBackToFull() ? ", a full one instead: " + r.fallbackReason() : "");
    }

    private static String message(Throwable t) {
        Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
        return String.valueOf(c.getMessage());
    }

    /** Restores {@code v}'s newest chain as {@code r} says; null once done or under way, else why not. */
    String restore(SimHost v, FaultSchedule.Restore r) {
        Path root = SimHost.backupRoot(v.id);
        // What an operator copies off the machine: what its disk holds durably (every published
        // backup is synced). The copy is the spare machine's disk.
        SimFileIo disk = v.copyDisk();
        StorageTestingHooks hooks = sim.options().hooks().acceptGappedBackupChain() ? ACCEPT_GAPS
                : StorageTestingHooks.NONE;
        if (v.publishedBackups != null) {
            for (Path published : v.publishedBackups) {
                if (!disk.exists(published.resolve(BackupManifest.FILE_NAME))) {
                    sim.checker().onBackupViolation(sim.now(), "node " + v.id + "'s backup " + published + " was"
                            + " reported taken, but its disk does not hold it durably: a power cut would lose it");
                    return null;
                }
            }
        }
        BackupChain chain;
        try {
            if (BackupChain.backupDirs(disk, root).isEmpty()) {
                return "node " + v.id + " holds no backup";
            }
            chain = BackupChain.discover(disk, root, null, hooks);
        } catch (IOException | RuntimeException e) {
            sim.checker().onBackupViolation(sim.now(), "node " + v.id + "'s backup root " + root + " does not verify,"
                    + " although every backup in it was published whole and synced: " + e.getMessage());
            return null;
        }
        if (r.variant().equals("gap") && chain.backups().size() < 3) {
            return "node " + v.id + "'s newest chain has fewer than two increments";
        }
        sim.trace(v.id, "fault", "restore " + r.variant() + " of " + chain.full().dir().getFileName() + ".."
                + chain.last().dir().getFileName());
        if (r.variant().equals("gap")) {
            gap(v, disk, root, chain, hooks, r.pick());
            return null;
        }
        long from = chain.full().manifest().lastIndex();
        long to = chain.last().manifest().lastIndex();
        // The newest point of the chain whose state some member's digest is known at: the oracle.
        List<Long> known = sim.checker().digestKeys(from, to);
        long target = known.isEmpty() ? to : known.get(known.size() - 1);
        long spareId = SPARE_BASE + spares.size() + 1;
        Path data = SimHost.dataDir(spareId);
        List<Path> dirs = chain.backups().stream().map(BackupChain.Backup::dir).toList();
        if (r.variant().equals("crash")) {
            long[] ops = {0};
            disk.crashAt((op, path) -> ops[0]++ == r.pick(), disk::crash);
            try {
                BackupRestore.restore(disk, dirs, data, target, null, SimHost.logOptions(sim.options()));
            } catch (IOException | RuntimeException cut) {
                // The power went at the pick-th file operation (or the restore had fewer).
            }
            disk.crashAt(null, null);
            disk.crash();
            if (disk.exists(data)) {
                sim.trace(spareId, "restore", "the power cut came after the data directory was whole");
            } else {
                sim.trace(spareId, "restore", "cut by a power loss at file operation " + r.pick() + "; again");
            }
        }
        if (!disk.exists(data)) {
            try {
                // With the workload's state machine: the restore rebuilds the state and compares it
                // with the digest every manifest up to the target records, before it succeeds.
                BackupRestore.restore(disk, dirs, data, target, null, SimHost.logOptions(sim.options()),
                        sim.workload()::newStateMachine);
            } catch (IOException | RuntimeException e) {
                sim.checker().onBackupViolation(sim.now(), "node " + v.id + "'s chain " + chain.full().dir() + ".."
                        + chain.last().dir() + " verified but did not restore to index " + target + " on spare "
                        + spareId + ": " + e);
                return null;
            }
        }
        SimHost spare = new SimHost(spareId, sim, Set.of(), disk);
        spares.add(spare);
        spare.start();
        sim.startTicks(spare);
        sim.trace(spareId, "restore", "started from node " + v.id + "'s chain restored to index " + target
                + (known.isEmpty() ? " (no member's digest known there)" : ""));
        awaitApplied(spare, v.id, target, known.isEmpty() ? null : sim.checker().stateKey(target), 0);
        return null;
    }

    /** The gap variant: one increment lost from the copy; verification must refuse what is left. */
    private void gap(SimHost v, SimFileIo disk, Path root, BackupChain chain, StorageTestingHooks hooks, long pick) {
        List<BackupChain.Backup> b = chain.backups();
        BackupChain.Backup lost = b.get(1 + (int) Math.floorMod(pick, b.size() - 2));
        try {
            disk.deleteRecursively(lost.dir());
            BackupChain accepted = BackupChain.discover(disk, root, null, hooks);
            sim.checker().onBackupViolation(sim.now(), "node " + v.id + "'s backup root without increment "
                    + lost.dir().getFileName() + " verified as the chain " + accepted.full().dir().getFileName() + ".."
                    + accepted.last().dir().getFileName() + ": a chain with a gap was accepted, and cannot restore"
                    + " the entries (" + lost.manifest().prevIndex() + ", " + lost.manifest().lastIndex() + "]");
        } catch (BackupException refused) {
            sim.trace(v.id, "restore", "refused the chain missing " + lost.dir().getFileName() + ": "
                    + refused.getMessage());
        } catch (IOException e) {
            sim.checker().onBackupViolation(sim.now(), "verifying node " + v.id + "'s root without increment "
                    + lost.dir().getFileName() + " failed without naming the gap: " + e);
        }
    }

    /** Once {@code spare} has applied {@code target}, compares its state with the oracle's; retires it. */
    private void awaitApplied(SimHost spare, long source, long target, Long key, int ticks) {
        ServerStatus st = spare.status();
        if (st != null && st.applied() >= target) {
            if (st.applied() != target) {
                sim.checker().onBackupViolation(sim.now(), "spare " + spare.id + " restored from node " + source
                        + "'s chain to index " + target + " applied up to " + st.applied());
            } else if (key != null) {
                Long want = sim.checker().digestAfter(key);
                long got = sim.workloadRun().digest(spare.workloadStateMachine());
                if (want != null && want != got) {
                    sim.checker().onBackupViolation(sim.now(), "spare " + spare.id + " restored from node " + source
                            + "'s chain to index " + target + " holds state digest " + got + ", but the members'"
                            + " state after the same commands had digest " + want);
                }
            }
            sim.trace(spare.id, "restore", "applied up to " + target + "; checked");
            retire(spare);
            return;
        }
        if (ticks >= RESTORE_BOUND_TICKS || (st == null && !spare.up())) {
            sim.checker().onBackupViolation(sim.now(), "spare " + spare.id + " restored from node " + source
                    + "'s chain to index " + target + " has not applied it " + ticks + " ticks after starting ("
                    + (st == null ? "it is down" : st.toString()) + ")");
            retire(spare);
            return;
        }
        sim.scheduler().schedule(SimOptions.TICK_MICROS, () -> awaitApplied(spare, source, target, key, ticks + 1));
    }

    private static void retire(SimHost spare) {
        spare.retired = true;
        spare.crash();
    }

    /** Releases every spare still running (the end of the run). */
    void closeAll() {
        for (SimHost s : spares) {
            if (!s.retired) {
                retire(s);
            }
            s.closeStateMachine();
        }
    }
}
