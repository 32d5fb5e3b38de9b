package dev.raftkit.storage;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * The file system under {@link SegmentedLogStorage} and {@link FileSnapshotStore}: every call they
 * make to the disk goes through here. Their {@code open(Path)} uses the real one; a test or the
 * simulator passes a {@link SimFileIo}, which remembers which bytes are durable and which are not,
 * so a simulated crash loses exactly what a power cut would.
 *
 * <ul>
 *   <li><b>Thread:</b> the storage calls it from the threads that call the storage itself (the
 *       log writer, the raft loop and the apply thread for reads, the snapshot pool); an
 *       implementation must allow positional reads concurrently with writes to other positions.
 *       A simulated file system driven from one thread need not be thread-safe beyond that.
 *   <li><b>Blocking:</b> every method may block on the device; none is called from a thread that
 *       must not block (the storage is called only from such threads).
 *   <li><b>Durability:</b> a file's contents are durable only after {@link Handle#force()} returns;
 *       a name (create, rename, delete) only after {@link #syncDirectory} of its parent returns.
 *       Anything else may be lost, torn at any byte, or kept, by a crash.
 *   <li><b>Exceptions:</b> {@link IOException} means the operation may or may not have happened
 *       (EIO, ENOSPC, a crash): the storage then stops accepting writes (fail-stop) and reports it;
 *       a {@code FileNotFoundException} for a missing file is an ordinary answer.
 * </ul>
 */
public interface FileIo {

    /** The real file system: files and directories created private to this user ({@link PrivateFiles}). */
    static FileIo real() {
        return RealFileIo.INSTANCE;
    }

    /** Opens {@code file} for reading and writing, creating it if missing (not yet durably named). */
    Handle open(Path file) throws IOException;

    boolean exists(Path path);

    boolean isDirectory(Path path);

    /** The names of the entries directly inside {@code dir}, in no particular order. */
    List<String> list(Path dir) throws IOException;

    void createDirectory(Path dir) throws IOException;

    /** Atomically renames {@code from} to {@code to}, replacing a file at {@code to}. */
    void move(Path from, Path to) throws IOException;

    /** Deletes a file or an empty directory; nothing if it does not exist. */
    void delete(Path path) throws IOException;

    /** Makes creations, renames and deletions inside {@code dir} durable. */
    void syncDirectory(Path dir) throws IOException;

    /**
     * Takes an exclusive lock on the directory of {@code lockFile}, held until closed: an OS file
     * lock on {@code lockFile} against other processes, and a lock on the directory itself
     * (whatever its files) against other stores in this process.
     *
     * @throws dev.raftkit.spi.StorageException if another process (or another store in this
     *     process) holds it, naming the directory and the holder if known
     */
    Closeable lock(Path lockFile) throws IOException;

    /** Bytes a new file in {@code dir} may still take ({@link Long#MAX_VALUE} if unknown). */
    default long usableSpace(Path dir) throws IOException {
        return Long.MAX_VALUE;
    }

    /**
     * Creates {@code dir} and any missing parents, each durably named (its parent synced) when
     * this returns: a directory that a crash can take away takes everything inside with it.
     */
    default void createDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (isDirectory(abs)) {
            return;
        }
        Path parent = abs.getParent();
        if (parent != null) {
            createDirectories(parent);
        }
        createDirectory(abs);
        if (parent != null) {
            syncDirectory(parent);
        }
    }

    /** Deletes {@code path} and, if it is a directory, everything inside it; nothing if it does not exist. */
    default void deleteRecursively(Path path) throws IOException {
        if (isDirectory(path)) {
            for (String child : list(path)) {
                deleteRecursively(path.resolve(child));
            }
        }
        delete(path);
    }

    /** Makes {@code file}'s contents durable ({@link Handle#force()}), or a directory's names ({@link #syncDirectory}). */
    default void force(Path path) throws IOException {
        if (isDirectory(path)) {
            syncDirectory(path);
            return;
        }
        try (Handle h = openExisting(path)) {
            h.force();
        }
    }

    /** Opens an existing file, or throws {@link java.io.FileNotFoundException} naming it. */
    private Handle openExisting(Path file) throws IOException {
        if (!exists(file) || isDirectory(file)) {
            throw new java.io.FileNotFoundException("no file " + file);
        }
        return open(file);
    }

    /** The size of an existing file in bytes. */
    default long size(Path file) throws IOException {
        try (Handle h = openExisting(file)) {
            return h.size();
        }
    }

    /** The whole of an existing file. */
    default byte[] readAllBytes(Path file) throws IOException {
        try (Handle h = openExisting(file)) {
            long size = h.size();
            if (size > Integer.MAX_VALUE - 8) {
                throw new IOException(file + " is " + size + " bytes, too large to read at once");
            }
            ByteBuffer b = ByteBuffer.allocate((int) size);
            h.readFully(b, 0, file);
            return b.array();
        }
    }

    /** Writes {@code bytes} as a new file (it must not exist); not yet durable (see {@link #force}). */
    default void write(Path file, byte[] bytes) throws IOException {
        try (OutputStream out = newOutputStream(file)) {
            out.write(bytes);
        }
    }

    /** Reads an existing file from its start; closing the stream closes the file. */
    default InputStream newInputStream(Path file) throws IOException {
        return new HandleInput(openExisting(file), Long.MAX_VALUE, null, true);
    }

    /**
     * Writes a new file (it must not exist: {@link java.nio.file.FileAlreadyExistsException})
     * from its start; closing the stream closes the file without forcing it.
     */
    default OutputStream newOutputStream(Path file) throws IOException {
        if (exists(file)) {
            throw new java.nio.file.FileAlreadyExistsException(file.toString());
        }
        Handle h = open(file);
        return new OutputStream() {
            private long pos;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                h.write(ByteBuffer.wrap(b, off, len), pos);
                pos += len;
            }

            @Override
            public void close() throws IOException {
                h.close();
            }
        };
    }

    /** An open file. Positional reads may run on other threads concurrently with writes. */
    interface Handle extends Closeable {
        long size() throws IOException;

        /** Reads up to {@code dst.remaining()} bytes at {@code position}; -1 at the end. */
        int read(ByteBuffer dst, long position) throws IOException;

        /** Writes all of {@code src} at {@code position}. */
        void write(ByteBuffer src, long position) throws IOException;

        void truncate(long size) throws IOException;

        /** Makes the file's contents durable (fdatasync). */
        void force() throws IOException;

        /**
         * Takes an exclusive OS lock on this file for as long as the handle is open, so another
         * process that opens the same file (not merely the same name) can tell it is in use.
         *
         * @return false if another process or another handle of this process holds it
         */
        default boolean tryLock() throws IOException {
            return true;
        }

        /** Reads exactly {@code dst.remaining()} bytes or fails naming the file. */
        default void readFully(ByteBuffer dst, long position, Path file) throws IOException {
            long pos = position;
            while (dst.hasRemaining()) {
                int n = read(dst, pos);
                if (n < 0) {
                    throw new java.io.EOFException("unexpected end of " + file + " at offset " + pos);
                }
                pos += n;
            }
        }
    }
}
