package dev.raftkit.spi;

import dev.raftkit.core.log.LogReader;

/** A log with both faces: {@link LogReader} for the core, {@link LogWriter} for the log-writer thread. */
public interface LogStorage extends LogReader, LogWriter {

    /**
     * The bytes the log's entries take on disk (record framing included; space preallocated ahead
     * of the data and spare segments excluded), or -1 if the implementation does not know. For
     * operators ({@code raftkit status}) and metrics, not for any decision of the protocol.
     *
     * <ul>
     *   <li><b>Thread:</b> any thread, concurrently with the writer and the readers.
     *   <li><b>Blocking:</b> must not block on I/O; it may take a lock the writer holds briefly.
     *   <li><b>Durability:</b> none implied: the size may include appended bytes not yet synced.
     *   <li><b>Exceptions:</b> none expected; an implementation that cannot tell returns -1.
     * </ul>
     */
    default long sizeBytes() {
        return -1;
    }

    /**
     * The number of files (segments) holding the log, or -1 if the implementation does not know or
     * does not use segments. Same thread, blocking and exception rules as {@link #sizeBytes()}.
     */
    default int segmentCount() {
        return -1;
    }
}
