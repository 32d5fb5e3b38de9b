package dev.raftkit.spi;

import dev.raftkit.core.SnapshotMeta;
import java.io.IOException;
import java.util.Optional;

/**
 * Durable store of state machine snapshots.
 *
 * <ul>
 *   <li><b>Thread:</b> any; implementations are thread-safe. Writers and readers are used from the
 *       snapshot pool, {@link #latest()} from any thread.
 *   <li><b>Blocking:</b> yes, on I/O (never call from the raft-loop thread).
 *   <li><b>Durability:</b> a snapshot is durable once its writer's {@code commit()} returns;
 *       {@link #retain(int)} deletes durably.
 *   <li><b>Exceptions:</b> {@link IOException} on I/O failure; the store stays consistent (an
 *       interrupted write leaves the previous snapshots intact).
 * </ul>
 */
public interface SnapshotStore extends AutoCloseable {

    /** Starts writing a snapshot with the given metadata. */
    SnapshotWriter begin(SnapshotMeta meta) throws IOException;

    /** The newest committed snapshot, if any. */
    Optional<SnapshotDescriptor> latest() throws IOException;

    /** Opens a committed snapshot for reading. */
    SnapshotReader open(SnapshotDescriptor snapshot) throws IOException;

    /**
     * Starts receiving the snapshot {@code meta} names, of {@code sizeBytes} bytes with CRC32C
     * {@code crc32c}, from a peer: if an interrupted receipt of the same snapshot (same index,
     * term, size and CRC32C) left a partial, the writer continues it from its last verified chunk
     * (re-reading and checking what it holds first; a corrupt tail is dropped, never trusted), and
     * any partial of another snapshot is discarded. The default cannot resume: it starts from 0.
     */
    default ResumableSnapshotWriter beginReceive(SnapshotMeta meta, long sizeBytes, int crc32c) throws IOException {
        return ResumableSnapshotWriter.fromScratch(begin(meta), sizeBytes, crc32c);
    }

    /**
     * How many bytes of that snapshot an interrupted receipt left recorded as verified, by the
     * partial's chunk records alone (cheap: the data is checked when {@link #beginReceive} opens
     * it, which may resume from less); 0 if there is no such partial. The default keeps none.
     */
    default long receivedBytes(SnapshotMeta meta, long sizeBytes, int crc32c) throws IOException {
        return 0;
    }

    /** Keeps the newest {@code count} snapshots and deletes the rest. */
    void retain(int count) throws IOException;

    @Override
    void close() throws IOException;
}
