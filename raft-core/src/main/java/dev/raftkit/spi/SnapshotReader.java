package dev.raftkit.spi;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads one committed snapshot, as a stream (to restore a state machine) or in positioned chunks
 * (to stream it to a follower with bounded memory).
 *
 * <ul>
 *   <li><b>Thread:</b> any one thread at a time (the snapshot pool or the apply thread).
 *   <li><b>Blocking:</b> yes, on I/O.
 *   <li><b>Durability:</b> read-only.
 *   <li><b>Exceptions:</b> {@link IOException} on I/O failure; {@link StorageException} if the
 *       bytes do not match the descriptor's checksum (checked by {@link #verify()}).
 * </ul>
 */
public interface SnapshotReader extends AutoCloseable {

    SnapshotDescriptor descriptor();

    /** The snapshot's bytes from the start. */
    InputStream input() throws IOException;

    /** Up to {@code maxBytes} bytes from {@code offset}; empty at the end. */
    byte[] chunk(long offset, int maxBytes) throws IOException;

    /** Reads everything and checks size and checksum against the descriptor. */
    void verify() throws IOException;

    @Override
    void close() throws IOException;
}
