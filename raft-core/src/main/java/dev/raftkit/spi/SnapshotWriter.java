package dev.raftkit.spi;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes one snapshot. Nothing is visible to {@link SnapshotStore#latest()} until {@link #commit()}.
 *
 * <ul>
 *   <li><b>Thread:</b> one thread (the snapshot pool) from begin to commit or abort.
 *   <li><b>Blocking:</b> yes, on I/O.
 *   <li><b>Durability:</b> when {@code commit()} returns, the snapshot is durable and complete;
 *       a crash at any earlier point leaves the store as it was before {@code begin}.
 *   <li><b>Exceptions:</b> an {@link IOException} aborts the snapshot; the store keeps its
 *       previous state.
 * </ul>
 */
public interface SnapshotWriter extends AutoCloseable {

    /** Where the state machine image goes. Not buffered beyond what the implementation needs. */
    OutputStream output();

    /** Makes the snapshot durable and visible. */
    SnapshotDescriptor commit() throws IOException;

    /** Discards the snapshot; safe to call more than once and after a failed commit. */
    void abort();

    /** Aborts unless committed. */
    @Override
    void close();
}
