package dev.raftkit.jepsen.sim;

import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.ServerStatus;
import dev.raftkit.runtime.StateReplay;
import dev.raftkit.spi.StagedState;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.storage.SimFileIo;
import dev.raftkit.storage.StorageTestingHooks;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupException;
import dev.raftkit.storage.backup.BackupKind;
import dev.raftkit.storage.backup.BackupManifest;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.BackupService;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
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
 *   <li>Backups of every kind — full, differential, incremental — are taken; a restore goes
 *       through the newest chain's path (the full backup, its latest differential, the increments
 *       after it), so a differential's entries (copied from the chain's backups, then read from
 *       the node's log) are checked against the cluster's state like any other.
 *   <li>A restored node (a spare, never a member) applies exactly up to the index restored, what
 *       it applies agrees with what the cluster applied there (the {@link SafetyChecker} sees it
 *       as one more node), and its state's digest equals the digest a member's state machine had
 *       after the same commands (recorded at each snapshot and restore, {@link
 *       SafetyChecker#onStateDigest}).
 *   <li>A chain with one increment lost is refused by verification (a planted bug that bridges
 *       the gap, {@link Hooks#acceptGappedBackupChain}, is caught here).
 *   <li>A restore cut by a power loss leaves no data directory, or a whole one; the next restore
 *       into the same place succeeds.
 *   <li>A concurrent restore (one call into several directories, the seeding of a new cluster)
 *       writes every directory alike, publishes none before all are written (a planted bug that
 *       does, {@link Hooks#publishRestoredDirectoriesEarly}, is caught here), and after a power
 *       cut the next restore into those missing succeeds.
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

    private final Simulator sim;
    private final List<SimHost> spares = new ArrayList<>();
    /** The last spare id handed out: a concurrent restore takes one per directory. */
    private long lastSpareId = SPARE_BASE;
    /** Live restores started, for scratch directory names and staging ids. */
    private int liveRestores;

    SimBackups(Simulator sim) {
        this.sim = sim;
    }

    /** Starts a backup on {@code v}; null once started, else why not. Its outcome is traced. */
    String backup(SimHost v, BackupKind kind) {
        CompletableFuture<BackupService.Result> f = v.backup(kind);
        if (f == null) {
            return "node " + v.id + " is down";
        }
        sim.trace(v.id, "fault", "backup " + kind.word());
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
        StorageTestingHooks hooks = storageHooks(sim.options().hooks());
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
        sim.trace(v.id, "fault", "restore " + r.variant() + " of " + chain.describePath());
        if (r.variant().equals("gap")) {
            gap(v, disk, root, chain, hooks, r.pick());
            return null;
        }
        long from = chain.full().manifest().lastIndex();
        long to = chain.last().manifest().lastIndex();
        // The newest point of the chain whose state some member's digest is known at: the oracle.
        List<Long> known = sim.checker().digestKeys(from, to);
        long target = known.isEmpty() ? to : known.get(known.size() - 1);
        List<Path> dirs = chain.backups().stream().map(BackupChain.Backup::dir).toList();
        if (FaultSchedule.Restore.CONCURRENT.contains(r.variant())) {
            concurrent(v, r, disk, chain, dirs, target, known, hooks);
            return null;
        }
        long spareId = ++lastSpareId;
        Path data = SimHost.dataDir(spareId);
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

    /**
     * The concurrent variants: the chain restored into {@code r.copies()} spare directories in one
     * call of the real multi-directory restore, with parallelism 1. The simulator is one seeded
     * thread, and worker threads would make a run unrepeatable, so the restore's tasks run on this
     * thread one after another (the restore promises the same bytes at any parallelism): what is
     * simulated is the restore's file operations in that order, its all-or-nothing publication and
     * its checks, under power cuts; how its worker threads interleave is not (the real-process
     * tests and the restore's own tests run it with threads).
     *
     * <p>Every directory must hold the same bytes, and a node started on the first must reach
     * the cluster's state at the target (the cold restore's check); the others are held to the
     * first byte for byte rather than each started. With {@code concurrent-crash} the power goes
     * at the restore's {@code pick}-th file operation: if that was before every directory was
     * written, none may be there afterwards (no node of the new cluster restored and others not);
     * if it was later, in the publication, those there must be whole; then a second restore into
     * those missing must succeed. Renames cannot be made atomic across directories, so a cut in
     * between two of the restore's renames leaves the first ones published, each whole.
     */
    private void concurrent(SimHost v, FaultSchedule.Restore r, SimFileIo disk, BackupChain chain, List<Path> dirs,
                            long target, List<Long> known, StorageTestingHooks hooks) {
        int k = r.copies();
        long firstId = lastSpareId + 1;
        lastSpareId += k;
        List<Path> datas = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            datas.add(SimHost.dataDir(firstId + i));
        }
        Path parent = datas.get(0).toAbsolutePath().getParent();
        List<Path> missing = datas;
        if (r.variant().equals("concurrent-crash")) {
            long[] ops = {0};
            disk.crashAt((op, path) -> ops[0]++ == r.pick(), disk::crash);
            try {
                BackupRestore.restore(disk, dirs, datas, target, null, SimHost.logOptions(sim.options()), 1, null,
                        null, hooks);
            } catch (IOException | RuntimeException cut) {
                // The power went at the pick-th file operation (or the restore had fewer).
            }
            boolean wasCut = ops[0] > r.pick();
            disk.crashAt(null, null);
            disk.crash();
            List<Path> present = datas.stream().filter(disk::exists).toList();
            missing = datas.stream().filter(d -> !disk.exists(d)).toList();
            sim.trace(firstId, "restore", wasCut ? "concurrent restore into " + k + " directories cut by a power loss"
                    + " at file operation " + r.pick() + "; " + present.size() + " there after it"
                    : "the concurrent restore into " + k + " directories made " + ops[0] + " file operations, fewer"
                    + " than " + (r.pick() + 1) + ": no power cut");
            // Some there and some not is right only for a cut between the publication's renames,
            // which begin once every directory is written: each one not yet renamed then lies
            // whole beside it, under its partial name, as the published ones are.
            if (!present.isEmpty() && !missing.isEmpty()) {
                for (Path d : missing) {
                    if (!wholePartialBeside(disk, d, present.get(0))) {
                        sim.checker().onBackupViolation(sim.now(), "a concurrent restore of node " + v.id + "'s chain"
                                + " into " + k + " directories, cut by a power loss at file operation " + r.pick()
                                + ", left " + present + " published while " + d + " was not yet written whole: a"
                                + " directory was published before all were written (a new cluster with some nodes"
                                + " restored and others not)");
                        return;
                    }
                }
            }
        }
        if (!missing.isEmpty()) {
            try {
                // With the workload's state machine, as the cold restore: the state is rebuilt and
                // compared with every manifest's digest up to the target before anything is published.
                BackupRestore.restore(disk, dirs, missing, target, null, SimHost.logOptions(sim.options()), 1, null,
                        sim.workload()::newStateMachine, hooks);
            } catch (IOException | RuntimeException e) {
                sim.checker().onBackupViolation(sim.now(), "node " + v.id + "'s chain " + chain.full().dir() + ".."
                        + chain.last().dir() + " verified but did not restore to index " + target + " into "
                        + missing + ": " + e);
                return;
            }
        }
        for (int i = 1; i < k; i++) {
            String differs = firstDifference(disk, datas.get(0), datas.get(i));
            if (differs != null) {
                sim.checker().onBackupViolation(sim.now(), "a concurrent restore of node " + v.id + "'s chain to index "
                        + target + " wrote " + datas.get(i) + " unlike " + datas.get(0) + ": " + differs);
                return;
            }
        }
        SimHost spare = new SimHost(firstId, sim, Set.of(), disk);
        spares.add(spare);
        spare.start();
        sim.startTicks(spare);
        sim.trace(firstId, "restore", "started from node " + v.id + "'s chain restored to index " + target + " in "
                + k + " directories at once, all byte for byte equal"
                + (known.isEmpty() ? " (no member's digest known there)" : ""));
        awaitApplied(spare, v.id, target, known.isEmpty() ? null : sim.checker().stateKey(target), 0);
    }

    /**
     * Whether a partial directory of {@code dataDir} (beside it, named after it: {@code
     * .partial-<name>-<n>}) holds exactly what {@code published} holds.
     */
    private static boolean wholePartialBeside(SimFileIo disk, Path dataDir, Path published) {
        Path parent = dataDir.toAbsolutePath().getParent();
        String suffix = dataDir.getFileName() + "-";
        try {
            for (String n : disk.list(parent)) {
                if (n.startsWith(".") && n.contains(suffix) && n.substring(n.lastIndexOf(suffix) + suffix.length())
                        .matches("[0-9]+") && firstDifference(disk, published, parent.resolve(n)) == null) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** The first way the trees {@code a} and {@code b} differ (names, kinds or bytes), or null if they do not. */
    private static String firstDifference(SimFileIo disk, Path a, Path b) {
        try {
            if (disk.isDirectory(a) != disk.isDirectory(b)) {
                return a + " and " + b + " are not both directories";
            }
            if (!disk.isDirectory(a)) {
                return Arrays.equals(disk.readAllBytes(a), disk.readAllBytes(b)) ? null
                        : b + " holds other bytes than " + a;
            }
            List<String> names = new ArrayList<>(disk.list(a));
            List<String> other = new ArrayList<>(disk.list(b));
            Collections.sort(names);
            Collections.sort(other);
            if (!names.equals(other)) {
                return a + " holds " + names + " but " + b + " holds " + other;
            }
            for (String n : names) {
                String d = firstDifference(disk, a.resolve(n), b.resolve(n));
                if (d != null) {
                    return d;
                }
            }
            return null;
        } catch (IOException e) {
            return "cannot read them: " + e;
        }
    }

    /** The storage's planted bugs among {@code h}'s. */
    private static StorageTestingHooks storageHooks(Hooks h) {
        if (!h.acceptGappedBackupChain() && !h.publishRestoredDirectoriesEarly()) {
            return StorageTestingHooks.NONE;
        }
        return new StorageTestingHooks() {
            @Override
            public boolean acceptGappedBackupChain() {
                return h.acceptGappedBackupChain();
            }

            @Override
            public boolean publishRestoredDirectoriesEarly() {
                return h.publishRestoredDirectoriesEarly();
            }
        };
    }

    /**
     * The live variant (hot recovery): the running cluster rolled back to the last index of
     * {@code v}'s newest chain. As {@code raftkit restore --live} does: the chain restored into a
     * scratch directory (on a copy of {@code v}'s disk), the state rebuilt with the real {@link
     * StateReplay} in a fresh state machine, its image staged on {@code v} and on up members until a
     * majority holds it (the others fetch it when they reach the switch), and the switch proposed
     * once at the leader with the real {@link RaftServer#switchState}. The workload's history
     * records it ({@link Workload.Run#stateSwitch}), so the linearizability checker judges every
     * read around it; the safety checker keys states after it by the switch's index, so replicas
     * that did not switch at the same index diverge in its eyes.
     */
    String liveRestore(SimHost v) {
        RaftServer origin = v.server();
        if (origin == null) {
            return "node " + v.id + " is down";
        }
        SimHost leader = sim.leader();
        if (leader == null) {
            return "no leader";
        }
        Path root = SimHost.backupRoot(v.id);
        SimFileIo disk = v.copyDisk();
        BackupChain chain;
        try {
            if (BackupChain.backupDirs(disk, root).isEmpty()) {
                return "node " + v.id + " holds no backup";
            }
            chain = BackupChain.discover(disk, root, null, StorageTestingHooks.NONE);
        } catch (IOException | RuntimeException e) {
            return "node " + v.id + "'s backups do not verify (the restore fault judges that): " + e.getMessage();
        }
        long target = chain.last().manifest().lastIndex();
        Path scratch = Path.of("/sim/live-restore-" + (++liveRestores));
        byte[] image;
        Workload.StateSwitch recorded;
        try (StateMachine fresh = sim.workload().newStateMachine(sim.options().hooks())) {
            BackupRestore.restore(disk, chain.backups().stream().map(BackupChain.Backup::dir).toList(), scratch,
                    target, null, SimHost.logOptions(sim.options()));
            try (FileSnapshotStore store = FileSnapshotStore.open(disk, scratch.resolve(BackupRestore.SNAPSHOT_DIR));
                 SegmentedLogStorage log = SegmentedLogStorage.open(disk, scratch.resolve(BackupRestore.LOG_DIR),
                         SimHost.logOptions(sim.options()))) {
                StateReplay.replay(origin, store, log, target, fresh, sim.staging().of(v, false));
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (StateMachine.Snapshot s = fresh.snapshot()) {
                s.writeTo(out);
            }
            image = out.toByteArray();
            recorded = sim.workloadRun().stateSwitch(fresh);
        } catch (IOException | RuntimeException e) {
            sim.checker().onBackupViolation(sim.now(), "node " + v.id + "'s chain " + chain.full().dir() + ".."
                    + chain.last().dir() + " verified but its state at index " + target + " could not be rebuilt for"
                    + " a live restore: " + e);
            return null;
        }
        if (recorded == null) {
            return "the workload cannot model a switch to this backup (kv: the backup lacks a key)";
        }
        StagedState state;
        try {
            state = new StagedState("live-" + liveRestores, v.id, target, image.length,
                    MessageDigest.getInstance("SHA-256").digest(image));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sim.staging().put(state.id(), image);
        // Staged on the origin, then on up members in id order until a majority of voters holds it.
        Set<Long> voters = leader.status().conf().voters();
        v.staged.add(state.id());
        long holding = voters.contains(v.id) ? 1 : 0;
        for (SimHost h : sim.hosts()) {
            if (holding > voters.size() / 2) {
                break;
            }
            if (h != v && h.up() && voters.contains(h.id)) {
                h.staged.add(state.id());
                holding++;
            }
        }
        if (holding <= voters.size() / 2) {
            recorded.fail();
            return "fewer than a majority of voters is up to stage the image";
        }
        sim.trace(v.id, "fault", "restore live: the cluster to node " + v.id + "'s chain at index " + target + " ("
                + state.id() + ", " + image.length + " bytes), proposed at leader " + leader.id);
        Workload.StateSwitch outcome = recorded;
        leader.server().switchState(state).whenComplete((index, t) -> {
            if (t == null) {
                outcome.ok();
                sim.trace(leader.id, "restore", "live restore " + state.id() + " applied at index " + index);
            } else {
                outcome.unknown();
                sim.trace(leader.id, "restore", "live restore " + state.id() + ": " + message(t));
            }
        });
        return null;
    }

    /**
     * The gap variant: one increment lost from the copy. Verification must refuse what is left,
     * unless the root still restores the same index without it: a differential lost while the
     * increments it summed are still in the root, or an empty increment, leaves a contiguous
     * chain of other backups to the same last entry, and restoring through that loses nothing.
     */
    private void gap(SimHost v, SimFileIo disk, Path root, BackupChain chain, StorageTestingHooks hooks, long pick) {
        List<BackupChain.Backup> b = chain.backups();
        BackupChain.Backup lost = b.get(1 + (int) Math.floorMod(pick, b.size() - 2));
        try {
            disk.deleteRecursively(lost.dir());
            BackupChain accepted = BackupChain.discover(disk, root, null, hooks);
            if (contiguous(accepted.backups(), lost) && accepted.last().manifest().lastIndex() == chain.last().manifest()
                    .lastIndex() && accepted.last().manifest().lastTerm() == chain.last().manifest().lastTerm()) {
                sim.trace(v.id, "restore", "without " + lost.dir().getFileName() + " the root still restores index "
                        + accepted.last().manifest().lastIndex() + " through " + accepted.backups().stream()
                        .map(x -> x.dir().getFileName().toString()).toList());
                return;
            }
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

    /**
     * Whether {@code path} is a chain without {@code lost} that leaves no entry out: a full
     * backup, then backups each continuing the one before at its last index and term. Judged from
     * the manifests here, not by the verifier under test.
     */
    private static boolean contiguous(List<BackupChain.Backup> path, BackupChain.Backup lost) {
        if (path.isEmpty() || path.get(0).manifest().kind() != BackupKind.FULL) {
            return false;
        }
        for (int i = 0; i < path.size(); i++) {
            BackupManifest m = path.get(i).manifest();
            if (m.id().equals(lost.manifest().id())) {
                return false;
            }
            if (i > 0) {
                BackupManifest p = path.get(i - 1).manifest();
                if (m.prevIndex() != p.lastIndex() || m.prevTerm() != p.lastTerm()) {
                    return false;
                }
            }
        }
        return true;
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
