package dev.raftkit.core.log;

/** The requested index is below the first index the log still holds: it was compacted into a snapshot. */
public final class LogCompactedException extends RuntimeException {
    public LogCompactedException(long index, long firstIndex) {
        super("log index " + index + " is compacted; the log starts at " + firstIndex, null, false, false);
    }
}
