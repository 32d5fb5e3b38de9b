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

    /** Keeps the newest {@code count} snapshots and deletes the rest. */
    void retain(int count) throws IOException;

    @Override
    void close() throws IOException;
}
