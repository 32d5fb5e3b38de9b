package dev.raftkit.spi;

import dev.raftkit.core.log.LogReader;

/** A log with both faces: {@link LogReader} for the core, {@link LogWriter} for the log-writer thread. */
public interface LogStorage extends LogReader, LogWriter {

    /**
     * Bytes the log's files hold now (records and headers, not space preallocated ahead), for the
     * {@code raft.log.size} gauge; -1 (the default) if this log cannot tell.
     *
     * <ul>
     *   <li><b>Thread:</b> any; polled by metrics while the log writer writes.
     *   <li><b>Blocking:</b> never, and takes no lock a writer holds: return a value the writer
     *       published (it may lag the latest write).
     *   <li><b>Durability:</b> read-only.
     *   <li><b>Exceptions:</b> none; an implementation that cannot tell returns -1.
     * </ul>
     */
    default long sizeBytes() {
        return -1;
    }

    /**
     * Segment files of the log now, for the {@code raft.log.segments} gauge; -1 (the default) if
     * the log has no segments or cannot tell. Same thread, blocking and exception rules as
     * {@link #sizeBytes()}.
     */
    default int segmentCount() {
        return -1;
    }
}
