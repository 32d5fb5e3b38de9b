package dev.raftkit.runtime;

import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.spi.ResumableSnapshotWriter;
import dev.raftkit.spi.SnapshotWriter;
import java.io.IOException;

/**
 * The snapshot pool as the raft loop may use it (docs/threads.md, the raft-loop row): stream a
 * snapshot to a follower, and open the writer the transport streams a leader's snapshot into.
 */
interface SnapshotStreams {

    /**
     * Queues the stored snapshot {@code m} names to be streamed to its recipient; the pool
     * reports the outcome on the loop's control queue. Raft loop; never blocks.
     */
    void send(InstallSnapshot m);

    /**
     * A writer for the snapshot {@code m} announces, registered with the pool once committed.
     * A transport thread ({@link dev.raftkit.spi.Transport.Inbound#beginSnapshot}); opening it
     * may touch the disk briefly.
     */
    SnapshotWriter beginReceive(InstallSnapshot m) throws IOException;

    /**
     * As {@link #beginReceive(InstallSnapshot)}, for an image of {@code sizeBytes} bytes with CRC32C
     * {@code crc32c}: continues an interrupted receipt of the same image if the store kept one
     * ({@link dev.raftkit.spi.SnapshotStore#beginReceive}). A transport thread.
     */
    ResumableSnapshotWriter beginReceive(InstallSnapshot m, long sizeBytes, int crc32c) throws IOException;

    /** Bytes of that image an interrupted receipt left verified, 0 if none. A transport thread. */
    long resumePoint(InstallSnapshot m, long sizeBytes, int crc32c) throws IOException;
}
