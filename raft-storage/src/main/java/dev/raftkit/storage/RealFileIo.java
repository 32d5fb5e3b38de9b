package dev.raftkit.storage;

import dev.raftkit.spi.StorageException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The real file system through {@link FileChannel}. */
final class RealFileIo implements FileIo {

    static final RealFileIo INSTANCE = new RealFileIo();

    private RealFileIo() {
    }

    @Override
    public Handle open(Path file) throws IOException {
        // Created private to the service's user (0600): the log and snapshots hold every value written.
        FileChannel ch = PrivateFiles.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        return new Handle() {
            @Override
            public long size() throws IOException {
                return ch.size();
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                return ch.read(dst, position);
            }

            @Override
            public void write(ByteBuffer src, long position) throws IOException {
                long pos = position;
                while (src.hasRemaining()) {
                    pos += ch.write(src, pos);
                }
            }

            @Override
            public void truncate(long size) throws IOException {
                ch.truncate(size);
            }

            @Override
            public void force() throws IOException {
                // force(false) is fdatasync: file size changes are still flushed, which is all the
                // metadata a reader of this file needs.
                ch.force(false);
            }

            @Override
            public void close() throws IOException {
                ch.close();
            }
        };
    }

    @Override
    public boolean exists(Path path) {
        return Files.exists(path);
    }

    @Override
    public boolean isDirectory(Path path) {
        return Files.isDirectory(path);
    }

    @Override
    public List<String> list(Path dir) throws IOException {
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> names.add(p.getFileName().toString()));
        }
        return names;
    }

    @Override
    public void createDirectory(Path dir) throws IOException {
        PrivateFiles.createDirectory(dir);
    }

    @Override
    public void move(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void delete(Path path) throws IOException {
        try {
            Files.deleteIfExists(path);
        } catch (NoSuchFileException e) {
            // Already gone: deleting is idempotent.
        }
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        // On Linux a directory opened read-only can be fsynced; this makes names durable.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    @Override
    public Closeable lock(Path lockFile) throws IOException {
        FileChannel ch = PrivateFiles.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            ch.close();
            throw new StorageException("data directory " + lockFile.getParent() + " is in use: the lock file "
                    + lockFile + " is held by another process (or another store in this JVM); stop it, or "
                    + "give this node its own data directory");
        }
        FileLock held = lock;
        return () -> {
            held.release();
            ch.close();
        };
    }
}
