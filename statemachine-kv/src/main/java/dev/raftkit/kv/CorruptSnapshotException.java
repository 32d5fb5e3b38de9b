package dev.raftkit.kv;

import java.io.IOException;

/**
 * A KV snapshot image that fails verification (bad magic, unknown format version, malformed
 * entry, keys out of order, or a CRC32C mismatch). The state machine refuses it and keeps its
 * state unchanged; the cure is a fresh copy of the snapshot from a healthy node or a backup.
 */
public final class CorruptSnapshotException extends IOException {

    public CorruptSnapshotException(String message) {
        super(message);
    }

    public CorruptSnapshotException(String message, Throwable cause) {
        super(message, cause);
    }
}
