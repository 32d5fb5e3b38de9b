package dev.raftkit.spi;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.Entry;
import java.io.IOException;
import java.util.List;

/**
 * Writes the log. Writes are buffered; {@link #sync()} makes every earlier write durable at once,
 * which is how many Readys share one fsync (group commit).
 *
 * <ul>
 *   <li><b>Thread:</b> one thread only, the log-writer thread (a test may use the raft-loop thread).
 *   <li><b>Blocking:</b> every method may block on I/O; {@code sync()} blocks for an fsync.
 *   <li><b>Durability:</b> nothing is durable until {@code sync()} returns; then all earlier
 *       writes are, in the order they were made. A crash before that may lose any suffix of the
 *       unsynced writes, never anything synced.
 *   <li><b>Exceptions:</b> an {@link IOException} (or {@link StorageException}) means the write
 *       may or may not have happened: the node must stop (fail-stop), never retry and carry on.
 * </ul>
 */
public interface LogWriter extends AutoCloseable {

    /**
     * Appends entries. If the first entry's index is at or below {@code lastIndex()}, the stored
     * log is first truncated to just before it (a new leader overwriting an uncommitted suffix).
     */
    void append(List<Entry> entries) throws IOException;

    /**
     * Records the hard state. Term and vote are durable with the next {@link #sync()}, after this
     * batch's entries. An implementation may persist a change of the commit index alone lazily:
     * after a crash the commit index read back may be older than the last one set (never newer
     * than what was synced). That is safe: the commit index is re-learned from the leader, and at
     * start-up the core counts as committed both the entries the state machine applied and every
     * configuration change in the log but the last (a leader proposes one only after applying the
     * one before), so it never campaigns in a configuration older than the one before the latest.
     */
    void setHardState(HardState hardState) throws IOException;

    /** Replaces the whole log with an empty log after {@code snapshot} (a snapshot was installed). */
    void installSnapshot(SnapshotMeta snapshot) throws IOException;

    /** Makes every earlier write durable. */
    void sync() throws IOException;

    /**
     * Allows deletion of entries up to {@code snapshot.index()}, which a durable snapshot covers.
     * An implementation may keep more (whole segments, a trailing margin); {@code firstIndex()}
     * tells what it kept. The new starting point is durable once this returns.
     */
    void compact(SnapshotMeta snapshot) throws IOException;

    /**
     * {@link #compact(SnapshotMeta)}, but every entry from {@code keepFrom} on must survive it:
     * a backup pinned them (see {@code RaftServer.retainLogFrom}) and will export them later.
     * Same thread, blocking, durability and exceptions as {@code compact}. The default honours the
     * pin by leaving the log as it is when the pin falls at or below the snapshot; an implementation
     * that can keep entries below its snapshot base overrides it to still advance the base.
     */
    default void compact(SnapshotMeta snapshot, long keepFrom) throws IOException {
        if (keepFrom > snapshot.index()) {
            compact(snapshot);
        }
    }

    /**
     * Bytes the log may still write where it lives, for the runtime's free-space watermark
     * ({@code RaftServerBuilder.minFreeDiskBytes}); {@link Long#MAX_VALUE} if unknown or not on
     * a disk (the default). Same thread as the writes; it may block briefly (a {@code statvfs});
     * the runtime polls it about once a second, never per proposal. An exception is logged and
     * the poll skipped: it decides no write.
     */
    default long usableSpace() throws IOException {
        return Long.MAX_VALUE;
    }

    /** Where the log lives, for messages (a directory, say); the default says only "the log". */
    default String location() {
        return "the log";
    }

    @Override
    void close() throws IOException;
}
