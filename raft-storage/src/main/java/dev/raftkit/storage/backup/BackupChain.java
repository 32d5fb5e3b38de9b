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

/**
 * A chain of backups: one full backup, then incrementals, each continuing the one before it.
 * {@link #verify} checks a chain without restoring it; {@link #discover} finds the newest chain
 * in a backup root.
 *
 * @param root    where the backups were found, or null for a chain given backup by backup
 * @param backups the backups in chain order, each with its manifest
 */
public record BackupChain(Path root, List<Backup> backups) {

    /** One backup: its directory and its manifest. */
    public record Backup(Path dir, BackupManifest manifest) {
    }

    public BackupChain {
        backups = List.copyOf(backups);
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
        return verify(io, root, resolve(io, root, key, hooks).stream().map(Backup::dir).toList(), key, hooks);
    }

    /** The newest chain of {@code root} by its manifests alone (no data file is read), full backup first. */
    static List<Backup> resolve(FileIo io, Path root, BackupKey key) throws IOException {
        return resolve(io, root, key, StorageTestingHooks.NONE);
    }

    private static List<Backup> resolve(FileIo io, Path root, BackupKey key, StorageTestingHooks hooks)
            throws IOException {
        Map<String, Backup> byId = new HashMap<>();
        Backup newest = null;
        for (Path dir : backupDirs(io, root)) {
            Backup b = new Backup(dir, BackupManifest.read(io, dir, key));
            Backup dup = byId.put(b.manifest().id(), b);
            if (dup != null) {
                throw new BackupException(dir, "has the same backup id " + b.manifest().id() + " as " + dup.dir()
                        + "; keep one copy only");
            }
            if (newest == null || b.manifest().sequence() > newest.manifest().sequence()) {
                newest = b;
            }
        }
        if (newest == null) {
            throw new BackupException(root, "holds no backups; take a full backup first");
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
     * CRC32C, each incremental's entry file (header, every record, the index sequence), that the
     * chain starts with a full backup, that each incremental names the backup before it as its
     * parent and continues its index and term, and that every backup has the same cluster id.
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
                throw new BackupException(manifestFile, "is an incremental backup (parent " + m.parentId()
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
        if (m.kind() != BackupKind.INCREMENTAL) {
            throw new BackupException(manifestFile, "is a full backup in the middle of a chain; a full backup starts a"
                    + " new chain: restore from it (and its own increments) instead");
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
