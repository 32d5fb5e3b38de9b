package dev.raftkit.storage.backup;

import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.StorageTestingHooks;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A chain of backups: one full backup, then at most one differential of it, then incrementals,
 * each continuing the one before it. {@link #verify} checks a chain without restoring it;
 * {@link #discover} finds the newest chain in a backup root, {@link #plan} the shortest valid
 * path of backups to any index the root can restore.
 *
 * @param root    where the backups were found, or null for a chain given backup by backup
 * @param backups the backups in chain order, each with its manifest
 * @param notes   what choosing this path skipped and why (a damaged differential passed over for
 *                the longer path through the increments); empty when nothing was skipped
 */
public record BackupChain(Path root, List<Backup> backups, List<String> notes) {

    private static final Logger LOG = LoggerFactory.getLogger(BackupChain.class);

    /** One backup: its directory and its manifest. */
    public record Backup(Path dir, BackupManifest manifest) {
    }

    public BackupChain {
        backups = List.copyOf(backups);
        notes = List.copyOf(notes);
    }

    /** A chain with nothing skipped. */
    public BackupChain(Path root, List<Backup> backups) {
        this(root, backups, List.of());
    }

    /** The backups' directory names in chain order, joined by {@code " + "}: which backups a restore uses. */
    public String describePath() {
        StringBuilder b = new StringBuilder();
        for (Backup x : backups) {
            b.append(b.length() == 0 ? "" : " + ").append(x.dir().getFileName());
        }
        return b.toString();
    }

    /** The last backup of the chain. */
    public Backup last() {
        return backups.get(backups.size() - 1);
    }

    /** The full backup the chain starts with. */
    public Backup full() {
        return backups.get(0);
    }

    /**
     * The backup directories of {@code root} on {@code io} (names that start with a digit; a
     * {@code .partial-} directory is none), in name order; empty if {@code root} does not exist.
     */
    public static List<Path> backupDirs(FileIo io, Path root) throws IOException {
        if (!io.isDirectory(root)) {
            return List.of();
        }
        return io.list(root).stream().filter(name -> !name.isEmpty() && Character.isDigit(name.charAt(0)))
                .map(root::resolve).filter(io::isDirectory).sorted().toList();
    }

    /**
     * The newest chain in {@code root}: from the backup with the highest sequence number back
     * through its parents to a full backup. Every manifest in the root must read cleanly (a
     * damaged one might be the missing link, so it is refused rather than skipped).
     *
     * @throws BackupException naming the bad manifest, or the backup whose parent is missing
     */
    public static BackupChain discover(Path root) throws IOException {
        return discover(root, null);
    }

    /**
     * {@link #discover(Path)} of a root of backups encrypted with {@code key} (null: plaintext
     * backups); see {@link BackupManifest#read(Path, BackupKey)} for what a key changes.
     */
    public static BackupChain discover(Path root, BackupKey key) throws IOException {
        return discover(FileIo.real(), root, key);
    }

    /** {@link #discover(Path, BackupKey)} over the file system {@code io}. */
    public static BackupChain discover(FileIo io, Path root, BackupKey key) throws IOException {
        return discover(io, root, key, StorageTestingHooks.NONE);
    }

    /** {@link #discover(FileIo, Path, BackupKey)} with deliberate bugs, for testing a fault harness only. */
    public static BackupChain discover(FileIo io, Path root, BackupKey key, StorageTestingHooks hooks)
            throws IOException {
        return plan(io, root, key, BackupRestore.LATEST, hooks);
    }

    /**
     * The shortest valid path of backups in {@code root} that restores index {@code target}
     * ({@link BackupRestore#LATEST}: the last index of the newest backup), verified: the newest full
     * backup at or below the target, the latest differential of it that does not pass the target
     * needlessly, then the increments after that. A backup whose data files do not verify is
     * passed over for the next shortest path (the increments a differential duplicates), and the
     * returned chain's {@link #notes} say so; every manifest in the root must read cleanly, as for
     * {@link #discover}.
     *
     * @throws BackupException naming the bad file when no valid path reaches the target
     */
    public static BackupChain plan(FileIo io, Path root, BackupKey key, long target) throws IOException {
        return plan(io, root, key, target, StorageTestingHooks.NONE);
    }

    /** {@link #plan(FileIo, Path, BackupKey, long)} on the real file system. */
    public static BackupChain plan(Path root, BackupKey key, long target) throws IOException {
        return plan(FileIo.real(), root, key, target);
    }

    /** {@link #plan(FileIo, Path, BackupKey, long)} with deliberate bugs, for testing a fault harness only. */
    public static BackupChain plan(FileIo io, Path root, BackupKey key, long target, StorageTestingHooks hooks)
            throws IOException {
        List<Backup> all = readAll(io, root, key);
        Backup newest = all.stream().max(Comparator.comparingLong(b -> b.manifest().sequence())).orElseThrow();
        long t = target == BackupRestore.LATEST ? newest.manifest().lastIndex() : target;
        Map<String, Backup> parents = parents(all, hooks);
        List<String> notes = new ArrayList<>();
        java.util.Set<String> skipped = new java.util.HashSet<>();
        BackupException firstDamage = null;
        while (true) {
            // The newest chain, to its newest backup, when that is what is asked for and it holds;
            // otherwise (or once a backup on it failed) the shortest path to the same index.
            List<Backup> path = target == BackupRestore.LATEST ? pathTo(newest, parents, skipped) : null;
            if (path == null) {
                path = shortestPath(all, parents, skipped, t, hooks.acceptGappedBackupChain());
            }
            if (path == null) {
                if (firstDamage != null) {
                    throw firstDamage;
                }
                if (target == BackupRestore.LATEST) {
                    resolve(io, root, key, hooks); // names the backup whose parent is missing
                }
                long lowest = all.stream().filter(b -> b.manifest().kind() == BackupKind.FULL)
                        .mapToLong(b -> b.manifest().lastIndex()).min().orElse(-1);
                throw new BackupException(root, "no chain of backups in it restores index " + t + (lowest < 0
                        ? ": it holds no full backup" : " (its oldest full backup is at index " + lowest
                        + ", and no chain of increments reaches " + t + ")") + "; pick an index a chain covers");
            }
            try {
                BackupChain c = verify(io, root, path.stream().map(Backup::dir).toList(), key, hooks);
                return new BackupChain(root, c.backups(), notes);
            } catch (BackupException e) {
                Backup bad = path.stream().filter(b -> e.file() != null && e.file().startsWith(b.dir())).findFirst()
                        .orElse(null);
                if (bad == null || !skipped.add(bad.manifest().id())) {
                    throw e;
                }
                if (firstDamage == null) {
                    firstDamage = e;
                }
                notes.add("skipped " + bad.dir().getFileName() + " (" + bad.manifest().kind().word() + ", entries to "
                        + bad.manifest().lastIndex() + "): " + e.getMessage());
                LOG.warn("backup {} does not verify; looking for a longer path around it: {}", bad.dir(),
                        e.getMessage());
            }
        }
    }

    /** Every backup of {@code root} with its manifest, in name order; a damaged manifest is refused. */
    private static List<Backup> readAll(FileIo io, Path root, BackupKey key) throws IOException {
        Map<String, Backup> byId = new HashMap<>();
        List<Backup> all = new ArrayList<>();
        for (Path dir : backupDirs(io, root)) {
            Backup b = new Backup(dir, BackupManifest.read(io, dir, key));
            Backup dup = byId.put(b.manifest().id(), b);
            if (dup != null) {
                throw new BackupException(dir, "has the same backup id " + b.manifest().id() + " as " + dup.dir()
                        + "; keep one copy only");
            }
            all.add(b);
        }
        if (all.isEmpty()) {
            throw new BackupException(root, "holds no backups; take a full backup first");
        }
        return all;
    }

    /** Each backup's parent (by backup id), where the root holds it. */
    private static Map<String, Backup> parents(List<Backup> all, StorageTestingHooks hooks) {
        Map<String, Backup> byId = new HashMap<>();
        all.forEach(b -> byId.put(b.manifest().id(), b));
        Map<String, Backup> parents = new HashMap<>();
        for (Backup b : all) {
            if (b.manifest().kind() == BackupKind.FULL) {
                continue;
            }
            Backup p = byId.get(b.manifest().parentId());
            if (p == null && hooks.acceptGappedBackupChain()) {
                p = olderThan(byId.values(), b.manifest().sequence());
            }
            if (p != null) {
                parents.put(b.manifest().id(), p);
            }
        }
        return parents;
    }

    /** The backups from a full backup through parent links to {@code last}; null if a link is missing or skipped. */
    private static List<Backup> pathTo(Backup last, Map<String, Backup> parents, java.util.Set<String> skipped) {
        List<Backup> path = new ArrayList<>();
        for (Backup b = last; b != null; b = parents.get(b.manifest().id())) {
            if (skipped.contains(b.manifest().id()) || path.size() > parents.size()) {
                return null;
            }
            path.add(0, b);
            if (b.manifest().kind() == BackupKind.FULL) {
                return path;
            }
        }
        return null;
    }

    /**
     * The path with the fewest backups from a full backup to one that holds index {@code t}: full
     * backups newest first (a newer one needs fewer entries replayed), breadth first from each;
     * among the shortest, the one ending lowest (fewest entries read past the target). Null if none.
     */
    private static List<Backup> shortestPath(List<Backup> all, Map<String, Backup> parents,
                                             java.util.Set<String> skipped, long t, boolean acceptGaps) {
        Map<String, List<Backup>> children = new HashMap<>();
        for (Backup b : all) {
            Backup p = parents.get(b.manifest().id());
            if (p != null && !skipped.contains(b.manifest().id())) {
                children.computeIfAbsent(p.manifest().id(), k -> new ArrayList<>()).add(b);
            }
        }
        List<Backup> fulls = all.stream().filter(b -> b.manifest().kind() == BackupKind.FULL)
                .filter(b -> !skipped.contains(b.manifest().id()) && b.manifest().lastIndex() <= t)
                .sorted(Comparator.comparingLong((Backup b) -> b.manifest().sequence()).reversed()).toList();
        for (Backup full : fulls) {
            if (full.manifest().lastIndex() == t) {
                return List.of(full);
            }
            Map<String, Backup> via = new HashMap<>();
            List<Backup> level = List.of(full);
            while (!level.isEmpty()) {
                List<Backup> next = new ArrayList<>();
                Backup goal = null;
                for (Backup b : level) {
                    for (Backup c : children.getOrDefault(b.manifest().id(), List.of())) {
                        if (via.containsKey(c.manifest().id())
                                || (!acceptGaps && c.manifest().prevIndex() != b.manifest().lastIndex())) {
                            continue;
                        }
                        via.put(c.manifest().id(), b);
                        next.add(c);
                        BackupManifest m = c.manifest();
                        if (m.prevIndex() < t && t <= m.lastIndex()
                                && (goal == null || m.lastIndex() < goal.manifest().lastIndex())) {
                            goal = c;
                        }
                    }
                }
                if (goal != null) {
                    List<Backup> path = new ArrayList<>();
                    for (Backup b = goal; b != full; b = via.get(b.manifest().id())) {
                        path.add(0, b);
                    }
                    path.add(0, full);
                    return path;
                }
                level = next;
            }
        }
        return null;
    }

    /** The newest chain of {@code root} by its manifests alone (no data file is read), full backup first. */
    static List<Backup> resolve(FileIo io, Path root, BackupKey key) throws IOException {
        return resolve(io, root, key, StorageTestingHooks.NONE);
    }

    private static List<Backup> resolve(FileIo io, Path root, BackupKey key, StorageTestingHooks hooks)
            throws IOException {
        Map<String, Backup> byId = new HashMap<>();
        Backup newest = null;
        for (Backup b : readAll(io, root, key)) {
            byId.put(b.manifest().id(), b);
            if (newest == null || b.manifest().sequence() > newest.manifest().sequence()) {
                newest = b;
            }
        }
        List<Backup> chain = new ArrayList<>();
        for (Backup b = newest; ; ) {
            chain.add(b);
            if (b.manifest().kind() == BackupKind.FULL) {
                break;
            }
            Backup parent = byId.get(b.manifest().parentId());
            if (parent == null && hooks.acceptGappedBackupChain()) {
                parent = olderThan(byId.values(), b.manifest().sequence());
            }
            if (parent == null) {
                throw new BackupException(b.dir().resolve(BackupManifest.FILE_NAME), "names parent backup "
                        + b.manifest().parentId() + " (ending at index " + b.manifest().prevIndex() + "), which is not in "
                        + root + ": the chain is incomplete; copy the missing increment back, or take a new full backup");
            }
            b = parent;
        }
        chain.sort(Comparator.comparingLong(b -> b.manifest().sequence()));
        return chain;
    }

    /** {@link #verify(Path, List)} of a chain given backup by backup, full backup first. */
    public static BackupChain verify(List<Path> dirs) throws IOException {
        return verify(null, dirs, null);
    }

    /** {@link #verify(Path, List)} of a chain given backup by backup, encrypted with {@code key} (null: plaintext). */
    public static BackupChain verify(List<Path> dirs, BackupKey key) throws IOException {
        return verify(null, dirs, key);
    }

    /** {@link #verify(Path, List, BackupKey)} of plaintext backups. */
    public static BackupChain verify(Path root, List<Path> dirs) throws IOException {
        return verify(root, dirs, null);
    }

    /**
     * Checks a chain without restoring it: every manifest's integrity, every file's size and
     * CRC32C, each incremental's and differential's entry file (header, every record, the index
     * sequence), that the chain starts with a full backup, that a differential comes right after it,
     * that each backup names the backup before it as its parent and continues its index and term,
     * and that every backup has the same cluster id.
     * With a {@code key}, every backup must be encrypted with it: each manifest's HMAC and every
     * chunk of every data file are authenticated too.
     *
     * @throws BackupException naming the first bad file and what is wrong with it
     */
    public static BackupChain verify(Path root, List<Path> dirs, BackupKey key) throws IOException {
        return verify(FileIo.real(), root, dirs, key);
    }

    /** The backup taken last before {@code sequence}, or null. */
    private static Backup olderThan(java.util.Collection<Backup> backups, long sequence) {
        return backups.stream().filter(b -> b.manifest().sequence() < sequence)
                .max(Comparator.comparingLong(b -> b.manifest().sequence())).orElse(null);
    }

    /** {@link #verify(Path, List, BackupKey)} over the file system {@code io}. */
    public static BackupChain verify(FileIo io, Path root, List<Path> dirs, BackupKey key) throws IOException {
        return verify(io, root, dirs, key, StorageTestingHooks.NONE);
    }

    /** {@link #verify(FileIo, Path, List, BackupKey)} with deliberate bugs, for testing a fault harness only. */
    public static BackupChain verify(FileIo io, Path root, List<Path> dirs, BackupKey key, StorageTestingHooks hooks)
            throws IOException {
        return verify(io, root, dirs, key, hooks, null);
    }

    /**
     * {@link #verify(FileIo, Path, List, BackupKey, StorageTestingHooks)} with each backup's own
     * checks (its manifest, every file's size and CRC32C, decryption, the entry-file scan) run as
     * separate tasks on {@code workers} (null: one after another on this thread), then the links
     * between backups checked in chain order on this thread. The error thrown is the one a
     * sequential verification would throw: the first bad backup in chain order, its first bad file.
     */
    static BackupChain verify(FileIo io, Path root, List<Path> dirs, BackupKey key, StorageTestingHooks hooks,
                              RestoreWorkers workers) throws IOException {
        if (dirs.isEmpty()) {
            throw new BackupException(root == null ? Path.of(".") : root, "the chain is empty; give a full backup first");
        }
        List<RestoreWorkers.Task<Checked>> checks = new ArrayList<>();
        for (int i = 0; i < dirs.size(); i++) {
            Path dir = dirs.get(i);
            boolean first = i == 0;
            checks.add(RestoreWorkers.submit(workers, () -> checkOne(io, dir, key, first)));
        }
        List<Backup> out = new ArrayList<>();
        Backup prev = null;
        for (int i = 0; i < dirs.size(); i++) {
            Path dir = dirs.get(i);
            Path manifestFile = dir.resolve(BackupManifest.FILE_NAME);
            // Waits for this backup's files (a failure there is this backup's first error), then
            // its place in the chain, then what its entry file was found to hold.
            Checked c = checks.get(i).get();
            BackupManifest m = c.manifest();
            if (prev != null) {
                checkContinues(manifestFile, m, prev, hooks);
                requireFile(dir, m, EntryFile.NAME);
                Path entries = dir.resolve(EntryFile.NAME);
                EntryFile.Summary s = c.entries().get();
                if (s.prevIndex() != m.prevIndex() || s.prevTerm() != m.prevTerm() || s.lastIndex() != m.lastIndex()
                        || s.lastTerm() != m.lastTerm()) {
                    throw new BackupException(entries, "holds entries (" + s.prevIndex() + "@" + s.prevTerm() + ", "
                            + s.lastIndex() + "@" + s.lastTerm() + "] but the manifest says (" + m.prevIndex() + "@"
                            + m.prevTerm() + ", " + m.lastIndex() + "@" + m.lastTerm() + "]; the increment cannot be"
                            + " used: take a new full backup");
                }
            }
            Backup b = new Backup(dir, m);
            out.add(b);
            prev = b;
        }
        return new BackupChain(root, out);
    }

    /**
     * What one backup's own checks found: its manifest, and for an increment the scan of its entry
     * file (or the error the scan met, raised only once the chain's links before it are checked).
     */
    private record Checked(BackupManifest manifest, ScanOutcome entries) {
    }

    private record ScanOutcome(EntryFile.Summary summary, IOException error) {
        EntryFile.Summary get() throws IOException {
            if (error != null) {
                throw error;
            }
            return summary;
        }
    }

    /** The checks of one backup that need no other backup, in the order a sequential verification makes them. */
    private static Checked checkOne(FileIo io, Path dir, BackupKey key, boolean first) throws IOException {
        Path manifestFile = dir.resolve(BackupManifest.FILE_NAME);
        BackupManifest m = BackupManifest.read(io, dir, key);
        for (BackupFile f : m.files()) {
            f.check(io, dir);
        }
        if (first) {
            if (m.kind() != BackupKind.FULL) {
                throw new BackupException(manifestFile, "is " + (m.kind() == BackupKind.INCREMENTAL ? "an" : "a")
                        + " " + m.kind().word() + " backup (parent " + m.parentId()
                        + "), but a chain must start with a full backup; put the full backup first");
            }
            requireFile(dir, m, BackupLayout.SNAPSHOT);
            if (key != null) {
                Path snapshot = dir.resolve(BackupLayout.SNAPSHOT);
                try (java.io.InputStream in = BackupCipher.decrypt(io.newInputStream(snapshot), key, m.id(),
                        BackupLayout.SNAPSHOT, snapshot)) {
                    BackupCipher.drain(in);
                }
            }
            return new Checked(m, null);
        }
        if (m.file(EntryFile.NAME) == null) {
            return new Checked(m, null); // refused by requireFile once its place in the chain is checked
        }
        try {
            return new Checked(m, new ScanOutcome(EntryFile.scan(io, dir.resolve(EntryFile.NAME), 0, null, key, m.id()),
                    null));
        } catch (IOException e) {
            return new Checked(m, new ScanOutcome(null, e));
        }
    }

    private static void requireFile(Path dir, BackupManifest m, String name) throws BackupException {
        if (m.file(name) == null) {
            throw new BackupException(dir.resolve(BackupManifest.FILE_NAME), "a " + m.kind().name().toLowerCase()
                    + " backup must list the file '" + name + "'; the manifest does not");
        }
    }

    private static void checkContinues(Path manifestFile, BackupManifest m, Backup prev, StorageTestingHooks hooks)
            throws BackupException {
        BackupManifest p = prev.manifest();
        if (!m.clusterId().equals(p.clusterId())) {
            throw new BackupException(manifestFile, "belongs to cluster '" + m.clusterId() + "' but the chain so far ("
                    + prev.dir() + ") to cluster '" + p.clusterId() + "'; a chain cannot mix clusters");
        }
        if (m.kind() == BackupKind.FULL) {
            throw new BackupException(manifestFile, "is a full backup in the middle of a chain; a full backup starts a"
                    + " new chain: restore from it (and its own increments) instead");
        }
        if (m.kind() == BackupKind.DIFFERENTIAL && p.kind() != BackupKind.FULL) {
            throw new BackupException(manifestFile, "is a differential backup after the " + p.kind().word() + " backup "
                    + prev.dir() + "; a differential holds everything since its full backup, so it follows that full"
                    + " backup directly: give the full backup, then the differential, then the later increments");
        }
        if (!hooks.acceptGappedBackupChain()
                && (!m.parentId().equals(p.id()) || m.prevIndex() != p.lastIndex() || m.prevTerm() != p.lastTerm())) {
            throw new BackupException(manifestFile, "continues backup " + m.parentId() + " after index " + m.prevIndex()
                    + "@" + m.prevTerm() + ", but the backup before it in the chain is " + prev.dir() + " (id " + p.id()
                    + ", ending at " + p.lastIndex() + "@" + p.lastTerm() + "): an increment is missing or out of"
                    + " order; give the chain in order with every increment");
        }
    }
}
