package dev.raftkit.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * A {@link FileIo} that passes every call to another, for wrappers that change one thing (count
 * the bytes read, fail some writes, stall fsyncs) and forward the rest: override what you change.
 * Handles are wrapped only where a subclass wraps them, with {@link ForwardingHandle}. The
 * threads, blocking, durability and exceptions are those of the file system forwarded to, plus
 * whatever the subclass changes.
 */
public class ForwardingFileIo implements FileIo {

    /** The file system every call goes to. */
    protected final FileIo delegate;

    /** Forwards to {@code delegate}. */
    public ForwardingFileIo(FileIo delegate) {
        this.delegate = delegate;
    }

    @Override
    public Handle open(Path file) throws IOException {
        return delegate.open(file);
    }

    @Override
    public boolean exists(Path path) {
        return delegate.exists(path);
    }

    @Override
    public boolean isDirectory(Path path) {
        return delegate.isDirectory(path);
    }

    @Override
    public List<String> list(Path dir) throws IOException {
        return delegate.list(dir);
    }

    @Override
    public void createDirectory(Path dir) throws IOException {
        delegate.createDirectory(dir);
    }

    @Override
    public void move(Path from, Path to) throws IOException {
        delegate.move(from, to);
    }

    @Override
    public void delete(Path path) throws IOException {
        delegate.delete(path);
    }

    @Override
    public void deleteRecursively(Path path) throws IOException {
        delegate.deleteRecursively(path);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        delegate.syncDirectory(dir);
    }

    @Override
    public Closeable lock(Path lockFile) throws IOException {
        return delegate.lock(lockFile);
    }

    @Override
    public long usableSpace(Path dir) throws IOException {
        return delegate.usableSpace(dir);
    }

    /** A handle that passes every call to another: override what you change. */
    public static class ForwardingHandle implements Handle {

        /** The handle every call goes to. */
        protected final Handle delegate;

        /** Forwards to {@code delegate}. */
        public ForwardingHandle(Handle delegate) {
            this.delegate = delegate;
        }

        @Override
        public long size() throws IOException {
            return delegate.size();
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return delegate.read(dst, position);
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            delegate.write(src, position);
        }

        @Override
        public void truncate(long size) throws IOException {
            delegate.truncate(size);
        }

        @Override
        public void force() throws IOException {
            delegate.force();
        }

        @Override
        public boolean tryLock() throws IOException {
            return delegate.tryLock();
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }
}
