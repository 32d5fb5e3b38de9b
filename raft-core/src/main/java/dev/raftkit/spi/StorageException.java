package dev.raftkit.spi;

/**
 * Storage failed in a way the node cannot recover from by itself: an I/O error while reading,
 * or corruption found in data that was durable. The node stops (fail-stop); the message says
 * what failed, where, and what the operator can do.
 */
public class StorageException extends RuntimeException {
    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
