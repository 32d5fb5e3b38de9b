package dev.raftkit.storage.backup;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/** File names of a backup root and the small file-system steps every writer here shares. */
final class BackupLayout {

    /** A full backup's copy of the snapshot bytes, as the node's snapshot store held them. */
    static final String SNAPSHOT = "snapshot";
    /** Prefix of a backup (or restore) being written: never part of a chain, removed on failure. */
    static final String PARTIAL_PREFIX = ".partial-";

    private BackupLayout() {
    }

    /** {@code 000001-full}, {@code 000002-incr}: sorts in the order the backups were taken. */
    static String dirName(long sequence, BackupKind kind) {
        return String.format("%06d-%s", sequence, kind == BackupKind.FULL ? "full" : "incr");
    }

    /** One more than the highest sequence number among the backup directories of {@code root}. */
    static long nextSequence(Path root) throws IOException {
        long max = 0;
        for (Path dir : BackupChain.backupDirs(root)) {
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

    static void fsync(Path path) throws IOException {
        try (FileChannel c = FileChannel.open(path, StandardOpenOption.READ)) {
            c.force(true);
        } catch (IOException e) {
            // Some platforms cannot open a directory for fsync; files are always synced.
            if (!Files.isDirectory(path)) {
                throw e;
            }
        }
    }

    static void deleteRecursively(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try {
            Files.walkFileTree(path, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // Best effort: a leftover partial directory is never read as a backup (its name says so).
        }
    }
}
