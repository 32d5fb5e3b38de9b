package dev.raftkit.storage;

import java.io.Closeable;
import java.io.IOException;
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
