package dev.raftkit.storage.backup;

import dev.raftkit.core.confchange.Changer;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.log.LogCompactedException;
import dev.raftkit.runtime.DigestedSnapshot;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.StateDigestAt;
import dev.raftkit.runtime.StateReplay;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.storage.FileIo;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes online backups of a running {@link RaftServer} — leader or follower — into a backup root
 * directory (layout in docs/storage-format.md, "Backups"), for any state machine: a full backup
 * copies a snapshot taken now ({@link RaftServer#snapshotNow()}), an incremental one exports the
 * committed log entries since the newest backup in the root ({@link RaftServer#readCommitted}).
 * After each backup the server's log is pinned ({@link RaftServer#retainLogFrom}) just past it, so
 * the next incremental finds its entries; when it does not (the node restarted, installed a
 * snapshot from the leader, or another node took the previous backup and this one compacted),
 * the incremental falls back to a full backup and says so in its {@link Result} and the log.
 *
 * <p><b>Threads:</b> {@link #full()}, {@link #differential()} and {@link #incremental()} block the
 * caller (copying files on the caller's thread and waiting on the server's futures, each wait at
 * most {@code timeout}, the stall limit: the backup as a whole may take as long as it needs);
 * call them from an admin or scheduler thread, never from a {@code RaftServer} callback.
 * {@link #fullAsync} and {@link #incrementalAsync} block no one: every file step runs on the
 * executor given, every wait is a callback (this is how the simulator runs backups on its one
 * thread); they have no timeout of their own. One backup runs at a time per service; the cluster
 * keeps serving meanwhile. A backup is durable (files and directories fsynced) when the call
 * returns or the future completes; a failed or interrupted backup leaves only a {@code .partial-}
 * directory, which is never part of a chain.
 */
public final class BackupService {

    private static final Logger LOG = LoggerFactory.getLogger(BackupService.class);
    /** Bytes of entries read from the server per request: bounds memory, amortises the hop to its loop. */
    private static final long READ_BATCH_BYTES = 4L << 20;
    private static final int FULL_ATTEMPTS = 3;

    /**
     * What a backup call produced.
     *
     * @param backup         the new backup: its directory and manifest
     * @param fallbackReason why a full backup was taken although an incremental one was asked for,
     *                       or null
     * @param staleReason    why the backup may miss writes acknowledged before it began (the node
     *                       could not get a read index from a leader, so it holds what this node
     *                       had applied), or null: it holds every write acknowledged before
     */
    public record Result(BackupChain.Backup backup, String fallbackReason, String staleReason) {

        public Result(BackupChain.Backup backup, String fallbackReason) {
            this(backup, fallbackReason, null);
        }

        public boolean fellBackToFull() {
            return fallbackReason != null;
        }

        public BackupManifest manifest() {
            return backup.manifest();
        }
    }

    private final RaftServer server;
    private final SnapshotStore snapshots;
    private final String clusterId;
    private final Path root;
    private final Clock clock;
    private final Duration timeout;
    private final BackupKey key;
    private final FileIo io;
    private final Supplier<String> ids;
    private final AtomicBoolean running = new AtomicBoolean();
    /** The running backup's progress; null when none runs. */
    private volatile Progress progress;

    /**
     * How far the running backup has got, for a caller that waits on it to show (an admin client,
     * a status page).
     *
     * @param kind  what is being taken (FULL once an incremental fell back)
     * @param phase what it is doing, in words ("taking a snapshot", "copying the snapshot", "reading the state digest", "copying entries")
     * @param done  units done in this phase
     * @param total units this phase will take; 0 while not known (the node is still taking its snapshot)
     * @param unit  {@code "bytes"} (a full backup's snapshot) or {@code "entries"} (an incremental)
     */
    public record Progress(BackupKind kind, String phase, long done, long total, String unit) {
    }

    /**
     * @param server    the node to back up (running)
     * @param snapshots the snapshot store that server writes to (to copy the snapshot it takes)
     * @param clusterId names the cluster in every manifest; a chain never mixes clusters
     * @param root      the backup root; created if missing
     * @param clock     stamps {@code created-at} in manifests (metadata only)
     * @param timeout   the longest wait of {@link #full()} and {@link #incremental()} for any one
     *                  step of the server (snapshot, a batch of entries)
     */
    public BackupService(RaftServer server, SnapshotStore snapshots, String clusterId, Path root, Clock clock,
                         Duration timeout) {
        this(builder(server, snapshots, clusterId, root).clock(clock).timeout(timeout));
    }

    /**
     * As {@link #BackupService(RaftServer, SnapshotStore, String, Path, Clock, Duration)}; with a
     * {@code key} every data file is encrypted (AES-256-GCM) and every manifest authenticated
     * (HMAC-SHA256) with it, and the chain it continues must be encrypted with the same key.
     */
    public BackupService(RaftServer server, SnapshotStore snapshots, String clusterId, Path root, Clock clock,
                         Duration timeout, BackupKey key) {
        this(builder(server, snapshots, clusterId, root).clock(clock).timeout(timeout).key(key));
    }

    /** With the system clock and a one-minute step timeout. */
    public BackupService(RaftServer server, SnapshotStore snapshots, String clusterId, Path root) {
        this(builder(server, snapshots, clusterId, root));
    }

    /** With the system clock, a one-minute step timeout, and {@code key} (null: plaintext backups). */
    public BackupService(RaftServer server, SnapshotStore snapshots, String clusterId, Path root, BackupKey key) {
        this(builder(server, snapshots, clusterId, root).key(key));
    }

    private BackupService(Builder b) {
        this.server = b.server;
        this.snapshots = b.snapshots;
        this.clusterId = b.clusterId;
        this.root = b.root;
        this.clock = b.clock;
        this.timeout = b.timeout;
        this.key = b.key;
        this.io = b.io;
        this.ids = b.ids;
    }

    /** A service for {@code server}, whose snapshots are in {@code snapshots}, into {@code root}; see {@link Builder}. */
    public static Builder builder(RaftServer server, SnapshotStore snapshots, String clusterId, Path root) {
        return new Builder(server, snapshots, clusterId, root);
    }

    /** Settings of a {@link BackupService}; each has the default the constructors use. */
    public static final class Builder {
        private final RaftServer server;
        private final SnapshotStore snapshots;
        private final String clusterId;
        private final Path root;
        private Clock clock = Clock.systemUTC();
        private Duration timeout = Duration.ofMinutes(1);
        private BackupKey key;
        private FileIo io = FileIo.real();
        private Supplier<String> ids = () -> UUID.randomUUID().toString();

        private Builder(RaftServer server, SnapshotStore snapshots, String clusterId, Path root) {
            this.server = Objects.requireNonNull(server, "server");
            this.snapshots = Objects.requireNonNull(snapshots, "snapshots");
            this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
            this.root = Objects.requireNonNull(root, "root");
        }

        /** Stamps {@code created-at} in manifests (metadata only). Default: the system clock. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * The stall limit of the blocking calls: the longest wait for any one step of the server (a
         * snapshot, a batch of entries). A backup that keeps making steps has no limit on its total
         * time. Default: one minute.
         */
        public Builder timeout(Duration timeout) {
            this.timeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /** Encrypts and authenticates every backup with {@code key}; null (the default): plaintext. */
        public Builder key(BackupKey key) {
            this.key = key;
            return this;
        }

        /** The file system the backup root is on. Default: the real one. */
        public Builder fileIo(FileIo io) {
            this.io = Objects.requireNonNull(io, "io");
            return this;
        }

        /** Names each new backup (its manifest id); must not repeat. Default: random UUIDs. */
        public Builder ids(Supplier<String> ids) {
            this.ids = Objects.requireNonNull(ids, "ids");
            return this;
        }

        public BackupService build() {
            return new BackupService(this);
        }
    }

    /** Takes a full backup: a snapshot at the index the server has applied now, copied with a manifest. */
    public synchronized Result full() throws IOException {
        return blocking(ex -> fullAsync(ex));
    }

    /**
     * Takes an incremental backup: the entries committed since the newest backup in the root, up
     * to the index the node has applied now (its state digest is read there). Falls back to a full
     * backup (and says why) if the root holds no backup yet or the server's log no longer holds
     * the first entry needed.
     *
     * @throws BackupException if the root's newest chain is damaged or of another cluster
     */
    public synchronized Result incremental() throws IOException {
        return blocking(ex -> incrementalAsync(ex));
    }

    /**
     * Takes a differential backup: every entry committed since the full backup of the root's newest
     * chain, up to the commit index now. The entries the chain's backups already hold are copied
     * from them, the rest read from the node's log, so the log need stay pinned only past the
     * newest backup. Falls back to a full backup (and says why) as {@link #incremental()} does,
     * and when the chain's backups cannot be read.
     *
     * @throws BackupException if the root's newest chain is of another cluster
     */
    public synchronized Result differential() throws IOException {
        return blocking(ex -> differentialAsync(ex));
    }

    /** Takes a backup of {@code kind}: {@link #full()}, {@link #incremental()} or {@link #differential()}. */
    public Result take(BackupKind kind) throws IOException {
        return switch (kind) {
            case FULL -> full();
            case INCREMENTAL -> incremental();
            case DIFFERENTIAL -> differential();
        };
    }

    /**
     * {@link #full()} without blocking: file steps run on {@code files}, which may block (on the
     * disk); it must not be a server thread. The future fails with the {@link IOException} the
     * blocking call would throw, or {@link IllegalStateException} if a backup is running already.
     */
    public CompletableFuture<Result> fullAsync(Executor files) {
        return exclusive(() -> new Job(files).full(null));
    }

    /** {@link #incremental()} without blocking; as {@link #fullAsync}. */
    public CompletableFuture<Result> incrementalAsync(Executor files) {
        return exclusive(() -> new Job(files).incremental());
    }

    /** {@link #differential()} without blocking; as {@link #fullAsync}. */
    public CompletableFuture<Result> differentialAsync(Executor files) {
        return exclusive(() -> new Job(files).differential());
    }

    /** The backup root this service writes into. */
    public Path root() {
        return root;
    }

    /**
     * Removes the {@code .partial-} directories a backup killed half-way (a crash, a power cut)
     * left in {@code root}, logging each; returns what it removed. Only call it when no backup is
     * being written into {@code root}: every backup of this service calls it before it starts (one
     * backup at a time per root), and a node calls it on its backup root as it starts.
     */
    public static List<Path> removePartials(FileIo io, Path root) throws IOException {
        if (!io.isDirectory(root)) {
            return List.of();
        }
        List<Path> removed = new java.util.ArrayList<>();
        for (String name : io.list(root)) {
            if (name.startsWith(BackupLayout.PARTIAL_PREFIX) && io.isDirectory(root.resolve(name))) {
                io.deleteRecursively(root.resolve(name));
                removed.add(root.resolve(name));
                LOG.warn("removed {}: a backup that was cut off half-way (it is never part of a chain)",
                        root.resolve(name));
            }
        }
        if (!removed.isEmpty()) {
            io.syncDirectory(root);
        }
        return removed;
    }

    /** The running backup's progress, or null if none runs. Any thread. */
    public Progress progress() {
        return progress;
    }

    private CompletableFuture<Result> exclusive(Supplier<CompletableFuture<Result>> start) {
        if (!running.compareAndSet(false, true)) {
            return CompletableFuture.failedFuture(new IllegalStateException("a backup into " + root
                    + " is running already on this service; wait for it"));
        }
        CompletableFuture<Result> f;
        try {
            f = start.get();
        } catch (RuntimeException e) {
            running.set(false);
            throw e;
        }
        f.whenComplete((r, t) -> {
            progress = null;
            running.set(false);
        });
        return f;
    }

    /**
     * Runs an asynchronous backup's file steps on this thread until it completes, waiting at most
     * {@code timeout} for each next step (the server's snapshot, a batch of entries).
     */
    private Result blocking(Function<Executor, CompletableFuture<Result>> start) throws IOException {
        LinkedBlockingQueue<Runnable> steps = new LinkedBlockingQueue<>();
        // Once this caller gives up, what is left of the job (cleaning up its partial directory)
        // runs wherever the server completes a late answer.
        AtomicBoolean driving = new AtomicBoolean(true);
        CompletableFuture<Result> f = start.apply(step -> {
            if (driving.get()) {
                steps.add(step);
            } else {
                step.run();
            }
        });
        try {
            while (!f.isDone()) {
                Runnable step = steps.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (step == null) {
                    driving.set(false);
                    f.cancel(false);
                    throw new IOException("backup from node " + server.id() + " stalled: no progress for " + timeout
                            + " (no snapshot or batch of entries came from the node; the stall limit, not the"
                            + " backup's length, ended it); is the node running and its disk answering? Retry later,"
                            + " or raise the stall limit for a state that takes longer to snapshot");
                }
                step.run();
            }
        } catch (InterruptedException e) {
            driving.set(false);
            f.cancel(false);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted during a backup from node " + server.id());
        }
        try {
            return f.join();
        } catch (CompletionException e) {
            throw asIo(e.getCause());
        }
    }

    private IOException asIo(Throwable t) {
        if (t instanceof IOException io) {
            return io;
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        return new IOException("backup from node " + server.id() + " failed: " + t, t);
    }

    /** A step of file work that may fail. */
    private interface Step<T> {
        T run() throws IOException;
    }

    /**
     * One backup as it runs: every file step on {@code files}, every wait a callback. It never
     * blocks on the server, and runs file work on a server thread only to clean up after a
     * blocking caller gave up. Once its future is done (completed, failed, or cancelled by a
     * timed-out caller) later steps only clean up.
     */
    private final class Job {
        private final Executor files;
        private final CompletableFuture<Result> done = new CompletableFuture<>();
        private Path tmp;
        private EntryFile.Writer writer;
        /** An incremental's first leader timestamp, and the log time reached, as its entries are copied. */
        private Instant firstTime;
        private Instant lastTime;
        /** Set when the read barrier failed: see {@link Result#staleReason}. */
        private String staleReason;

        Job(Executor files) {
            this.files = files;
            done.whenComplete((r, t) -> {
                if (done.isCancelled()) {
                    files.execute(this::cleanUp);
                }
            });
        }

        /** Runs {@code step} on the file executor; a failure fails the backup, cleaning up. */
        private void onFiles(Runnable step) {
            try {
                files.execute(() -> {
                    if (done.isDone()) {
                        cleanUp();
                        return;
                    }
                    try {
                        step.run();
                    } catch (RuntimeException e) {
                        fail(e);
                    }
                });
            } catch (RuntimeException rejected) {
                fail(rejected);
            }
        }

        /** When {@code f} completes, {@code then} runs on the file executor with its value or failure. */
        private <T> void after(CompletableFuture<T> f, java.util.function.BiConsumer<T, Throwable> then) {
            f.whenComplete((v, t) -> onFiles(() -> then.accept(v, t instanceof CompletionException c ? c.getCause() : t)));
        }

        private void fail(Throwable t) {
            cleanUp();
            done.completeExceptionally(t);
        }

        private synchronized void cleanUp() {
            if (writer != null) {
                try {
                    writer.close();
                } catch (IOException | RuntimeException ignored) {
                    // The partial directory goes with it.
                }
                writer = null;
            }
            if (tmp != null) {
                BackupLayout.deleteRecursively(io, tmp);
                tmp = null;
            }
        }

        /** What earlier backups cut off half-way left in the root; this job's own directory is not made yet. */
        private void cleanPartials() throws IOException {
            if (tmp == null) {
                removePartials(io, root);
            }
        }

        /** Runs {@code step} inline, on the file executor's thread; null (the backup failed) if it threw. */
        private <T> T attempt(Step<T> step) {
            try {
                return step.run();
            } catch (IOException | RuntimeException e) {
                fail(e);
                return null;
            }
        }

        CompletableFuture<Result> full(String fallbackReason) {
            afterBarrier(BackupKind.FULL, () -> startFull(fallbackReason));
            return done;
        }

        /**
         * Runs {@code start} on the file executor once this node has applied a read index (§6.4),
         * so a backup taken anywhere — a follower spares the leader — holds every write acknowledged
         * before it was asked for: a follower applies a commit only after the leader's next message.
         * A node that cannot get the index (no leader: a partition, or the last survivor) still takes
         * the backup, of what it has applied, and says so: that is what a disaster leaves to save.
         */
        private void afterBarrier(BackupKind kind, Runnable start) {
            progress = new Progress(kind, "waiting to apply every acknowledged write", 0, 0,
                    kind == BackupKind.FULL ? "bytes" : "entries");
            after(server.readBarrier(), (index, t) -> {
                if (t != null) {
                    staleReason = "node " + server.id() + " got no read index from a leader (" + t.getMessage()
                            + "), so the backup holds what it had applied, index " + server.status().applied()
                            + ", and may miss writes acknowledged before it";
                    LOG.warn("backup of cluster {}: {}", clusterId, staleReason);
                }
                start.run();
            });
        }

        private void startFull(String fallbackReason) {
            if (fallbackReason != null) {
                LOG.warn("incremental backup of cluster {} from node {} fell back to a full backup: {}", clusterId,
                        server.id(), fallbackReason);
            }
            // Pin before the snapshot, at or below its index + 1: a threshold snapshot compacting in
            // between must not take the entries the next incremental will export.
            server.retainLogFrom(Math.max(1, server.status().applied() + 1));
            progress = new Progress(BackupKind.FULL, "taking a snapshot", 0, 0, "bytes");
            Long sequence = attempt(() -> {
                cleanPartials();
                return BackupLayout.nextSequence(io, root);
            });
            if (sequence != null) {
                snapshotAttempt(fallbackReason, sequence, 0, null);
            }
        }

        private void snapshotAttempt(String fallbackReason, long sequence, int attempt, IOException last) {
            if (attempt == FULL_ATTEMPTS) {
                fail(new IOException("node " + server.id() + "'s snapshots were replaced faster than they could be"
                        + " copied " + FULL_ATTEMPTS + " times; raise snapshotsToKeep or the snapshot thresholds and"
                        + " retry", last));
                return;
            }
            // With the digest read at the capture: the state at exactly the snapshot's index.
            after(server.snapshotNowWithDigest(), (d, t) -> {
                if (t != null) {
                    fail(t instanceof IOException ? t : new IOException("backup from node " + server.id()
                            + " failed while taking a snapshot: " + t, t));
                    return;
                }
                try {
                    done.complete(publishFull(d, fallbackReason, sequence));
                } catch (SnapshotGone gone) {
                    // Newer snapshots pushed it out of the store before it was copied: take another.
                    cleanUp();
                    snapshotAttempt(fallbackReason, sequence, attempt + 1, gone);
                } catch (IOException | RuntimeException e) {
                    fail(e);
                }
            });
        }

        private Result publishFull(DigestedSnapshot ds, String fallbackReason, long sequence) throws IOException {
            SnapshotDescriptor d = ds.snapshot();
            String id = ids.get();
            tmp = partialDir(id);
            BackupFile copied = copySnapshot(d, tmp.resolve(BackupLayout.SNAPSHOT), id);
            Instant time = logTime(ds.state().logTimeMillis());
            BackupManifest m = new BackupManifest(id, clusterId, BackupKind.FULL,
                    sequence, null, server.id(), 0, 0, d.meta().index(), d.meta().term(), d.meta().conf(),
                    clock.instant(), fallbackReason, List.of(copied), key == null ? null : key.id())
                    .withState(ds.state().digest(), time, time);
            BackupChain.Backup b = publish(tmp, m);
            tmp = null;
            server.retainLogFrom(d.meta().index() + 1);
            LOG.info("full backup {} of cluster {} from node {}: snapshot at {} ({} bytes), state {}{}", b.dir(),
                    clusterId, server.id(), d.meta().last(), copied.sizeBytes(), m.stateDigest(),
                    fallbackReason == null ? "" : " (instead of an incremental one)");
            return new Result(b, fallbackReason, staleReason);
        }

        CompletableFuture<Result> incremental() {
            afterBarrier(BackupKind.INCREMENTAL, () -> startEntries(BackupKind.INCREMENTAL));
            return done;
        }

        CompletableFuture<Result> differential() {
            afterBarrier(BackupKind.DIFFERENTIAL, () -> startEntries(BackupKind.DIFFERENTIAL));
            return done;
        }

        /**
         * What an incremental or differential continues and how far it goes: {@code head} is the
         * root's newest backup (the next sequence follows it), {@code base} the backup its entries
         * follow (the head for an incremental, the chain's full backup for a differential);
         * {@code state} is the node's state at {@code to}, or null when the node had applied less
         * than the head covers.
         */
        private record Increment(BackupKind kind, BackupChain.Backup head, BackupChain.Backup base, long to,
                                 long sequence, String id, StateDigestAt state) {
        }

        /**
         * The backup ends at the index the apply thread had applied when it digested the state,
         * between two batches, rather than at the commit index: so the manifest's digest is the
         * state at exactly its last entry (applied entries are committed, so they can be read).
         */
        private void startEntries(BackupKind kind) {
            progress = new Progress(kind, "reading the state digest", 0, 0, "entries");
            after(server.stateDigest(), (at, t) -> {
                if (t != null) {
                    fail(t instanceof IOException ? t : new IOException("backup from node " + server.id()
                            + " failed while reading its state's digest: " + t, t));
                    return;
                }
                continueEntries(kind, at);
            });
        }

        private void continueEntries(BackupKind kind, StateDigestAt at) {
            String[] copyFailed = {null};
            Increment inc = attempt(() -> {
                if (BackupChain.backupDirs(io, root).isEmpty()) {
                    return null;
                }
                cleanPartials();
                List<BackupChain.Backup> chain = BackupChain.resolve(io, root, key);
                BackupChain.Backup head = chain.get(chain.size() - 1);
                BackupManifest parent = head.manifest();
                if (!parent.clusterId().equals(clusterId)) {
                    throw new BackupException(head.dir().resolve(BackupManifest.FILE_NAME), "the newest backup in the"
                            + " root is of cluster '" + parent.clusterId() + "', this service backs up cluster '"
                            + clusterId + "'; use a backup root per cluster");
                }
                BackupChain.Backup base = kind == BackupKind.DIFFERENTIAL ? chain.get(0) : head;
                long to = Math.max(parent.lastIndex(), at.index());
                long from = base.manifest().lastIndex();
                String id = ids.get();
                tmp = partialDir(id);
                writer = new EntryFile.Writer(io, tmp.resolve(EntryFile.NAME), from, base.manifest().lastTerm(),
                        to - from, key, id);
                // The times of the entries this backup holds: those copied from the chain count too.
                firstTime = null;
                lastTime = base.manifest().lastTime();
                progress = new Progress(kind, "copying entries", 0, to - from, "entries");
                if (kind == BackupKind.DIFFERENTIAL) {
                    // Everything the chain's own backups hold after its full backup is copied from
                    // them, not read from the node: the node's log is pinned only just past the
                    // newest backup, so a week of entries since the full backup need not stay in
                    // it. Only the entries after the newest backup come from the log below.
                    try {
                        copyFromChain(chain.subList(1, chain.size()), from, to);
                    } catch (IOException e) {
                        copyFailed[0] = "the chain's backups after " + base.dir().getFileName()
                                + " could not be copied into the differential: " + e.getMessage();
                        cleanUp();
                        return null;
                    }
                }
                // The chain's head is the newest backup in the root: the next one follows it.
                return new Increment(kind, head, base, to, parent.sequence() + 1, id, at.index() == to ? at : null);
            });
            if (done.isDone()) {
                return;
            }
            if (inc == null) {
                startFull(copyFailed[0] != null ? copyFailed[0]
                        : "the backup root " + root + " holds no backup to continue");
                return;
            }
            BackupManifest parent = inc.head().manifest();
            readBatch(inc, parent.conf(), parent.lastTerm());
        }

        /** Appends the entries of {@code backups} (incrementals or a differential, in chain order) to the writer. */
        private void copyFromChain(List<BackupChain.Backup> backups, long from, long to) throws IOException {
            for (BackupChain.Backup b : backups) {
                EntryFile.scan(io, b.dir().resolve(EntryFile.NAME), to, e -> {
                    writer.append(e);
                    noteTime(e);
                    if (e.index() % 1024 == 0) {
                        progress = new Progress(BackupKind.DIFFERENTIAL, "copying entries", e.index() - from, to - from,
                                "entries");
                    }
                }, key, b.manifest().id());
            }
        }

        /** Counts {@code e}'s leader time into the backup's first and last times. */
        private void noteTime(Entry e) {
            java.util.OptionalLong stamp = StateReplay.leaderTimeMillis(e);
            if (stamp.isPresent()) {
                Instant at = Instant.ofEpochMilli(stamp.getAsLong());
                firstTime = firstTime == null ? at : firstTime;
                lastTime = lastTime == null || at.isAfter(lastTime) ? at : lastTime;
            }
        }

        /** Reads the next batch of entries from the server, or finishes once all are written. */
        private void readBatch(Increment inc, ConfState conf, long lastTerm) {
            long next = writer.nextIndex();
            if (next > inc.to()) {
                Result r = attempt(() -> publishIncrement(inc, conf, lastTerm));
                if (r != null) {
                    done.complete(r);
                }
                return;
            }
            after(server.readCommitted(next, inc.to(), READ_BATCH_BYTES), (batch, t) -> {
                if (t instanceof LogCompactedException compacted) {
                    cleanUp();
                    startFull("node " + server.id() + "'s log no longer holds entry " + next + " that follows backup "
                            + inc.head().dir().getFileName() + " (" + compacted.getMessage() + "): its retention pin"
                            + " was not in place (a restart, a snapshot installed from the leader, or the previous"
                            + " backup was taken elsewhere)");
                    return;
                }
                if (t != null) {
                    fail(t instanceof IOException ? t : new IOException("backup from node " + server.id()
                            + " failed while reading entries from " + next + ": " + t, t));
                    return;
                }
                if (batch.isEmpty()) {
                    fail(new IOException("node " + server.id() + " returned no committed entries from " + next
                            + " although its commit index was " + inc.to()));
                    return;
                }
                ConfState c = conf;
                long term = lastTerm;
                try {
                    for (Entry e : batch) {
                        if (StateReplay.switchesState(e)) {
                            cleanUp();
                            startFull("entry " + e.index() + " is a live restore (the cluster's state was switched"
                                    + " to a backup's there), and entries cannot carry the state across it; the full"
                                    + " backup's snapshot, taken after it, holds the switched state");
                            return;
                        }
                        writer.append(e);
                        term = e.term();
                        noteTime(e);
                        if (e.type() == EntryType.CONF_CHANGE) {
                            c = Changer.applyEntry(c, e.index(), e.data()).conf(); // refused: unchanged
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    fail(e);
                    return;
                }
                long from = inc.base().manifest().lastIndex();
                progress = new Progress(inc.kind(), "copying entries", writer.nextIndex() - 1 - from,
                        inc.to() - from, "entries");
                readBatch(inc, c, term);
            });
        }

        private Result publishIncrement(Increment inc, ConfState conf, long lastTerm) throws IOException {
            BackupManifest parent = inc.base().manifest();
            Path file = tmp.resolve(EntryFile.NAME);
            writer.finish(parent.lastIndex());
            writer.close();
            writer = null;
            BackupManifest m = new BackupManifest(inc.id(), clusterId, inc.kind(),
                    inc.sequence(), parent.id(), server.id(), parent.lastIndex(), parent.lastTerm(), inc.to(), lastTerm,
                    conf, clock.instant(), null, List.of(BackupFile.measure(io, file)), key == null ? null : key.id())
                    .withState(inc.state() == null ? null : inc.state().digest(), firstTime,
                            inc.state() != null && inc.state().logTimeMillis() > 0 ? logTime(inc.state().logTimeMillis())
                                    : lastTime);
            BackupChain.Backup b = publish(tmp, m);
            tmp = null;
            server.retainLogFrom(inc.to() + 1);
            LOG.info("{} backup {} of cluster {} from node {}: entries ({}, {}], state {}", inc.kind().word(), b.dir(),
                    clusterId, server.id(), parent.lastIndex(), inc.to(), m.stateDigest());
            return new Result(b, null, staleReason);
        }
    }

    private static final class SnapshotGone extends IOException {
        SnapshotGone(Throwable cause) {
            super(cause);
        }
    }

    /**
     * Copies the snapshot's bytes (encrypted when there is a key), checking them against the store's
     * own size and checksum; returns the file as written to disk.
     */
    private BackupFile copySnapshot(SnapshotDescriptor d, Path target, String backupId) throws IOException {
        SnapshotReader r;
        try {
            r = snapshots.open(d);
        } catch (IOException e) {
            throw new SnapshotGone(e);
        }
        BackupFile copied;
        progress = new Progress(BackupKind.FULL, "copying the snapshot", 0, d.sizeBytes(), "bytes");
        try (r; InputStream in = counted(r.input(), d.sizeBytes());
             OutputStream file = new BufferedOutputStream(io.newOutputStream(target), 64 * 1024);
             OutputStream out = key == null ? file : BackupCipher.encrypt(file, key, backupId, BackupLayout.SNAPSHOT)) {
            copied = BackupFile.copy(BackupLayout.SNAPSHOT, in, out);
        }
        if (copied.sizeBytes() != d.sizeBytes() || copied.crc32c() != d.crc32c()) {
            throw new BackupException(target, "node " + server.id() + "'s snapshot " + d.meta().last() + " read back as "
                    + copied.sizeBytes() + " bytes with CRC32C " + BackupFile.hex(copied.crc32c()) + " but the store recorded "
                    + d.sizeBytes() + " bytes, " + BackupFile.hex(d.crc32c()) + ": the node's snapshot is damaged;"
                    + " take the backup from another node");
        }
        io.force(target);
        return key == null ? copied : BackupFile.measure(io, target);
    }

    /** {@code in}, publishing the bytes read from it as the snapshot copy's progress. */
    private InputStream counted(InputStream in, long total) {
        return new java.io.FilterInputStream(in) {
            private long read;

            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    advance(1);
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    advance(n);
                }
                return n;
            }

            private void advance(int n) {
                read += n;
                progress = new Progress(BackupKind.FULL, "copying the snapshot", read, total, "bytes");
            }
        };
    }

    /** A log time as a manifest records it; 0 (nothing stamped yet) is none. */
    private static Instant logTime(long millis) {
        return millis > 0 ? Instant.ofEpochMilli(millis) : null;
    }

    private Path partialDir(String id) throws IOException {
        io.createDirectories(root);
        Path dir = root.resolve(BackupLayout.PARTIAL_PREFIX + id);
        io.createDirectory(dir);
        return dir;
    }

    /** Manifest last, then one rename: a backup directory either is complete or does not exist. */
    private BackupChain.Backup publish(Path tmp, BackupManifest m) throws IOException {
        Path manifest = tmp.resolve(BackupManifest.FILE_NAME);
        io.write(manifest, m.encode(key));
        io.force(manifest);
        io.syncDirectory(tmp);
        Path dir = root.resolve(BackupLayout.dirName(m.sequence(), m.kind()));
        if (io.exists(dir)) {
            throw new BackupException(dir, "exists already: another writer took backup " + m.sequence() + " into "
                    + root + " meanwhile; take one backup at a time per root, then retry");
        }
        io.move(tmp, dir);
        io.syncDirectory(root);
        return new BackupChain.Backup(dir, m);
    }
}
