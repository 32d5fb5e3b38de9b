package dev.raftkit.sql;

import java.io.IOException;

/**
 * A table artifact ({@link TableArtifact}) that cannot be used: missing, unreadable, not an
 * artifact, of another format version, truncated, damaged, sealed with another key, or of another
 * table than the one restored. The message names the file (or the backup) and says what to do.
 */
public final class TableArtifactException extends IOException {

    private static final long serialVersionUID = 1L;

    /** @param message what is wrong, naming the file, and what to do */
    public TableArtifactException(String message) {
        super(message);
    }
}
