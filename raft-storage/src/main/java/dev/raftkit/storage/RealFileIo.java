package dev.raftkit.storage;

import dev.raftkit.spi.StorageException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
            public boolean tryLock() throws IOException {
                try {
                    // Released when the channel closes; never released earlier, because closing
                    // another channel of the same file would drop this process's lock on it.
                    return ch.tryLock() != null;
                } catch (OverlappingFileLockException e) {
                    return false;
                }
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

    /** Walks the tree without following symbolic links: a link is deleted, never what it points to. */
    @Override
    public void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(path)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        // On Linux a directory opened read-only can be fsynced; this makes names durable.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * Directories this process holds, by file key (device and inode): deleting or recreating
     * the lock file inside does not change the directory's key, so a second store in this JVM is
     * refused even then. The value names the holder for the refusal.
     */
    private static final Map<Object, String> HELD = new ConcurrentHashMap<>();

    @Override
    public Closeable lock(Path lockFile) throws IOException {
        Path dir = lockFile.toAbsolutePath().getParent();
        Object key = directoryKey(dir);
        String holder = "pid " + ProcessHandle.current().pid() + " since " + Instant.now()
                + " (thread " + Thread.currentThread().getName() + ")";
        String before = HELD.putIfAbsent(key, holder);
        if (before != null) {
            throw inUse(dir, lockFile, "this process (" + before + ")");
        }
        FileChannel ch = null;
        try {
            ch = PrivateFiles.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw inUse(dir, lockFile, holderOf(ch));
            }
            // Who holds it, for the refusal another process prints. Advisory only: the lock is
            // what excludes, not this text.
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(("raftkit data directory lock held by " + holder + "\n")
                    .getBytes(StandardCharsets.UTF_8)), 0);
            FileLock held = lock;
            FileChannel channel = ch;
            return () -> {
                try {
                    held.release();
                    channel.close();
                } finally {
                    HELD.remove(key, holder);
                }
            };
        } catch (IOException | RuntimeException e) {
            HELD.remove(key, holder);
            if (ch != null) {
                ch.close();
            }
            throw e;
        }
    }

    private static Object directoryKey(Path dir) throws IOException {
        Object key = Files.readAttributes(dir, BasicFileAttributes.class).fileKey();
        return key != null ? key : dir.toRealPath();
    }

    /** The holder another process wrote into the lock file, bounded; "another process" if unreadable. */
    private static String holderOf(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(200);
            ch.read(b, 0);
            String text = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
            return text.isEmpty() ? "another process" : "another process: " + text;
        } catch (IOException e) {
            return "another process";
        }
    }

    private static StorageException inUse(Path dir, Path lockFile, String holder) {
        return new StorageException("data directory " + dir + " is in use: its lock (" + lockFile + ") is held by "
                + holder + "; stop that server first, or give this node its own data directory");
    }

    @Override
    public long usableSpace(Path dir) throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }
}
