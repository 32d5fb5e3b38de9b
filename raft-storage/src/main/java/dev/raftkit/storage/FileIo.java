package dev.raftkit.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * Every file-system call the storage makes goes through here, so crash tests can swap in a file
 * system that remembers which bytes are durable (forced) and which are not, then drop the
 * unsynced ones, tear the last write at any byte, or flip bits anywhere.
 *
 * <p>Names are durable only after {@link #syncDirectory} of their parent (create, rename, delete);
 * contents only after {@link Handle#force()}.
 */
interface FileIo {

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
