package dev.raftkit.storage.backup;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A backup or a chain of backups cannot be used: a file is missing, damaged, or does not fit the
 * chain. {@link #file()} names the bad file; the message says what is wrong and what to do.
 */
public final class BackupException extends IOException {

    private final Path file;

    public BackupException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    public BackupException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    /** The file (or backup directory) at fault. */
    public Path file() {
        return file;
    }
}
