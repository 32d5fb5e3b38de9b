package dev.raftkit.storage.backup;

import dev.raftkit.storage.FileIo;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * A {@link FileIo} that reports every byte read through it, so a restore can show how far it has
 * got without each of its readers (verification, the snapshot copy, the entry scan) counting on
 * its own: they all read through {@link FileIo#open} handles. Everything else is the underlying
 * file system's, unchanged. Called on the reading thread; {@code onRead} must not block.
 */
final class ReadCountingFileIo implements FileIo {

    private final FileIo io;
    private final LongConsumer onRead;

    ReadCountingFileIo(FileIo io, LongConsumer onRead) {
        this.io = io;
        this.onRead = onRead;
    }

    /** The file system under the count: a restore's own check of what it wrote is not reading the chain. */
    static FileIo uncounted(FileIo io) {
        return io instanceof ReadCountingFileIo counted ? counted.io : io;
    }

    @Override
    public Handle open(Path file) throws IOException {
        Handle h = io.open(file);
        return new Handle() {
            @Override
            public long size() throws IOException {
                return h.size();
            }

            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                int n = h.read(dst, position);
                if (n > 0) {
                    onRead.accept(n);
                }
                return n;
            }

            @Override
            public void write(ByteBuffer src, long position) throws IOException {
                h.write(src, position);
            }

            @Override
            public void truncate(long size) throws IOException {
                h.truncate(size);
            }

            @Override
            public void force() throws IOException {
                h.force();
            }

            @Override
            public boolean tryLock() throws IOException {
                return h.tryLock();
            }

            @Override
            public void close() throws IOException {
                h.close();
            }
        };
    }

    @Override
    public boolean exists(Path path) {
        return io.exists(path);
    }

    @Override
    public boolean isDirectory(Path path) {
        return io.isDirectory(path);
    }

    @Override
    public List<String> list(Path dir) throws IOException {
        return io.list(dir);
    }

    @Override
    public void createDirectory(Path dir) throws IOException {
        io.createDirectory(dir);
    }

    @Override
    public void move(Path from, Path to) throws IOException {
        io.move(from, to);
    }

    @Override
    public void delete(Path path) throws IOException {
        io.delete(path);
    }

    @Override
    public void deleteRecursively(Path path) throws IOException {
        io.deleteRecursively(path);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        io.syncDirectory(dir);
    }

    @Override
    public Closeable lock(Path lockFile) throws IOException {
        return io.lock(lockFile);
    }

    @Override
    public long usableSpace(Path dir) throws IOException {
        return io.usableSpace(dir);
    }
}
