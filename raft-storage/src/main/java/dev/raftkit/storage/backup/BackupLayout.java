package dev.raftkit.storage.backup;

import dev.raftkit.storage.FileIo;
import java.io.IOException;
import java.nio.file.Path;

/** File names of a backup root and the small file-system steps every writer here shares. */
final class BackupLayout {

    /** A full backup's copy of the snapshot bytes, as the node's snapshot store held them. */
    static final String SNAPSHOT = "snapshot";
    /** Prefix of a backup (or restore) being written: never part of a chain, removed on failure. */
    static final String PARTIAL_PREFIX = ".partial-";

    private BackupLayout() {
    }

    /** {@code 000001-full}, {@code 000002-incr}, {@code 000003-diff}: sorts in the order the backups were taken. */
    static String dirName(long sequence, BackupKind kind) {
        String suffix = switch (kind) {
            case FULL -> "full";
            case INCREMENTAL -> "incr";
            case DIFFERENTIAL -> "diff";
        };
        return String.format("%06d-%s", sequence, suffix);
    }

    /** One more than the highest sequence number among the backup directories of {@code root}. */
    static long nextSequence(FileIo io, Path root) throws IOException {
        long max = 0;
        for (Path dir : BackupChain.backupDirs(io, root)) {
            String name = dir.getFileName().toString();
            int dash = name.indexOf('-');
            try {
                max = Math.max(max, Long.parseLong(dash < 0 ? name : name.substring(0, dash)));
            } catch (NumberFormatException notOurs) {
                // Not a backup directory name; ignore it.
            }
        }
        return max + 1;
    }

    static void deleteRecursively(FileIo io, Path path) {
        try {
            io.deleteRecursively(path);
        } catch (IOException e) {
            // Best effort: a leftover partial directory is never read as a backup (its name says so).
        }
    }
}
