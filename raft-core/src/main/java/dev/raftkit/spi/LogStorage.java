package dev.raftkit.spi;

import dev.raftkit.core.log.LogReader;

/** A log with both faces: {@link LogReader} for the core, {@link LogWriter} for the log-writer thread. */
public interface LogStorage extends LogReader, LogWriter {
}
