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
import dev.raftkit.storage.StorageTestingHooks;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 *
 * <p>Concurrent recovery: {@link #restore(FileIo, List, List, long, BackupKey,
 * SegmentedLogStorage.Options, int, LongConsumer)} seeds several data directories from one
 * verification, with the backups verified, the directories written and the entries decoded in
 * parallel on a bounded pool of its own ({@code raftkit restore --data a,b,c --parallelism N}).
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
    /** A batch closes at this many bytes of payload too, so large entries do not make batches huge. */
    private static final int APPEND_BATCH_BYTES = 4 << 20;
    /** Batches decoded ahead of the log's appends, per data directory. */
    private static final int QUEUE_BATCHES = 4;
    /** The default {@code parallelism} of a concurrent restore: one thread per core. */
    public static final int DEFAULT_PARALLELISM = Runtime.getRuntime().availableProcessors();

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
        return bytesToRead(chain, upToIndex, 1);
    }

    /**
     * {@link #bytesToRead(BackupChain, long)} of a restore into {@code copies} data directories
     * at once: the chain is verified once, and copied once per directory.
     */
    public static long bytesToRead(BackupChain chain, long upToIndex, int copies) {
        long target = upToIndex == LATEST ? chain.last().manifest().lastIndex() : upToIndex;
        long snapshot = sizeOf(chain.full().manifest(), BackupLayout.SNAPSHOT);
        long bytes = (1 + copies) * snapshot + (chain.full().manifest().encrypted() ? snapshot : 0);
        for (BackupChain.Backup b : chain.backups().subList(1, chain.backups().size())) {
            long entries = sizeOf(b.manifest(), EntryFile.NAME);
            bytes += 2 * entries + (b.manifest().prevIndex() < target ? (long) copies * entries : 0);
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
     * disks), writing the log with {@code logOptions} (those the node will run with). Sequential,
     * on this thread alone.
     */
    public static Result restore(FileIo io, List<Path> chain, Path dataDir, long upToIndex, BackupKey key,
                                 SegmentedLogStorage.Options logOptions) throws IOException {
        return restore(io, chain, List.of(dataDir), upToIndex, key, logOptions, 1, null, null).get(0);
    }

    /**
     * Restores {@code chain} up to {@code upToIndex} into every one of {@code dataDirs} (the nodes
     * of a new cluster, say) with up to {@code parallelism} worker threads ({@link
     * #DEFAULT_PARALLELISM}: one per core; 1: sequentially on this thread), telling {@code
     * bytesRead} (null: no one) of the bytes read; see {@link #restore(FileIo, List, List, long,
     * BackupKey, SegmentedLogStorage.Options, int, LongConsumer)}.
     */
    public static List<Result> restore(List<Path> chain, List<Path> dataDirs, long upToIndex, BackupKey key,
                                       int parallelism, LongConsumer bytesRead) throws IOException {
        return restore(FileIo.real(), chain, dataDirs, upToIndex, key, SegmentedLogStorage.Options.defaults(),
                parallelism, bytesRead);
    }

    /**
     * A concurrent restore over {@code io}: the chain is verified once, each backup's checks
     * (checksums, decryption, the entry-file scans) a task of their own, then every data directory
     * is written by a task of its own, each decoding the increments' entries on one more task
     * while it copies the snapshot and appends them (in log order) to its log. The tasks run on a
     * pool of {@code parallelism} threads made for this call and gone when it returns
     * (docs/threads.md, "Threads of a restore"); with 1, everything runs on the caller's thread,
     * one step after another, and writes exactly the same bytes.
     *
     * <p>All or nothing: a failure in any task (a damaged file, a directory that cannot be
     * written) stops the others, removes every partial directory and every data directory this
     * call created, and is thrown, naming the bad file; when several tasks fail, the error thrown
     * is that of the first in chain (then directory) order. {@code bytesRead} is called from the
     * worker threads with each read's size, one call at a time (never concurrently), so a plain
     * running sum is safe; {@link #bytesToRead(BackupChain, long, int)} says how many to expect.
     *
     * @return one result per data directory, in the order given
     */
    public static List<Result> restore(FileIo io, List<Path> chain, List<Path> dataDirs, long upToIndex, BackupKey key,
                                       SegmentedLogStorage.Options logOptions, int parallelism, LongConsumer bytesRead)
            throws IOException {
        return restore(io, chain, dataDirs, upToIndex, key, logOptions, parallelism, bytesRead, null);
    }

    /**
     * {@link #restore(FileIo, List, List, long, BackupKey, SegmentedLogStorage.Options, int,
     * LongConsumer)}, and before it reports success the state is rebuilt from what it wrote in a
     * state machine from {@code machines} (null: not checked) and its digest compared with every
     * manifest's up to the target, as {@link #restore(List, Path, long, BackupKey, LongConsumer,
     * Supplier)} does.
     */
    public static List<Result> restore(FileIo io, List<Path> chain, List<Path> dataDirs, long upToIndex, BackupKey key,
                                       SegmentedLogStorage.Options logOptions, int parallelism, LongConsumer bytesRead,
                                       Supplier<? extends StateMachine> machines) throws IOException {
        return restore(io, chain, dataDirs, upToIndex, key, logOptions, parallelism, bytesRead, machines,
                StorageTestingHooks.NONE);
    }

    /**
     * {@link #restore(FileIo, List, List, long, BackupKey, SegmentedLogStorage.Options, int,
     * LongConsumer, Supplier)} with deliberate bugs from {@code hooks} (the simulator's planted
     * bugs; {@link StorageTestingHooks#NONE} anywhere else).
     */
    public static List<Result> restore(FileIo io, List<Path> chain, List<Path> dataDirs, long upToIndex, BackupKey key,
                                       SegmentedLogStorage.Options logOptions, int parallelism, LongConsumer bytesRead,
                                       Supplier<? extends StateMachine> machines, StorageTestingHooks hooks)
            throws IOException {
        if (dataDirs.isEmpty()) {
            throw new IllegalArgumentException("a restore needs at least one data directory");
        }
        FileIo reads = bytesRead == null ? io : new ReadCountingFileIo(io, serialized(bytesRead));
        try (RestoreWorkers workers = RestoreWorkers.of(parallelism)) {
            BackupChain verified = BackupChain.verify(reads, null, chain, key, StorageTestingHooks.NONE, workers);
            return write(reads, verified, dataDirs, upToIndex, key, logOptions, workers, machines, hooks);
        }
    }

    /** {@code consumer}, called by one thread at a time. */
    private static LongConsumer serialized(LongConsumer consumer) {
        Object lock = new Object();
        return n -> {
            synchronized (lock) {
                consumer.accept(n);
            }
        };
    }

    private static Result restore(FileIo io, BackupChain chain, Path dataDir, long upToIndex, BackupKey key,
                                  SegmentedLogStorage.Options logOptions, Supplier<? extends StateMachine> machines)
            throws IOException {
        return write(io, chain, List.of(dataDir), upToIndex, key, logOptions, null, machines, StorageTestingHooks.NONE)
                .get(0);
    }

    /** Writes a verified chain into every one of {@code dataDirs}, all or nothing. */
    private static List<Result> write(FileIo io, BackupChain chain, List<Path> dataDirs, long upToIndex, BackupKey key,
                                      SegmentedLogStorage.Options logOptions, RestoreWorkers workers,
                                      Supplier<? extends StateMachine> machines, StorageTestingHooks hooks)
            throws IOException {
        BackupManifest full = chain.full().manifest();
        long chainEnd = chain.last().manifest().lastIndex();
        long target = upToIndex == LATEST ? chainEnd : upToIndex;
        if (target < full.lastIndex() || target > chainEnd) {
            throw new BackupException(chain.full().dir(), "cannot restore to index " + target + ": this chain covers "
                    + full.lastIndex() + ".." + chainEnd + "; pick an index in that range, or a chain whose full"
                    + " backup is older");
        }
        Set<Path> distinct = new HashSet<>();
        for (Path dataDir : dataDirs) {
            if (!distinct.add(dataDir.toAbsolutePath().normalize())) {
                throw new BackupException(dataDir, "is named twice among the data directories to restore into;"
                        + " give each node its own directory");
            }
            checkNewDirectory(io, dataDir);
        }
        SnapshotMeta snapshot = new SnapshotMeta(new EntryId(full.lastTerm(), full.lastIndex()), full.conf());
        List<Path> partials = new ArrayList<>();
        List<Path> placed = new ArrayList<>();
        AtomicBoolean abort = new AtomicBoolean();
        try {
            // Named here, in order, on this thread: the numbering stays a pure function of the
            // file system (the simulator's restores replay from their seed).
            for (Path dataDir : dataDirs) {
                Path parent = dataDir.toAbsolutePath().getParent();
                io.createDirectories(parent);
                Path tmp = partialDir(io, parent, dataDir);
                io.createDirectory(tmp);
                partials.add(tmp);
            }
            List<RestoreWorkers.Task<long[]>> tasks = new ArrayList<>();
            // The planted bug's directories, published as soon as written (and never taken back).
            Set<Path> early = ConcurrentHashMap.newKeySet();
            for (int i = 0; i < partials.size(); i++) {
                Path tmp = partials.get(i);
                Path dataDir = dataDirs.get(i);
                tasks.add(RestoreWorkers.submit(workers, () -> {
                    if (abort.get()) {
                        throw new Aborted(); // a directory written before failed: do not start this one
                    }
                    try {
                        long[] last = writeOne(io, chain, snapshot, target, tmp, key, logOptions, workers, abort);
                        if (hooks.publishRestoredDirectoriesEarly()) {
                            if (io.isDirectory(dataDir)) {
                                io.delete(dataDir);
                            }
                            io.move(tmp, dataDir);
                            io.syncDirectory(dataDir.toAbsolutePath().getParent());
                            early.add(tmp);
                        }
                        return last;
                    } catch (IOException | RuntimeException | Error e) {
                        abort.set(true); // the other directories stop at their next batch
                        throw e;
                    }
                }));
            }
            List<long[]> lasts = new ArrayList<>();
            Throwable failure = null;
            for (RestoreWorkers.Task<long[]> t : tasks) {
                try {
                    lasts.add(t.get());
                } catch (IOException | RuntimeException | Error e) {
                    // The first real error in order; a task that only stopped because another failed says less.
                    if (failure == null || failure instanceof Aborted && !(e instanceof Aborted)) {
                        failure = e;
                    }
                }
            }
            rethrow(failure);
            // Compared before any rename: a state that differs from its manifests' is never
            // published. Every directory holds the same bytes, so the first one stands for all.
            List<StateVerification.Check> checks = machines == null ? List.of()
                    : StateVerification.check(ReadCountingFileIo.uncounted(io),
                    early.contains(partials.get(0)) ? dataDirs.get(0) : partials.get(0), chain, target, machines,
                    logOptions);
            List<Result> results = new ArrayList<>();
            for (int i = 0; i < dataDirs.size(); i++) {
                Path dataDir = dataDirs.get(i);
                Path parent = dataDir.toAbsolutePath().getParent();
                if (!early.contains(partials.get(i))) {
                    if (io.isDirectory(dataDir)) {
                        io.delete(dataDir); // checked empty above
                    }
                    io.move(partials.get(i), dataDir);
                    placed.add(dataDir);
                    io.syncDirectory(parent);
                }
                long[] last = lasts.get(i);
                LOG.info("restored backup chain {} .. {} into {}: snapshot at {}, entries to {}", chain.full().dir(),
                        chain.last().dir(), dataDir, snapshot.last(), last[0]);
                results.add(new Result(dataDir, snapshot, last[0], last[1], full.conf(), checks));
            }
            return results;
        } catch (IOException | RuntimeException | Error e) {
            for (Path tmp : partials) {
                BackupLayout.deleteRecursively(io, tmp);
            }
            for (Path dataDir : placed) {
                BackupLayout.deleteRecursively(io, dataDir);
            }
            throw e;
        }
    }

    private static void rethrow(Throwable failure) throws IOException {
        if (failure instanceof IOException e) {
            throw e;
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }

    /** Writes one data directory's snapshot and log into {@code tmp}, fsynced; returns the last index and term. */
    private static long[] writeOne(FileIo io, BackupChain chain, SnapshotMeta snapshot, long target, Path tmp,
                                   BackupKey key, SegmentedLogStorage.Options logOptions, RestoreWorkers workers,
                                   AtomicBoolean abort) throws IOException {
        // Started first, so the entries are decoded while the snapshot is copied.
        Decoder decoder = new Decoder(io, chain, target, key, abort);
        if (workers != null) {
            workers.execute(decoder);
        }
        try {
            writeSnapshot(io, chain.full().dir(), snapshot, tmp.resolve(SNAPSHOT_DIR), key);
            long[] last = writeLog(io, decoder, snapshot, tmp.resolve(LOG_DIR), logOptions, abort);
            io.syncDirectory(tmp);
            return last;
        } finally {
            decoder.stop();
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

    /** Appends the decoder's batches in order; returns the last index and term written. */
    private static long[] writeLog(FileIo io, Decoder decoder, SnapshotMeta snapshot, Path logDir,
                                   SegmentedLogStorage.Options logOptions, AtomicBoolean abort) throws IOException {
        long[] last = {snapshot.index(), snapshot.term()};
        try (SegmentedLogStorage log = SegmentedLogStorage.open(io, logDir, logOptions)) {
            log.installSnapshot(snapshot);
            decoder.drainTo(batch -> {
                if (abort.get()) {
                    throw new Aborted();
                }
                log.append(batch);
                Entry e = batch.get(batch.size() - 1);
                last[0] = e.index();
                last[1] = e.term();
            });
            // Everything restored was committed in the source cluster: say so, so a node started
            // here applies it without waiting for a leader. No vote: this node voted for no one.
            log.setHardState(new HardState(last[1], 0, last[0]));
            log.sync();
        }
        return last;
    }

    /** Thrown by a task that stopped because another task of the same restore failed. */
    private static final class Aborted extends IOException {
        Aborted() {
            super("stopped: another part of this restore failed");
        }
    }

    /** Receives batches of entries in log order. */
    private interface BatchSink {
        void accept(List<Entry> batch) throws IOException;
    }

    /**
     * Decodes the increments' entries (up to the target) into batches, each at most {@value
     * #APPEND_BATCH} entries or {@value #APPEND_BATCH_BYTES} bytes of payload, the same batches
     * however the restore runs. On a worker it hands them over through a queue of {@value
     * #QUEUE_BATCHES} batches (the memory a restore holds is bounded, whatever its entries' size);
     * if no worker has started it by the time the log wants its first batch, the log's own
     * thread decodes as it appends, so an appender never waits for a decoder that cannot start.
     */
    private static final class Decoder implements Runnable {
        private static final Object END = new Object();
        private final FileIo io;
        private final BackupChain chain;
        private final long target;
        private final BackupKey key;
        private final AtomicBoolean abort;
        private final AtomicBoolean claimed = new AtomicBoolean();
        /** Set when the appender is done with the decoder, normally or not: a decoder still running stops. */
        private final AtomicBoolean stopped = new AtomicBoolean();
        private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(QUEUE_BATCHES);

        Decoder(FileIo io, BackupChain chain, long target, BackupKey key, AtomicBoolean abort) {
            this.io = io;
            this.chain = chain;
            this.target = target;
            this.key = key;
            this.abort = abort;
        }

        /** On a worker: decodes everything into the queue, then an end mark (or the failure). */
        @Override
        public void run() {
            if (!claimed.compareAndSet(false, true)) {
                return;
            }
            try {
                decode(this::put);
                put(END);
            } catch (Aborted e) {
                // The appender is gone; nobody waits for the rest.
            } catch (IOException | RuntimeException | Error e) {
                try {
                    put(e);
                } catch (Aborted gone) {
                    // as above
                }
            }
        }

        private void put(Object item) throws Aborted {
            try {
                while (!queue.offer(item, 50, TimeUnit.MILLISECONDS)) {
                    if (stopped.get() || abort.get()) {
                        throw new Aborted();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Aborted();
            }
        }

        /** On the appender's thread: every batch, in log order. */
        void drainTo(BatchSink sink) throws IOException {
            if (claimed.compareAndSet(false, true)) {
                decode(sink);
                return;
            }
            while (true) {
                Object item;
                try {
                    item = queue.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while restoring a backup's entries");
                }
                if (item == END) {
                    return;
                }
                if (item instanceof Throwable t) {
                    rethrow(t);
                }
                @SuppressWarnings("unchecked")
                List<Entry> batch = (List<Entry>) item;
                sink.accept(batch);
            }
        }

        void stop() {
            stopped.set(true);
        }

        private void decode(BatchSink sink) throws IOException {
            List<Entry> batch = new ArrayList<>(APPEND_BATCH);
            long[] bytes = {0};
            for (BackupChain.Backup b : chain.backups().subList(1, chain.backups().size())) {
                if (b.manifest().prevIndex() >= target) {
                    break;
                }
                EntryFile.scan(io, b.dir().resolve(EntryFile.NAME), target, e -> {
                    batch.add(e);
                    bytes[0] += e.data().length;
                    if (batch.size() == APPEND_BATCH || bytes[0] >= APPEND_BATCH_BYTES) {
                        sink.accept(List.copyOf(batch));
                        batch.clear();
                        bytes[0] = 0;
                    }
                }, key, b.manifest().id());
            }
            if (!batch.isEmpty()) {
                sink.accept(List.copyOf(batch));
            }
        }
    }
}
