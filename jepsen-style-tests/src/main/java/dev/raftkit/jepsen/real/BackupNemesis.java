package dev.raftkit.jepsen.real;

import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.backup.BackupException;
import dev.raftkit.storage.backup.BackupManifest;
import dev.raftkit.spi.StateMachine;
import java.util.function.Supplier;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupRestore;
import dev.raftkit.storage.backup.StateVerification;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
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
 * them; and, at the end of the run, the audit of every chain the run wrote.
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
 * run INVALID. The audit does not yet compare restored key-value state with the linearizable
 * history.
 *
 * <p>Threads: {@link #step} runs on the nemesis thread; {@link #audit} on the runner's, after the
 * nemesis has stopped. {@link #taken} and {@link #crashes} may be read from any thread.
 */
public final class BackupNemesis {

    /** The chain directory, relative to a node's backup root, every backup of this nemesis goes to. */
    public static final String CHAIN = "chain";

    /** One backup the nemesis took: which node, which kind, its directory on disk, its index range. */
    public record Taken(long node, String kind, Path directory, long prevIndex, long lastIndex) {
    }

    /**
     * What the audit found: backups (and chains) verified and restored, and the problems, each
     * naming the backup at fault (empty when every backup holds the state it claims).
     */
    public record Audit(int chains, int verified, int restored, int digestsCompared, List<String> problems) {

        public Audit {
            problems = List.copyOf(problems);
        }
    }

    private final Cluster cluster;
    private final Random rnd;
    private final List<Taken> taken = Collections.synchronizedList(new ArrayList<>());
    private final List<String> crashes = Collections.synchronizedList(new ArrayList<>());
    private final Map<Long, Path> roots = Collections.synchronizedMap(new TreeMap<>());

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

    /** The crashes timed into a backup so far, described. */
    public List<String> crashes() {
        synchronized (crashes) {
            return List.copyOf(crashes);
        }
    }

    /**
     * One step: a backup from a random live node; one step in four SIGKILLs that node as soon as
     * its backup-progress call says the backup runs, then restarts it. Returns the timeline event.
     */
    FaultEvent step(Duration restartTimeout) throws Exception {
        List<Long> live = new ArrayList<>(cluster.ids());
        live.removeIf(id -> !cluster.isAlive(id) || cluster.isPaused(id));
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
        String[] hp = cluster.clientAddresses().get(v).split(":");
        try (AdminClient admin = new AdminClient(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), null)) {
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
            taken.add(new Taken(v, kind, Path.of(t.directory()), t.prevIndex(), t.lastIndex()));
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
        cluster.kill(v);
        if (!finished) {
            crashes.add("backup (" + kind + ") at node " + v + " " + when);
        }
        StringBuilder d = new StringBuilder("SIGKILL node ").append(v).append(" during a ").append(kind)
                .append(" backup ").append(finished ? "(it finished first)" : when).append("; restarted");
        Cluster.Restart r = cluster.restart(v, restartTimeout);
        if (r.replaced()) {
            d.append("; node ").append(v).append(" refused its data (").append(r.reason()).append(") and was replaced");
        }
        if (finished) {
            AdminClient.BackupTaken t = f.get();
            roots.put(v, backupRoot(cluster.dataDir(r.replaced() ? r.replacement() : v)).resolve(CHAIN));
            taken.add(new Taken(v, kind, Path.of(t.directory()), t.prevIndex(), t.lastIndex()));
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
     * no files of its own, to rebuild each backup's state in.
     */
    public Audit audit(Path scratch, Supplier<StateMachine> scratchMachines) throws IOException {
        List<String> problems = new ArrayList<>();
        Map<Long, Map<Path, String>> digestAt = new TreeMap<>();
        int chains = 0;
        int verified = 0;
        int restored = 0;
        List<Path> chainRoots;
        synchronized (roots) {
            chainRoots = roots.values().stream().distinct().toList();
        }
        for (Path chainRoot : chainRoots) {
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
                    try {
                        BackupRestore.restore(dirs.subList(0, i + 1), target, BackupRestore.LATEST, null, n -> { },
                                scratchMachines);
                        restored++;
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
        return new Audit(chains, verified, restored, compared, problems);
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
