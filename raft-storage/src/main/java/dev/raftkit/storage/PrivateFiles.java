package dev.raftkit.storage;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Creates files and directories private to the service's user: directories {@code rwx------}
 * (0700), files {@code rw-------} (0600), set atomically at creation where the file system
 * supports POSIX permissions (elsewhere the platform's defaults apply). A node's log, snapshots
 * and backups hold every value ever written; no other local user should be able to read them, or
 * replace them between a check and a use. Existing files and directories are left as they are.
 */
public final class PrivateFiles {

    private static final FileAttribute<?>[] NONE = new FileAttribute<?>[0];
    private static final FileAttribute<?>[] DIR = {PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwx------"))};
    private static final FileAttribute<?>[] FILE = {PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rw-------"))};

    private PrivateFiles() {
    }

    private static boolean posix(Path p) {
        return p.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** The attributes that make a new directory at {@code p} private (none if not POSIX). */
    public static FileAttribute<?>[] directoryAttributes(Path p) {
        return posix(p) ? DIR : NONE;
    }

    /** The attributes that make a new file at {@code p} private (none if not POSIX). */
    public static FileAttribute<?>[] fileAttributes(Path p) {
        return posix(p) ? FILE : NONE;
    }

    /** {@link Files#createDirectory}, private. */
    public static Path createDirectory(Path dir) throws IOException {
        return Files.createDirectory(dir, directoryAttributes(dir));
    }

    /** {@link Files#createDirectories}: every directory it creates is private; existing ones are untouched. */
    public static Path createDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return dir;
        }
        Path parent = abs.getParent();
        if (parent != null && !Files.exists(parent)) {
            createDirectories(parent);
        }
        try {
            Files.createDirectory(abs, directoryAttributes(abs));
        } catch (java.nio.file.FileAlreadyExistsException raced) {
            if (!Files.isDirectory(abs)) {
                throw raced;
            }
        }
        return dir;
    }

    /** Opens a file channel; a file it creates is private. */
    public static FileChannel open(Path file, OpenOption... options) throws IOException {
        return FileChannel.open(file, Set.of(options), fileAttributes(file));
    }

    /** A new file (it must not exist), private, for writing. */
    public static OutputStream newOutputStream(Path file) throws IOException {
        return Channels.newOutputStream(open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
    }

    /** Writes {@code bytes} to a new private file (it must not exist). */
    public static void write(Path file, byte[] bytes) throws IOException {
        try (OutputStream out = newOutputStream(file)) {
            out.write(bytes);
        }
    }
}
