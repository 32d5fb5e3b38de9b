package dev.raftkit.storage.backup;

import dev.raftkit.core.confchange.Changer;
import dev.raftkit.core.confchange.ConfChangeCodec;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.spi.LogCompactedException;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.storage.PrivateFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * <p><b>Threads:</b> {@link #full()} and {@link #incremental()} block the caller (copying files and
 * waiting on the server's futures, each at most {@code timeout}); call them from an admin or
 * scheduler thread, never from a {@code RaftServer} callback. One backup runs at a time per
 * service. The cluster keeps serving meanwhile. A backup is durable (files and directories
 * fsynced) when the call returns; a failed or interrupted backup leaves only a
 * {@code .partial-} directory, which is never part of a chain.
 */
public final class BackupService {

    private static final Logger LOG = LoggerFactory.getLogger(BackupService.class);
    /** Bytes of entries read from the server per request: bounds memory, amortises the hop to its loop. */
    private static final long READ_BATCH_BYTES = 4L << 20;

    /**
     * What a backup call produced.
     *
     * @param backup         the new backup: its directory and manifest
     * @param fallbackReason why a full backup was taken although an incremental one was asked for,
     *                       or null
     */
    public record Result(BackupChain.Backup backup, String fallbackReason) {

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

    /**
     * @param server    the node to back up (running)
     * @param snapshots the snapshot store that server writes to (to copy the snapshot it takes)
     * @param clusterId names the cluster in every manifest; a chain never mixes clusters
     * @param root      the backup root; created if missing
     * @param clock     stamps {@code created-at} in manifests (metadata only)
     * @param timeout   the longest wait for any one step of the server (snapshot, a batch of entries)
     */
    public BackupService(RaftServer server, SnapshotStore snapshots, String clusterId, Path root, Clock clock,
                         Duration timeout) {
        this(server, snapshots, clusterId, root, clock, timeout, null);
    }

    /**
     * As {@link #BackupService(RaftServer, SnapshotStore, String, Path, Clock, Duration)}; with a
     * {@code key} every data file is encrypted (AES-256-GCM) and every manifest authenticated
     * (HMAC-SHA256) with it, and the chain it continues must be encrypted with the same key.
     */
    public BackupService(RaftServer server, SnapshotStore snapshots, String clusterId, Path root, Clock clock,
                         Duration timeout, BackupKey key) {
        this.key = key;
        this.server = Objects.requireNonNull(server, "server");
        this.snapshots = Objects.requireNonNull(snapshots, "snapshots");
        this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
        this.root = Objects.requireNonNull(root, "root");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /** With the system clock and a one-minute step timeout. */
    public BackupService(RaftServer server, SnapshotStore snapshots, String clusterId, Path root) {
        this(server, snapshots, clusterId, root, Clock.systemUTC(), Duration.ofMinutes(1));
    }

    /** With the system clock, a one-minute step timeout, and {@code key} (null: plaintext backups). */
    public BackupService(RaftServer server, SnapshotStore snapshots, String clusterId, Path root, BackupKey key) {
        this(server, snapshots, clusterId, root, Clock.systemUTC(), Duration.ofMinutes(1), key);
    }

    /** Takes a full backup: a snapshot at the index the server has applied now, copied with a manifest. */
    public synchronized Result full() throws IOException {
        return takeFull(null);
    }

    /**
     * Takes an incremental backup: the entries committed since the newest backup in the root, up
     * to the commit index now. Falls back to a full backup (and says why) if the root holds no
     * backup yet or the server's log no longer holds the first entry needed.
     *
     * @throws BackupException if the root's newest chain is damaged or of another cluster
     */
    public synchronized Result incremental() throws IOException {
        if (BackupChain.backupDirs(root).isEmpty()) {
            return takeFull("the backup root " + root + " holds no backup to continue");
        }
        List<BackupChain.Backup> chain = BackupChain.resolve(root, key);
        BackupChain.Backup head = chain.get(chain.size() - 1);
        BackupManifest parent = head.manifest();
        if (!parent.clusterId().equals(clusterId)) {
            throw new BackupException(head.dir().resolve(BackupManifest.FILE_NAME), "the newest backup in the root is"
                    + " of cluster '" + parent.clusterId() + "', this service backs up cluster '" + clusterId
                    + "'; use a backup root per cluster");
        }
        long from = parent.lastIndex() + 1;
        long to = Math.max(parent.lastIndex(), server.status().commit());
        long sequence = BackupLayout.nextSequence(root);
        Path tmp = partialDir();
        String id = UUID.randomUUID().toString();
        try {
            Path file = tmp.resolve(EntryFile.NAME);
            ConfState conf = parent.conf();
            long lastTerm = parent.lastTerm();
            try (EntryFile.Writer w = new EntryFile.Writer(file, parent.lastIndex(), parent.lastTerm(),
                    to - parent.lastIndex(), key, id)) {
                while (w.nextIndex() <= to) {
                    List<Entry> batch;
                    try {
                        batch = await(server.readCommitted(w.nextIndex(), to, READ_BATCH_BYTES), "reading entries from "
                                + w.nextIndex());
                    } catch (LogCompactedException compacted) {
                        BackupLayout.deleteRecursively(tmp);
                        return takeFull("node " + server.id() + "'s log no longer holds entry " + w.nextIndex()
                                + " that follows backup " + head.dir().getFileName() + " (" + compacted.getMessage()
                                + "): its retention pin was not in place (a restart, a snapshot installed from the"
                                + " leader, or the previous backup was taken elsewhere)");
                    }
                    if (batch.isEmpty()) {
                        throw new IOException("node " + server.id() + " returned no committed entries from "
                                + w.nextIndex() + " although its commit index was " + to);
                    }
                    for (Entry e : batch) {
                        w.append(e);
                        lastTerm = e.term();
                        if (e.type() == EntryType.CONF_CHANGE) {
                            conf = confAfter(conf, e);
                        }
                    }
                }
                w.finish(parent.lastIndex());
            }
            BackupManifest m = new BackupManifest(id, clusterId, BackupKind.INCREMENTAL,
                    sequence, parent.id(), server.id(), parent.lastIndex(), parent.lastTerm(), to, lastTerm, conf,
                    clock.instant(), null, List.of(BackupFile.measure(file)), key == null ? null : key.id());
            BackupChain.Backup b = publish(tmp, m);
            server.retainLogFrom(to + 1);
            LOG.info("incremental backup {} of cluster {} from node {}: entries ({}, {}]", b.dir(), clusterId,
                    server.id(), parent.lastIndex(), to);
            return new Result(b, null);
        } catch (IOException | RuntimeException e) {
            BackupLayout.deleteRecursively(tmp);
            throw e;
        }
    }

    /** As the apply thread does: an invalid change is rejected alike everywhere, a no-op. */
    private static ConfState confAfter(ConfState conf, Entry e) {
        try {
            return Changer.apply(conf, ConfChangeCodec.decode(e.data()));
        } catch (IllegalArgumentException rejected) {
            return conf;
        }
    }

    private Result takeFull(String fallbackReason) throws IOException {
        if (fallbackReason != null) {
            LOG.warn("incremental backup of cluster {} from node {} fell back to a full backup: {}", clusterId,
                    server.id(), fallbackReason);
        }
        // Pin before the snapshot, at or below its index + 1: a threshold snapshot compacting in
        // between must not take the entries the next incremental will export.
        server.retainLogFrom(Math.max(1, server.status().applied() + 1));
        long sequence = BackupLayout.nextSequence(root);
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            SnapshotDescriptor d = await(server.snapshotNow(), "taking a snapshot");
            Path tmp = partialDir();
            String id = UUID.randomUUID().toString();
            try {
                BackupFile copied = copySnapshot(d, tmp.resolve(BackupLayout.SNAPSHOT), id);
                BackupManifest m = new BackupManifest(id, clusterId, BackupKind.FULL,
                        sequence, null, server.id(), 0, 0, d.meta().index(), d.meta().term(), d.meta().conf(),
                        clock.instant(), fallbackReason, List.of(copied), key == null ? null : key.id());
                BackupChain.Backup b = publish(tmp, m);
                server.retainLogFrom(d.meta().index() + 1);
                LOG.info("full backup {} of cluster {} from node {}: snapshot at {} ({} bytes){}", b.dir(), clusterId,
                        server.id(), d.meta().last(), copied.sizeBytes(),
                        fallbackReason == null ? "" : " (instead of an incremental one)");
                return new Result(b, fallbackReason);
            } catch (SnapshotGone gone) {
                // Newer snapshots pushed it out of the store before it was copied: take another.
                BackupLayout.deleteRecursively(tmp);
                last = gone;
            } catch (IOException | RuntimeException e) {
                BackupLayout.deleteRecursively(tmp);
                throw e;
            }
        }
        throw new IOException("node " + server.id() + "'s snapshots were replaced faster than they could be"
                + " copied three times; raise snapshotsToKeep or the snapshot thresholds and retry", last);
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
        try (r; InputStream in = r.input();
             OutputStream file = PrivateFiles.newOutputStream(target);
             OutputStream out = key == null ? file : BackupCipher.encrypt(file, key, backupId, BackupLayout.SNAPSHOT)) {
            copied = BackupFile.copy(BackupLayout.SNAPSHOT, in, out);
        }
        if (copied.sizeBytes() != d.sizeBytes() || copied.crc32c() != d.crc32c()) {
            throw new BackupException(target, "node " + server.id() + "'s snapshot " + d.meta().last() + " read back as "
                    + copied.sizeBytes() + " bytes with CRC32C " + BackupFile.hex(copied.crc32c()) + " but the store recorded "
                    + d.sizeBytes() + " bytes, " + BackupFile.hex(d.crc32c()) + ": the node's snapshot is damaged;"
                    + " take the backup from another node");
        }
        BackupLayout.fsync(target);
        return key == null ? copied : BackupFile.measure(target);
    }

    private Path partialDir() throws IOException {
        PrivateFiles.createDirectories(root);
        return PrivateFiles.createDirectory(root.resolve(BackupLayout.PARTIAL_PREFIX + UUID.randomUUID()));
    }

    /** Manifest last, then one rename: a backup directory either is complete or does not exist. */
    private BackupChain.Backup publish(Path tmp, BackupManifest m) throws IOException {
        Path manifest = tmp.resolve(BackupManifest.FILE_NAME);
        PrivateFiles.write(manifest, m.encode(key));
        BackupLayout.fsync(manifest);
        BackupLayout.fsync(tmp);
        Path dir = root.resolve(BackupLayout.dirName(m.sequence(), m.kind()));
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        BackupLayout.fsync(root);
        return new BackupChain.Backup(dir, m);
    }

    private <T> T await(CompletableFuture<T> f, String what) throws IOException {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof LogCompactedException lc) {
                throw lc;
            }
            if (c instanceof IOException io) {
                throw io;
            }
            throw new IOException("backup from node " + server.id() + " failed while " + what + ": " + c, c);
        } catch (TimeoutException e) {
            f.cancel(false);
            throw new IOException("backup from node " + server.id() + " timed out after " + timeout + " while " + what
                    + "; is the node running and keeping up? Retry later", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while " + what);
        }
    }
}
