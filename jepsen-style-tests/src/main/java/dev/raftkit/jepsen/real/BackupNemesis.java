package dev.raftkit.jepsen.real;

import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.backup.BackupException;
import dev.raftkit.storage.backup.BackupManifest;
import dev.raftkit.spi.ForwardingStateMachine;
import dev.raftkit.spi.StateMachine;
import java.util.function.Function;
import java.util.function.Supplier;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.kv.KvOps;
import dev.raftkit.sql.SqlRequest;
import dev.raftkit.sql.SqlStatement;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.StateVerification;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The {@code backup} nemesis: full, incremental and differential backups taken from random nodes
 * through the admin API while the workload runs, some of them cut by a SIGKILL of the node taking
 * them; SIGKILLs timed into a snapshot and into a snapshot install; followers replaced by new nodes
 * restored from a backup chain, the restore itself sometimes SIGKILLed ({@link Step}); and, at
 * the end of the run, the audit of every chain the run wrote.
 *
 * <p>Each harness node writes its backups under its own backup root {@link #backupRoot}, a sibling
 * of its data directory (so a chain survives the node being wiped), in one chain {@link #CHAIN}.
 * A chain begins with a full backup; after it each step draws full, incremental or differential.
 *
 * <p>The audit ({@link #audit}) is what makes a backup count: for every chain, {@link
 * StateVerification#deepVerify} checks every file's hash and rebuilds the state the chain holds,
 * comparing its digest with the digest each manifest recorded when the backup was taken; then each
 * backup is restored on its own (the chain up to it) into a scratch directory with the state
 * checked again. Last, backups of different nodes' chains that end at the same index must record
 * the same state digest: the replicated state at an index is one state, whichever node backed it
 * up (§3.5 Log Matching and state-machine determinism). Any failure names the backup and makes the
 * run INVALID. And each backup's restored state is read (the workload's keys) and added to the
 * history as a read by a process of its own over the interval the backup's admin call was in
 * flight ({@link Taken}): the state a backup holds must be the run's state at some instant while
 * it was taken, so the run's checker (linearizability, or the transactional checker) judges it
 * with every client operation.
 *
 * <p>Threads: {@link #step} runs on the nemesis thread; {@link #audit} on the runner's, after the
 * nemesis has stopped. {@link #taken} and {@link #crashes} may be read from any thread.
 */
public final class BackupNemesis {

    /** The chain directory, relative to a node's backup root, every backup of this nemesis goes to. */
    public static final String CHAIN = "chain";

    /**
     * One backup the nemesis took: which node, which kind, its directory on disk, its index range,
     * and when the admin call was sent and answered ({@link System#nanoTime}, the history's clock).
     * The node reads the leader's commit index before it backs up ({@code RaftServer.readBarrier}),
     * so the state at {@code lastIndex} is the replicated state at some instant in that interval: a
     * linearizable read of every key ({@link #audit}) — unless {@code staleReason} says the node got
     * no read index, when it is only some state the run had before {@code endNanos}.
     */
    public record Taken(long node, String kind, Path directory, long prevIndex, long lastIndex, long startNanos,
                        long endNanos, String staleReason) {
    }

    /**
     * What the audit found: backups (and chains) verified and restored, and the problems, each
     * naming the backup at fault (empty when every backup holds the state it claims).
     */
    public record Audit(int chains, int verified, int restored, int digestsCompared, List<String> problems,
                        Map<Path, Object> states) {

        public Audit {
            problems = List.copyOf(problems);
            states = Map.copyOf(states);
        }

        /**
         * What the state reader saw in the state restored from backup {@code directory} (the chain
         * up to it), or null if that backup was not restored.
         */
        public Object stateOf(Path directory) {
            return states.get(directory.toAbsolutePath().normalize());
        }
    }

    private final Cluster cluster;
    private final Random rnd;
    private final List<Taken> taken = Collections.synchronizedList(new ArrayList<>());
    private final List<String> crashes = Collections.synchronizedList(new ArrayList<>());
    private final Map<Long, Path> roots = Collections.synchronizedMap(new TreeMap<>());
    private final java.util.concurrent.atomic.AtomicInteger restoredMembers = new java.util.concurrent.atomic.AtomicInteger();
    private volatile String kind = "kv";

    /** A backup nemesis over {@code cluster}, its choices drawn from {@code rnd} (the nemesis's). */
    public BackupNemesis(Cluster cluster, Random rnd) {
        this.cluster = cluster;
        this.rnd = rnd;
    }

    /** The backup root of the harness node whose data directory is {@code dataDir}: {@code DATA-backups} beside it. */
    public static Path backupRoot(Path dataDir) {
        Path abs = dataDir.toAbsolutePath().normalize();
        return abs.resolveSibling(abs.getFileName() + "-backups");
    }

    /** Backups taken so far (not those cut by a crash). */
    public List<Taken> taken() {
        synchronized (taken) {
            return List.copyOf(taken);
        }
    }

    /** The crashes timed into a backup, a snapshot, a snapshot install or a restore so far, described. */
    public List<String> crashes() {
        synchronized (crashes) {
            return List.copyOf(crashes);
        }
    }

    /** The kind of state machine the cluster runs, {@code kv} (the default) or {@code sql}: restores rebuild it. */
    public BackupNemesis stateMachine(String kind) {
        RestoreMain.machines(kind); // refuses an unknown kind now
        this.kind = kind;
        return this;
    }

    /** How many members were replaced by a node restored from a backup chain. */
    public int restoredMembers() {
        return restoredMembers.get();
    }

    /**
     * One step, drawn: two times in five a backup ({@link #backup}); else, one in five each, a
     * SIGKILL timed into a snapshot ({@link #crashSnapshot}), into a snapshot install
     * ({@link #crashInstall}), or (once a backup exists) a
     * follower replaced by a new node restored from a backup chain, the restore itself cut by a
     * SIGKILL half the time ({@link #replaceFromBackup}). Returns the timeline event, or null.
     */
    FaultEvent step(Duration restartTimeout) throws Exception {
        int draw = rnd.nextInt(5);
        Step s = draw == 2 ? Step.CRASH_SNAPSHOT : draw == 3 ? Step.CRASH_INSTALL
                : draw == 4 && !roots.isEmpty() ? Step.REPLACE_FROM_BACKUP : Step.BACKUP;
        return run(s, restartTimeout);
    }

    /** The nemesis's kinds of step. */
    public enum Step {
        /** A full, incremental or differential backup, one in four cut by a SIGKILL. */
        BACKUP,
        /** A SIGKILL timed into a snapshot. */
        CRASH_SNAPSHOT,
        /** A SIGKILL timed into a follower's snapshot install. */
        CRASH_INSTALL,
        /** A follower replaced by a new node restored from the newest backup, the restore sometimes cut. */
        REPLACE_FROM_BACKUP
    }

    /**
     * Runs one step of kind {@code step} now (the nemesis draws them; a test runs each). Returns
     * the timeline event, or null if the cluster offered no victim (no live node, no leader, no
     * backup yet to restore).
     */
    public FaultEvent run(Step step, Duration restartTimeout) throws Exception {
        return switch (step) {
            case BACKUP -> backup(restartTimeout);
            case CRASH_SNAPSHOT -> crashSnapshot(restartTimeout);
            case CRASH_INSTALL -> crashInstall(restartTimeout);
            case REPLACE_FROM_BACKUP -> replaceFromBackup(restartTimeout);
        };
    }

    private List<Long> liveNodes() {
        List<Long> live = new ArrayList<>(cluster.ids());
        live.removeIf(id -> !cluster.isAlive(id) || cluster.isPaused(id));
        return live;
    }

    /** A random live follower (not {@code leader}), or 0 if there is none or no leader. */
    private long liveFollower(long leader) {
        List<Long> live = liveNodes();
        live.remove(leader);
        return leader == 0 || live.isEmpty() ? 0 : live.get(rnd.nextInt(live.size()));
    }

    /**
     * Asks a random live node for a snapshot and SIGKILLs it 0–30 ms later, while it writes the
     * snapshot (or just after: the event says which), then restarts it: a snapshot cut half-way
     * must leave the node's previous snapshot and log whole, and the node must come back on them.
     */
    private FaultEvent crashSnapshot(Duration restartTimeout) throws Exception {
        List<Long> live = liveNodes();
        if (live.isEmpty()) {
            return null;
        }
        long v = live.get(rnd.nextInt(live.size()));
        long start = System.nanoTime();
        boolean finished;
        try (AdminClient admin = cluster.adminOf(v)) {
            CompletableFuture<AdminClient.SnapshotTaken> f = admin.snapshot(cluster.clusterId(), Duration.ofSeconds(30));
            TimeUnit.MILLISECONDS.sleep(rnd.nextInt(30));
            finished = f.isDone();
            cluster.kill(v);
            PowerLossFileIo.keepPageCache(cluster.dataDir(v));
        }
        if (!finished) {
            crashes.add("snapshot at node " + v);
        }
        StringBuilder d = new StringBuilder("SIGKILL node ").append(v).append(finished
                ? " just after a snapshot (it finished first)" : " while it took a snapshot").append("; restarted");
        describe(d, v, cluster.restart(v, restartTimeout));
        return new FaultEvent("backup", d.toString(), start, System.nanoTime());
    }

    /**
     * Makes a follower need a snapshot and SIGKILLs it as it receives one: kills it, writes
     * {@link #FILL_ENTRIES} entries past it ({@link #fill}), has the leader take a snapshot (which compacts its log past the
     * follower), restarts the follower, and kills it again the moment the leader's event stream
     * says it sent the follower its snapshot; then restarts it for good. An install cut half-way
     * must leave the follower on its old state or the new one, never between (§5.3: the snapshot
     * replaces the state only once whole).
     */
    private FaultEvent crashInstall(Duration restartTimeout) throws Exception {
        long leader = cluster.leader();
        long v = liveFollower(leader);
        if (v == 0) {
            return null;
        }
        long start = System.nanoTime();
        cluster.kill(v);
        PowerLossFileIo.keepPageCache(cluster.dataDir(v));
        StringBuilder d = new StringBuilder("SIGKILL node ").append(v);
        d.append(", ").append(fill()).append(" fill entries written");
        java.util.concurrent.CountDownLatch sent = new java.util.concurrent.CountDownLatch(1);
        String[] at = new String[1];
        try (AdminClient admin = cluster.adminOf(leader)) {
            try {
                AdminClient.SnapshotTaken s = admin.snapshot(cluster.clusterId(), Duration.ofSeconds(30)).get();
                d.append(", leader ").append(leader).append(" took a snapshot at ").append(s.index());
            } catch (ExecutionException e) {
                d.append(", leader ").append(leader).append(" took no snapshot (").append(e.getCause().getMessage())
                        .append("); restarted");
                describe(d, v, cluster.restart(v, restartTimeout));
                return new FaultEvent("backup", d.toString(), start, System.nanoTime());
            }
            long since = java.time.Instant.now().toEpochMilli() * 1000;
            try (AdminClient.EventStream events = admin.events(cluster.clusterId(), since, e -> {
                if (e.kind().equals("snapshot-sent") && e.detail().startsWith("to " + v + " ")) {
                    at[0] = e.detail();
                    sent.countDown();
                }
            })) {
                Cluster.Restart r = cluster.restart(v, restartTimeout);
                if (r.replaced()) {
                    describe(d.append("; restarted"), v, r);
                    return new FaultEvent("backup", d.toString(), start, System.nanoTime());
                }
                if (sent.await(10, TimeUnit.SECONDS)) {
                    TimeUnit.MILLISECONDS.sleep(rnd.nextInt(20));
                    cluster.kill(v);
                    PowerLossFileIo.keepPageCache(cluster.dataDir(v));
                    crashes.add("snapshot install at node " + v);
                    d.append("; restarted it, and SIGKILLed it again as the leader sent it its snapshot (")
                            .append(at[0]).append(")");
                } else {
                    d.append("; restarted; the leader sent it no snapshot within 10 s (it caught up from the log)");
                }
            }
        }
        if (!cluster.isAlive(v)) {
            d.append("; restarted");
            describe(d, v, cluster.restart(v, restartTimeout));
        }
        return new FaultEvent("backup", d.toString(), start, System.nanoTime());
    }

    /**
     * Entries a down follower must fall behind by before the leader's snapshot leaves it
     * nothing to catch up from: the harness nodes keep {@code 2000} entries behind a snapshot
     * (their compaction margin) and delete only whole 1 MiB segments.
     */
    private static final int FILL_ENTRIES = 2600;
    private static final int FILL_VALUE_BYTES = 2048;

    /**
     * Writes {@link #FILL_ENTRIES} entries of {@link #FILL_VALUE_BYTES} (one key, or one row, of
     * the nemesis's own, outside the workload's keys), 32 in flight, within 60 s. Returns how many
     * were acknowledged.
     */
    private int fill() throws InterruptedException {
        String pad = "f".repeat(FILL_VALUE_BYTES);
        byte[] command = kind.equals("sql")
                ? new SqlRequest.Execute(List.of(new SqlStatement("CREATE TABLE IF NOT EXISTS nemesis_fill "
                        + "(id INTEGER PRIMARY KEY, pad TEXT NOT NULL)", List.of()),
                        SqlStatement.of("INSERT OR REPLACE INTO nemesis_fill (id, pad) VALUES (1, ?)", pad))).encode()
                : KvOps.put("nemesis-fill", pad);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(32);
        java.util.concurrent.atomic.AtomicInteger acked = new java.util.concurrent.atomic.AtomicInteger();
        try (RaftClient client = cluster.adminClient()) {
            for (int i = 0; i < FILL_ENTRIES && System.nanoTime() < deadline; i++) {
                if (!inFlight.tryAcquire(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    break;
                }
                client.submitAsync(command).whenComplete((r, e) -> {
                    if (e == null) {
                        acked.incrementAndGet();
                    }
                    inFlight.release();
                });
            }
            inFlight.tryAcquire(32, Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        return acked.get();
    }

    /**
     * Replaces a live follower by a new node restored from the newest backup the run took: the
     * follower is killed (its disk lost), the chain path to that backup is restored into the new
     * node's data directory in a process of its own ({@link RestoreMain}) — half the time
     * SIGKILLed half-way, when the restore must have published nothing, and is run again — and the
     * new node joins under a new id: added as a learner, promoted, the old one removed
     * ({@link Cluster#replace(long, Duration, Cluster.DataSeed)}).
     */
    private FaultEvent replaceFromBackup(Duration restartTimeout) throws Exception {
        long v = liveFollower(cluster.leader());
        if (v == 0 || cluster.ids().stream().anyMatch(cluster::isPaused)) {
            return null;
        }
        List<Path> path = newestPath();
        if (path == null) {
            return null;
        }
        long start = System.nanoTime();
        boolean cut = rnd.nextBoolean();
        StringBuilder d = new StringBuilder("node ").append(v).append(" lost; restoring ")
                .append(path.get(path.size() - 1).getFileName()).append(" (").append(path.size())
                .append(" backup(s) of ").append(path.get(0).getParent()).append(')');
        long id = cluster.replace(v, restartTimeout, dataDir -> {
            if (cut) {
                String when = runRestore(dataDir, path, rnd.nextInt(300));
                if (when.startsWith(FINISHED)) {
                    d.append("; the restore finished before its SIGKILL");
                    return;
                }
                crashes.add("restore for node " + v + "'s replacement " + when);
                d.append("; the restore SIGKILLed ").append(when);
                if (Files.exists(dataDir)) {
                    d.append(" had published its directory; the new node starts on it");
                    return;
                }
                d.append(" published nothing; restored again");
            }
            String done = runRestore(dataDir, path, -1);
            if (!Files.isDirectory(dataDir)) {
                throw new IllegalStateException("the restore into " + dataDir + " ended (" + done
                        + ") without publishing the directory");
            }
        });
        restoredMembers.incrementAndGet();
        d.append("; replaced by node ").append(id).append(" (learner, promoted), node ").append(v).append(" removed");
        return new FaultEvent("backup", d.toString(), start, System.nanoTime());
    }

    private static final String FINISHED = "finished";

    /**
     * Runs {@link RestoreMain} into {@code target}; with {@code killAfterMillis} non-negative,
     * SIGKILLs it that long after it says it started. Returns how it ended, in words.
     */
    private String runRestore(Path target, List<Path> path, long killAfterMillis)
            throws IOException, InterruptedException {
        Path log = target.resolveSibling(target.getFileName() + "-restore.log");
        Process p = new ProcessBuilder(RestoreMain.command(kind, target, path)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        try {
            if (killAfterMillis >= 0) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.readString(log).contains("STARTED") && p.isAlive() && System.nanoTime() < deadline) {
                    TimeUnit.MILLISECONDS.sleep(5);
                }
                if (p.waitFor(killAfterMillis, TimeUnit.MILLISECONDS)) {
                    if (p.exitValue() != 0) {
                        throw new IllegalStateException("the restore into " + target + " failed (exit "
                                + p.exitValue() + "); see " + log + ": " + Files.readString(log).strip());
                    }
                    return FINISHED;
                }
                p.destroyForcibly().waitFor();
                return killAfterMillis + " ms after it started";
            }
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the restore into " + target + " did not finish within 120 s; see " + log);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("the restore into " + target + " failed (exit " + p.exitValue()
                        + "); see " + log + ": " + Files.readString(log).strip());
            }
            return "done";
        } finally {
            p.destroyForcibly();
        }
    }

    /** The path to the newest backup (highest last index) of any chain the run wrote, or null. */
    private List<Path> newestPath() throws IOException {
        List<Path> best = null;
        long bestIndex = -1;
        for (Path root : chainRoots()) {
            for (List<Path> p : restorePaths(root)) {
                long last = BackupManifest.read(p.get(p.size() - 1)).lastIndex();
                if (last > bestIndex) {
                    bestIndex = last;
                    best = p;
                }
            }
        }
        return best;
    }

    /** The chain directories the run's backups went to, one per node that took any. */
    private List<Path> chainRoots() {
        synchronized (roots) {
            return roots.values().stream().distinct().toList();
        }
    }

    private static void describe(StringBuilder d, long v, Cluster.Restart r) {
        if (r.replaced()) {
            d.append("; node ").append(v).append(" refused its data (").append(r.reason()).append(") and was replaced");
        }
    }

    /**
     * A backup from a random live node; one in four SIGKILLs that node as soon as its
     * backup-progress call says the backup runs, then restarts it.
     */
    private FaultEvent backup(Duration restartTimeout) throws Exception {
        List<Long> live = liveNodes();
        if (live.isEmpty()) {
            return null;
        }
        long v = live.get(rnd.nextInt(live.size()));
        Path root = backupRoot(cluster.dataDir(v));
        Path chain = root.resolve(CHAIN);
        boolean fresh = !hasBackup(chain);
        String kind = fresh ? "full" : List.of("full", "incremental", "differential").get(rnd.nextInt(3));
        boolean crash = !fresh && rnd.nextInt(4) == 0;
        long start = System.nanoTime();
        try (AdminClient admin = cluster.adminOf(v)) {
            CompletableFuture<AdminClient.BackupTaken> f = admin.backup(cluster.clusterId(), kind, CHAIN,
                    Duration.ofSeconds(60));
            if (crash) {
                return crashDuring(admin, f, v, kind, start, restartTimeout);
            }
            AdminClient.BackupTaken t;
            try {
                t = f.get(90, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                // A node that reaches no leader or is being killed by another fault may refuse: not
                // a bug of the node, and no backup was taken.
                return new FaultEvent("backup", kind + " backup at node " + v + " refused: " + e.getCause().getMessage(),
                        start, System.nanoTime());
            }
            roots.put(v, chain);
            taken.add(new Taken(v, kind, Path.of(t.directory()), t.prevIndex(), t.lastIndex(), start, System.nanoTime(),
                    t.staleReason()));
            return new FaultEvent("backup", kind + " backup at node " + v + ": " + Path.of(t.directory()).getFileName()
                    + " entries (" + t.prevIndex() + ", " + t.lastIndex() + "]", start, System.nanoTime());
        }
    }

    private FaultEvent crashDuring(AdminClient admin, CompletableFuture<AdminClient.BackupTaken> f, long v, String kind,
                                   long start, Duration restartTimeout) throws Exception {
        // Poll the node's progress call: SIGKILL the moment it says a backup runs.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String when = "after it finished (no progress seen)";
        while (System.nanoTime() < deadline && !f.isDone()) {
            AdminClient.BackupProgress p;
            try {
                p = admin.backupProgress(cluster.clusterId(), Duration.ofSeconds(2)).get();
            } catch (ExecutionException e) {
                p = null;
            }
            if (p != null) {
                when = "in phase '" + p.phase() + "' (" + p.done() + "/" + p.total() + " " + p.unit() + ")";
                break;
            }
            TimeUnit.MILLISECONDS.sleep(2);
        }
        boolean finished = f.isDone() && !f.isCompletedExceptionally();
        long answered = System.nanoTime();
        cluster.kill(v);
        PowerLossFileIo.keepPageCache(cluster.dataDir(v)); // a kill, not a power cut
        if (!finished) {
            crashes.add("backup (" + kind + ") at node " + v + " " + when);
        }
        StringBuilder d = new StringBuilder("SIGKILL node ").append(v)
                .append(kind.equals("incremental") ? " during an " : " during a ").append(kind)
                .append(" backup ").append(finished ? "(it finished first)" : when).append("; restarted");
        Cluster.Restart r = cluster.restart(v, restartTimeout);
        describe(d, v, r);
        if (finished) {
            AdminClient.BackupTaken t = f.get();
            roots.put(v, backupRoot(cluster.dataDir(r.replaced() ? r.replacement() : v)).resolve(CHAIN));
            taken.add(new Taken(v, kind, Path.of(t.directory()), t.prevIndex(), t.lastIndex(), start, answered,
                    t.staleReason()));
        }
        return new FaultEvent("backup", d.toString(), start, System.nanoTime());
    }

    private static boolean hasBackup(Path chain) {
        if (!Files.isDirectory(chain)) {
            return false;
        }
        try {
            return !BackupChain.discover(chain).backups().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Verifies every chain the run wrote into, deeply, restores each of its backups into a scratch
     * directory under {@code scratch}, and compares digests across chains (the class javadoc).
     * {@code scratchMachines} makes a new, empty state machine of the cluster's kind that writes
     * no files of its own, to rebuild each backup's state in; {@code stateReader} reads what the
     * run needs of each restored state (the workload's keys) before that machine is closed, into
     * {@link Audit#stateOf} — the runner checks it against the history as a read taken while the
     * backup ran.
     */
    public Audit audit(Path scratch, Supplier<StateMachine> scratchMachines, Function<StateMachine, Object> stateReader)
            throws IOException {
        List<String> problems = new ArrayList<>();
        Map<Long, Map<Path, String>> digestAt = new TreeMap<>();
        int chains = 0;
        int verified = 0;
        int restored = 0;
        Map<Path, Object> states = new java.util.HashMap<>();
        for (Path chainRoot : chainRoots()) {
            List<List<Path>> paths;
            try {
                paths = restorePaths(chainRoot);
            } catch (IOException | RuntimeException e) {
                problems.add("backup root " + chainRoot + " could not be read: " + e.getMessage());
                continue;
            }
            java.util.Set<Path> checked = new java.util.HashSet<>();
            java.util.Set<Path> restoredDirs = new java.util.HashSet<>();
            for (List<Path> dirs : paths) {
                chains++;
                try {
                    for (StateVerification.Check c : StateVerification.deepVerify(dirs, null, scratchMachines,
                            scratch)) {
                        if (checked.add(c.backup())) {
                            verified++;
                        }
                        if (c.recorded() != null) {
                            digestAt.computeIfAbsent(c.index(), i -> new TreeMap<>()).put(c.backup(), c.recorded());
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    problems.add("backup chain " + dirs + " failed verification: " + e.getMessage());
                    continue;
                }
                for (int i = 0; i < dirs.size(); i++) {
                    if (!restoredDirs.add(dirs.get(i))) {
                        continue; // restored already, on another path through the same ancestors
                    }
                    Path target = scratch.resolve("restore-" + chains + "-" + i);
                    Object[] seen = new Object[1];
                    try {
                        BackupRestore.restore(dirs.subList(0, i + 1), target, BackupRestore.LATEST, null, n -> { },
                                () -> new ReadOnClose(scratchMachines.get(), sm -> seen[0] = stateReader.apply(sm)));
                        restored++;
                        if (seen[0] != null) {
                            states.put(dirs.get(i).toAbsolutePath().normalize(), seen[0]);
                        }
                    } catch (IOException | RuntimeException e) {
                        problems.add("backup " + dirs.get(i) + " could not be restored: " + e.getMessage());
                    } finally {
                        deleteTree(target);
                    }
                }
            }
        }
        int compared = 0;
        for (Map.Entry<Long, Map<Path, String>> e : digestAt.entrySet()) {
            if (e.getValue().size() > 1) {
                compared++;
                if (e.getValue().values().stream().distinct().count() > 1) {
                    problems.add("backups at index " + e.getKey() + " record different states: " + e.getValue());
                }
            }
        }
        return new Audit(chains, verified, restored, compared, problems, states);
    }

    /**
     * A state machine that hands itself to {@code reader} just before it closes: the restore
     * rebuilds its state in it, checks the digests and closes it, and the audit wants to read it
     * first.
     */
    private static final class ReadOnClose extends ForwardingStateMachine {
        private final java.util.function.Consumer<StateMachine> reader;

        ReadOnClose(StateMachine sm, java.util.function.Consumer<StateMachine> reader) {
            super(sm);
            this.reader = reader;
        }

        @Override
        public void close() {
            try {
                reader.accept(delegate);
            } finally {
                delegate.close();
            }
        }
    }

    /**
     * Every backup of {@code root} on a restore path: for each backup no other one names as its
     * parent, the path from its full backup through its parents to it. A root holds several chains
     * (a full backup starts a new one, and a node falls back to full), and every backup taken must
     * be verified and restored, not only the newest chain's ({@link BackupChain#discover}).
     */
    static List<List<Path>> restorePaths(Path root) throws IOException {
        Map<String, Path> byId = new java.util.HashMap<>();
        Map<Path, BackupManifest> manifests = new java.util.LinkedHashMap<>();
        for (Path dir : BackupChain.backupDirs(FileIo.real(), root)) {
            BackupManifest m = BackupManifest.read(dir);
            manifests.put(dir, m);
            byId.put(m.id(), dir);
        }
        java.util.Set<String> parents = new java.util.HashSet<>();
        manifests.values().forEach(m -> {
            if (m.parentId() != null) {
                parents.add(m.parentId());
            }
        });
        List<List<Path>> paths = new ArrayList<>();
        for (Map.Entry<Path, BackupManifest> e : manifests.entrySet()) {
            if (parents.contains(e.getValue().id())) {
                continue;
            }
            java.util.ArrayDeque<Path> path = new java.util.ArrayDeque<>();
            BackupManifest m = e.getValue();
            Path dir = e.getKey();
            while (true) {
                path.addFirst(dir);
                if (m.parentId() == null) {
                    break;
                }
                dir = byId.get(m.parentId());
                if (dir == null) {
                    throw new BackupException(e.getKey(), "its ancestor " + m.parentId() + " is missing from " + root);
                }
                m = manifests.get(dir);
            }
            paths.add(List.copyOf(path));
        }
        return paths;
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete scratch restore " + dir, e);
        }
    }
}
