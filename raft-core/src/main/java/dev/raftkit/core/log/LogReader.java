package dev.raftkit.core.log;

import java.util.List;

/**
 * The core's read-only view of the durable log.
 *
 * <ul>
 *   <li><b>Thread:</b> called only by the thread that owns the {@code RaftCore} (the raft-loop
 *       thread), concurrently with the log-writer thread calling {@code LogWriter}; the
 *       implementation makes the two safe together.
 *   <li><b>Blocking:</b> may read from disk, so may block briefly; should serve recent entries from
 *       memory. Never blocks on the writer's fsync.
 *   <li><b>Durability:</b> reflects at least everything made durable by a completed
 *       {@code LogWriter.sync()}; it may also show appended entries not yet synced (the core
 *       reads only indexes it knows to be durable or in its own unstable buffer).
 *   <li><b>Exceptions:</b> {@link LogCompactedException} and {@link LogUnavailableException} for
 *       indexes out of range (the core handles both); {@code StorageException} for I/O failure or
 *       corruption, which stops the node.
 * </ul>
 */
public interface LogReader {

    /** The durable hard state and the snapshot the log starts after. */
    InitialState initialState();

    /** The first index with an entry, which is the snapshot index plus one. */
    long firstIndex();

    /** The last index with an entry, or the snapshot index if there is none. */
    long lastIndex();

    /**
     * The term of the entry at {@code index}, for {@code firstIndex() - 1 <= index <= lastIndex()}
     * (at {@code firstIndex() - 1}, the snapshot's term).
     */
    long term(long index);

    /**
     * Entries in [{@code lo}, {@code hi}), stopping early once their total
     * {@link Entry#sizeBytes()} exceeds {@code maxBytes}; at least one entry if {@code lo < hi}.
     */
    List<Entry> entries(long lo, long hi, long maxBytes);
}
