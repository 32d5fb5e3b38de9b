package dev.raftkit.core.log;

/** The requested index is above the last index the log holds. */
public final class LogUnavailableException extends RuntimeException {
    public LogUnavailableException(long index, long lastIndex) {
        super("log index " + index + " is beyond the last index " + lastIndex, null, false, false);
    }
}
