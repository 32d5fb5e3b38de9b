package dev.raftkit.storage.backup;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restores a verified backup chain into a new node data directory: the full backup's snapshot
 * into a {@link FileSnapshotStore} ({@value #SNAPSHOT_DIR}/) and the increments' entries, up to
 * the target index, into a fresh {@link SegmentedLogStorage} ({@value #LOG_DIR}/) after that
 * snapshot, with a hard state whose commit index covers them. A {@code RaftServer} started on
 * those two stores restores the snapshot and applies the entries; no state machine is needed
 * here. Every node of a new cluster of the same membership can be seeded from the same chain (a new
 * cluster id), or a lost node replaced by a NEW node: remove the lost one from the configuration,
 * start the restored directory under a new id, add it as a learner (the leader brings it up to
 * date), then promote it.
 *
 * <p>Never restart a restored directory under the id of a node that is still in the configuration:
 * that node's votes and the entries it acknowledged are gone from the backup, so it could vote twice
 * in a term, or help elect a leader that lacks an entry whose commit counted its acknowledgement
 * (§3.8: a server that lost its durable state must not rejoin as itself).
 *
 * <p>Refused, with a {@link BackupException} naming the bad file, before anything is written:
 * a chain that does not verify ({@link BackupChain#verify}), a target index outside the chain, a
 * data directory that exists and is not empty. Everything is written into a temporary sibling
 * directory, fsynced, and renamed to the data directory at the end, so a failed restore leaves
 * no data directory behind. Blocking; any thread.
 */
public final class BackupRestore {

    private static final Logger LOG = LoggerFactory.getLogger(BackupRestore.class);
    /** The restored log's directory inside the data directory. */
    public static final String LOG_DIR = "log";
    /** The restored snapshot store's directory inside the data directory. */
    public static final String SNAPSHOT_DIR = "snapshots";
    /** Restore everything the chain holds. */
    public static final long LATEST = Long.MAX_VALUE;
    private static final int APPEND_BATCH = 1024;

    /**
     * What was restored.
     *
     * @param snapshot the full backup's snapshot the log starts after
     * @param lastIndex the last entry restored (the commit index written)
     * @param lastTerm  its term
     * @param conf      the configuration as of the snapshot (later changes are in the log)
     * @param checks    the state digests compared before the restore reported success, one per
     *                  backup up to the target ({@link StateVerification}); empty when no state
     *                  machine factory was given
     */
    public record Result(Path dataDir, SnapshotMeta snapshot, long lastIndex, long lastTerm, ConfState conf,
                         List<StateVerification.Check> checks) {

        public Result {
            checks = List.copyOf(checks);
        }

        /** A result without digest checks. */
        public Result(Path dataDir, SnapshotMeta snapshot, long lastIndex, long lastTerm, ConfState conf) {
            this(dataDir, snapshot, lastIndex, lastTerm, conf, List.of());
        }
    }

    private BackupRestore() {
    }

    /** Restores the newest chain of {@code root} to its last index. */
    public static Result restoreLatest(Path root, Path dataDir) throws IOException {
        return restoreLatest(root, dataDir, null);
    }

    /** Restores the newest chain of {@code root}, encrypted with {@code key} (null: plaintext), to its last index. */
    public static Result restoreLatest(Path root, Path dataDir, BackupKey key) throws IOException {
        return restore(FileIo.real(), BackupChain.discover(root, key), dataDir, LATEST, key,
                SegmentedLogStorage.Options.defaults(), null);
    }

    /**
     * Verifies {@code chain} (full backup first, then its increments in order) and restores it
     * up to {@code upToIndex} inclusive ({@link #LATEST}: all of it) into {@code dataDir}.
     */
    public static Result restore(List<Path> chain, Path dataDir, long upToIndex) throws IOException {
        return restore(chain, dataDir, upToIndex, null);
    }

    /**
     * {@link #restore(List, Path, long)} of a chain encrypted with {@code key} (null: plaintext):
     * the data files are decrypted and authenticated as they are restored.
     */
    public static Result restore(List<Path> chain, Path dataDir, long upToIndex, BackupKey key) throws IOException {
        return restore(FileIo.real(), chain, dataDir, upToIndex, key, SegmentedLogStorage.Options.defaults());
    }

    /**
     * {@link #restore(List, Path, long, BackupKey)}, telling {@code bytesRead}, on this thread, of
     * every byte it reads from the chain (verifying it, then copying it): {@link #bytesToRead} says
     * how many to expect, so a caller can show how far it has got and the time left.
     */
    public static Result restore(List<Path> chain, Path dataDir, long upToIndex, BackupKey key,
                                 LongConsumer bytesRead) throws IOException {
        return restore(new ReadCountingFileIo(FileIo.real(), bytesRead), chain, dataDir, upToIndex, key,
                SegmentedLogStorage.Options.defaults());
    }

    /**
     * {@link #restore(List, Path, long, BackupKey, LongConsumer)}, and before it reports success,
     * the state is rebuilt from what it wrote in a state machine from {@code machines} (of the
     * cluster's kind) and its digest compared with every manifest's up to the target
     * ({@link StateVerification}); on a mismatch everything it wrote is deleted and the
     * {@link BackupException} names the backup and both digests.
     */
    public static Result restore(List<Path> chain, Path dataDir, long upToIndex, BackupKey key,
                                 LongConsumer bytesRead, Supplier<? extends StateMachine> machines) throws IOException {
        return restore(new ReadCountingFileIo(FileIo.real(), bytesRead), chain, dataDir, upToIndex, key,
                SegmentedLogStorage.Options.defaults(), machines);
    }

    /**
     * {@link #restore(FileIo, List, Path, long, BackupKey, SegmentedLogStorage.Options)}, checking
     * the restored state's digests first as {@link #restore(List, Path, long, BackupKey, LongConsumer,
     * Supplier)} does.
     */
    public static Result restore(FileIo io, List<Path> chain, Path dataDir, long upToIndex, BackupKey key,
                                 SegmentedLogStorage.Options logOptions, Supplier<? extends StateMachine> machines)
            throws IOException {
        return restore(io, BackupChain.verify(io, null, chain, key), dataDir, upToIndex, key, logOptions, machines);
    }

    /**
     * About how many bytes a restore of {@code chain} up to {@code upToIndex} ({@link #LATEST}: all
     * of it) reads: verification reads every file once (an encrypted snapshot twice: its checksum,
     * then its authentication) and every entry file once more to check its entries; the restore
     * then copies the snapshot and the entry files that reach the target. The manifests' own few
     * bytes are left out.
     */
    public static long bytesToRead(BackupChain chain, long upToIndex) {
        long target = upToIndex == LATEST ? chain.last().manifest().lastIndex() : upToIndex;
        long snapshot = sizeOf(chain.full().manifest(), BackupLayout.SNAPSHOT);
        long bytes = 2 * snapshot + (chain.full().manifest().encrypted() ? snapshot : 0);
        for (BackupChain.Backup b : chain.backups().subList(1, chain.backups().size())) {
            long entries = sizeOf(b.manifest(), EntryFile.NAME);
            bytes += 2 * entries + (b.manifest().prevIndex() < target ? entries : 0);
        }
        return bytes;
    }

    /** The size the manifest records for its file {@code name}; 0 if it lists none (verification refuses it). */
    private static long sizeOf(BackupManifest m, String name) {
        BackupFile f = m.file(name);
        return f == null ? 0 : f.sizeBytes();
    }

    /**
     * {@link #restore(List, Path, long, BackupKey)} over the file system {@code io} (the chain is
     * read from it and the data directory written to it; the simulator restores on its own
     * disks), writing the log with {@code logOptions} (those the node will run with).
     */
    public static Result restore(FileIo io, List<Path> chain, Path dataDir, long upToIndex, BackupKey key,
                                 SegmentedLogStorage.Options logOptions) throws IOException {
        return restore(io, BackupChain.verify(io, null, chain, key), dataDir, upToIndex, key, logOptions, null);
    }

    private static Result restore(FileIo io, BackupChain chain, Path dataDir, long upToIndex, BackupKey key,
                                  SegmentedLogStorage.Options logOptions, Supplier<? extends StateMachine> machines)
            throws IOException {
        BackupManifest full = chain.full().manifest();
        long chainEnd = chain.last().manifest().lastIndex();
        long target = upToIndex == LATEST ? chainEnd : upToIndex;
        if (target < full.lastIndex() || target > chainEnd) {
            throw new BackupException(chain.full().dir(), "cannot restore to index " + target + ": this chain covers "
                    + full.lastIndex() + ".." + chainEnd + "; pick an index in that range, or a chain whose full"
                    + " backup is older");
        }
        checkNewDirectory(io, dataDir);
        Path parent = dataDir.toAbsolutePath().getParent();
        io.createDirectories(parent);
        Path tmp = partialDir(io, parent, dataDir);
        try {
            io.createDirectory(tmp);
            SnapshotMeta snapshot = new SnapshotMeta(new EntryId(full.lastTerm(), full.lastIndex()), full.conf());
            writeSnapshot(io, chain.full().dir(), snapshot, tmp.resolve(SNAPSHOT_DIR), key);
            long[] last = writeLog(io, chain, snapshot, target, tmp.resolve(LOG_DIR), key, logOptions);
            io.syncDirectory(tmp);
            // Compared before the rename: a state that differs from its manifests' is never published.
            List<StateVerification.Check> checks = machines == null ? List.of()
                    : StateVerification.check(ReadCountingFileIo.uncounted(io), tmp, chain, target, machines,
                    logOptions);
            if (io.isDirectory(dataDir)) {
                io.delete(dataDir); // checked empty above
            }
            io.move(tmp, dataDir);
            io.syncDirectory(parent);
            LOG.info("restored backup chain {} .. {} into {}: snapshot at {}, entries to {}", chain.full().dir(),
                    chain.last().dir(), dataDir, snapshot.last(), last[0]);
            return new Result(dataDir, snapshot, last[0], last[1], full.conf(), checks);
        } catch (IOException | RuntimeException e) {
            BackupLayout.deleteRecursively(io, tmp);
            throw e;
        }
    }

    /**
     * The first partial directory name no earlier (failed) restore left behind in {@code parent}:
     * numbered, not random, so a simulated restore is a pure function of its seed. Two restores
     * racing for one name fail cleanly on the directory's creation.
     */
    private static Path partialDir(FileIo io, Path parent, Path dataDir) {
        for (int n = 0; ; n++) {
            Path p = parent.resolve(BackupLayout.PARTIAL_PREFIX + dataDir.getFileName() + "-" + n);
            if (!io.exists(p)) {
                return p;
            }
        }
    }

    private static void checkNewDirectory(FileIo io, Path dataDir) throws IOException {
        if (!io.exists(dataDir)) {
            return;
        }
        if (!io.isDirectory(dataDir) || !io.list(dataDir).isEmpty()) {
            throw new BackupException(dataDir, "exists and is not empty; a restore writes only into a new data directory"
                    + " (move or delete this one first)");
        }
    }

    /** Copies the snapshot, checking its bytes once more: they may have changed since verification. */
    private static void writeSnapshot(FileIo io, Path backupDir, SnapshotMeta meta, Path storeDir, BackupKey key)
            throws IOException {
        Path source = backupDir.resolve(BackupLayout.SNAPSHOT);
        BackupManifest manifest = BackupManifest.read(io, backupDir, key);
        BackupFile expected = manifest.file(BackupLayout.SNAPSHOT);
        try (FileSnapshotStore store = FileSnapshotStore.open(io, storeDir);
             SnapshotWriter w = store.begin(meta);
             InputStream disk = io.newInputStream(source)) {
            // The manifest measures the bytes on disk (the ciphertext when encrypted): measure those.
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            long[] size = {0};
            InputStream measured = new java.io.FilterInputStream(disk) {
                @Override
                public int read() throws IOException {
                    int b = super.read();
                    if (b >= 0) {
                        crc.update(b);
                        size[0]++;
                    }
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = super.read(b, off, len);
                    if (n > 0) {
                        crc.update(b, off, n);
                        size[0] += n;
                    }
                    return n;
                }
            };
            InputStream in = key == null ? measured
                    : BackupCipher.decrypt(measured, key, manifest.id(), BackupLayout.SNAPSHOT, source);
            BackupFile.copy(BackupLayout.SNAPSHOT, in, w.output());
            BackupFile copied = new BackupFile(BackupLayout.SNAPSHOT, size[0], (int) crc.getValue());
            if (copied.sizeBytes() != expected.sizeBytes() || copied.crc32c() != expected.crc32c()) {
                throw new BackupException(source, "changed while it was being restored (now " + copied.sizeBytes()
                        + " bytes, CRC32C " + BackupFile.hex(copied.crc32c()) + "); restore again from an unchanging copy");
            }
            w.commit();
        }
    }

    /** Returns the last index and term written. */
    private static long[] writeLog(FileIo io, BackupChain chain, SnapshotMeta snapshot, long target, Path logDir,
                                   BackupKey key, SegmentedLogStorage.Options logOptions) throws IOException {
        long[] last = {snapshot.index(), snapshot.term()};
        try (SegmentedLogStorage log = SegmentedLogStorage.open(io, logDir, logOptions)) {
            log.installSnapshot(snapshot);
            List<Entry> batch = new ArrayList<>(APPEND_BATCH);
            for (BackupChain.Backup b : chain.backups().subList(1, chain.backups().size())) {
                if (b.manifest().prevIndex() >= target) {
                    break;
                }
                EntryFile.scan(io, b.dir().resolve(EntryFile.NAME), target, e -> {
                    batch.add(e);
                    last[0] = e.index();
                    last[1] = e.term();
                    if (batch.size() == APPEND_BATCH) {
                        log.append(List.copyOf(batch));
                        batch.clear();
                    }
                }, key, b.manifest().id());
            }
            if (!batch.isEmpty()) {
                log.append(List.copyOf(batch));
            }
            // Everything restored was committed in the source cluster: say so, so a node started
            // here applies it without waiting for a leader. No vote: this node voted for no one.
            log.setHardState(new HardState(last[1], 0, last[0]));
            log.sync();
        }
        return last;
    }
}
