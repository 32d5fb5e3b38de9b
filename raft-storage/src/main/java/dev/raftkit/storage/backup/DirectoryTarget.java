package dev.raftkit.storage.backup;

import dev.raftkit.storage.FileIo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A {@link BackupTarget} in a directory: backups are its subdirectories ({@code 000001-full}, …),
 * staged as {@code .partial-<id>} and published by one rename, deleted by renaming to
 * {@code .pruning-<name>} first. The directory may be a mounted remote volume: that is the
 * off-host case. It is refused if it is the node's data directory, inside it, or contains it: a
 * backup there would be lost with the disk it is meant to survive, and could be read back as the
 * node's own files.
 */
public final class DirectoryTarget implements BackupTarget {

    /** Prefix of a backup being deleted: never listed; removed by the next prune or start. */
    static final String PRUNING_PREFIX = ".pruning-";

    private final FileIo io;
    private final Path root;

    private DirectoryTarget(FileIo io, Path root) {
        this.io = io;
        this.root = root;
    }

    /**
     * A target in {@code root} (created if missing) for the node whose data directory is
     * {@code dataDir}.
     *
     * @throws IllegalArgumentException if {@code root} is, is inside, or contains {@code dataDir};
     *                                  the message says which directories and what to do
     */
    public static DirectoryTarget open(Path root, Path dataDir) throws IOException {
        return open(FileIo.real(), root, dataDir);
    }

    /** {@link #open(Path, Path)} on the file system {@code io}. */
    public static DirectoryTarget open(FileIo io, Path root, Path dataDir) throws IOException {
        Path r = real(root);
        Path d = real(dataDir);
        if (r.startsWith(d) || d.startsWith(r)) {
            throw new IllegalArgumentException("backup target " + r + (r.equals(d) ? " is" : r.startsWith(d)
                    ? " is inside" : " contains") + " the node's data directory " + d + ": backups kept there are lost"
                    + " with that disk and could be read back as the node's files; give a directory outside it (a"
                    + " mounted remote volume keeps them off the host)");
        }
        io.createDirectories(root);
        return new DirectoryTarget(io, root);
    }

    /** {@code p} with links resolved as far as it exists, so a link cannot hide the data directory. */
    private static Path real(Path p) throws IOException {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        return existing == null ? abs : existing.toRealPath().resolve(existing.relativize(abs));
    }

    @Override
    public Path root() {
        return root;
    }

    @Override
    public List<String> list() throws IOException {
        return BackupChain.backupDirs(io, root).stream().map(d -> d.getFileName().toString()).toList();
    }

    @Override
    public Path begin(String id) throws IOException {
        Path dir = root.resolve(BackupLayout.PARTIAL_PREFIX + id);
        io.createDirectory(dir);
        return dir;
    }

    @Override
    public void publish(Path staged, String name) throws IOException {
        Path dir = root.resolve(name);
        if (io.exists(dir)) {
            throw new BackupException(dir, "exists already: another writer took backup " + name + " into " + root
                    + " meanwhile; take one backup at a time per target, then retry");
        }
        io.syncDirectory(staged);
        io.move(staged, dir);
        io.syncDirectory(root);
    }

    @Override
    public Path read(String name) throws IOException {
        Path dir = root.resolve(name);
        if (!io.isDirectory(dir)) {
            throw new BackupException(dir, "no such backup in " + root);
        }
        return dir;
    }

    @Override
    public void delete(String name) throws IOException {
        Path doomed = root.resolve(PRUNING_PREFIX + name);
        io.move(root.resolve(name), doomed);
        io.syncDirectory(root);
        io.deleteRecursively(doomed);
    }

    /** Finishes deletes a crash cut short: removes every {@code .pruning-} directory; returns them. */
    List<Path> finishDeletes() throws IOException {
        List<Path> removed = new java.util.ArrayList<>();
        if (!io.isDirectory(root)) {
            return removed;
        }
        for (String name : io.list(root)) {
            if (name.startsWith(PRUNING_PREFIX)) {
                io.deleteRecursively(root.resolve(name));
                removed.add(root.resolve(name));
            }
        }
        if (!removed.isEmpty()) {
            io.syncDirectory(root);
        }
        return removed;
    }

    FileIo io() {
        return io;
    }

    @Override
    public String toString() {
        return "directory " + root;
    }
}
