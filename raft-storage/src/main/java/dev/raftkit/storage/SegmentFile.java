package dev.raftkit.storage;

import dev.raftkit.core.log.Entry;
import dev.raftkit.spi.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.locks.Lock;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;

/**
 * One segment file of a {@link SegmentedLogStorage} and its in-memory index (the file offset of
 * every record it holds): creating it, appending records to it, reading and verifying one record,
 * sealing it (open to closed), cutting a suffix and deleting it. The format is in
 * {@code docs/storage-format.md}, "Segment file"; {@link SegmentScanner} verifies a segment at
 * start-up. Which segments make up the log, and in what order, is the façade's business.
 *
 * <p>Threads: every method that changes the file or the index runs on the log's writer thread (or
 * the thread opening the log). Readers call {@link #read} and the index queries concurrently,
 * under the log's read lock; so index and name changes are published under the log's write lock,
 * which the writer passes in as {@code publish} and which is never held across an fsync. Every
 * method touching the file may block on the disk; an {@link IOException} leaves the file in a
 * state recovery can explain (the log then fails stop).
 */
final class SegmentFile {

    static final String OPEN_PREFIX = "log_inprogress_";
    static final String CLOSED_PREFIX = "log_";
    /** Shared by every filler thread: each writes from a duplicate, so none moves another's position. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20);

    final long firstIndex;
    /** Term of entry {@code firstIndex - 1}, from the header. */
    final long prevTerm;
    final FileIo.Handle handle;
    Path path;
    boolean open;
    /** {@code offsets[k]} is where the record of index {@code firstIndex + k} starts. */
    private int[] offsets = new int[64];
    private int count;
    /** Where the next record goes: the end of the last record. */
    long dataEnd = SegmentHeader.BYTES;

    SegmentFile(Path path, FileIo.Handle handle, long firstIndex, long prevTerm, boolean open) {
        this.path = path;
        this.handle = handle;
        this.firstIndex = firstIndex;
        this.prevTerm = prevTerm;
        this.open = open;
    }

    static String openName(long first) {
        return String.format("%s%020d", OPEN_PREFIX, first);
    }

    static String closedName(long first, long last) {
        return String.format("%s%020d-%020d", CLOSED_PREFIX, first, last);
    }

    // ---------------------------------------------------------------- creating

    /**
     * Creates an open segment under a temporary name, forces it, then renames it, so a segment
     * found under its real name always has a complete header (and its zero padding). Durable on
     * return, directory entry included.
     */
    static SegmentFile create(FileIo io, Path dir, SegmentedLogStorage.Options options, long generation, long first,
                              long prevTerm) throws IOException {
        Path tmp = dir.resolve(openName(first) + ChecksummedFile.TMP_SUFFIX);
        io.delete(tmp);
        if (options.preallocate()) {
            checkSpace(io, dir, options.segmentBytes());
        }
        FileIo.Handle h = io.open(tmp);
        try {
            h.tryLock(); // a fresh file only this log knows yet: the lock cannot fail
            h.truncate(0);
            if (options.preallocate()) {
                zeroFill(h, 0, options.segmentBytes());
            }
        } catch (IOException e) {
            h.close();
            throw explainNoSpace(e, io, dir, options.segmentBytes());
        } catch (RuntimeException e) {
            h.close();
            throw e;
        }
        return publish(io, dir, h, tmp, generation, first, prevTerm);
    }

    /**
     * Makes {@code h} (a zero-filled file at {@code tmp}, such as a spare) the open segment from
     * {@code first}: writes the header, forces it and renames it to the open segment's name.
     * Durable on return; closes {@code h} on failure.
     */
    static SegmentFile publish(FileIo io, Path dir, FileIo.Handle h, Path tmp, long generation, long first,
                               long prevTerm) throws IOException {
        Path path = dir.resolve(openName(first));
        try {
            h.write(new SegmentHeader(generation, first, prevTerm).encode(), 0);
            h.force();
            io.move(tmp, path);
            io.syncDirectory(dir);
        } catch (IOException | RuntimeException e) {
            h.close();
            throw e;
        }
        return new SegmentFile(path, h, first, prevTerm, true);
    }

    /**
     * Refuses to start a segment the disk cannot hold, before writing any of it: the bare
     * "No space left on device" of a half-written segment names neither the directory nor the size.
     */
    static void checkSpace(FileIo io, Path dir, long needed) throws IOException {
        long free = io.usableSpace(dir);
        if (free < needed) {
            throw new StorageException(noSpace(dir, needed, free));
        }
    }

    static String noSpace(Path dir, long needed, long free) {
        return "not enough disk space for a new log segment in " + dir + ": a segment takes " + needed
                + " bytes (segmentBytes, written in full ahead of use) but the file system has "
                + (free == Long.MAX_VALUE ? "too few" : String.valueOf(free)) + " bytes free. Free space on that"
                + " file system, or configure a smaller segment size (SegmentedLogStorage.Options.withSegmentBytes)";
    }

    /** {@code e} itself, or for a full disk an IOException that says where, how much and what to do. */
    static IOException explainNoSpace(IOException e, FileIo io, Path dir, long needed) {
        if (e.getMessage() == null || !e.getMessage().contains("No space left")) {
            return e;
        }
        long free;
        try {
            free = io.usableSpace(dir);
        } catch (IOException | RuntimeException ignored) {
            free = Long.MAX_VALUE;
        }
        return new IOException(noSpace(dir, needed, free) + " (" + e.getMessage() + ")", e);
    }

    static void zeroFill(FileIo.Handle h, long from, long to) throws IOException {
        zeroFill(h, from, to, () -> false);
    }

    /** Writes zeros over [from, to), stopping early once {@code stop} says so (checked per MiB). */
    static void zeroFill(FileIo.Handle h, long from, long to, BooleanSupplier stop) throws IOException {
        for (long p = from; p < to && !stop.getAsBoolean(); ) {
            ByteBuffer z = ZEROS.duplicate().clear().limit((int) Math.min(ZEROS.capacity(), to - p));
            int n = z.remaining();
            h.write(z, p);
            p += n;
        }
    }

    // ---------------------------------------------------------------- the index

    int count() {
        return count;
    }

    /** The last index held, or {@code firstIndex - 1} if empty. */
    long lastIndex() {
        return firstIndex + count - 1;
    }

    boolean contains(long index) {
        return index >= firstIndex && index < firstIndex + count;
    }

    long offset(long index) {
        return offsets[(int) (index - firstIndex)];
    }

    int recordBytes(long index) {
        int k = (int) (index - firstIndex);
        long end = k + 1 < count ? offsets[k + 1] : dataEnd;
        return (int) (end - offsets[k]);
    }

    /** Records the next record at {@code offset}, ending at {@code end}. Under the write lock. */
    void add(long offset, long end) {
        if (count == offsets.length) {
            offsets = Arrays.copyOf(offsets, count * 2);
        }
        offsets[count++] = (int) offset;
        dataEnd = end;
    }

    /** Forgets records from {@code index} on. Under the write lock; the file is cut by {@link #cutAfterData}. */
    void truncateFrom(long index) {
        int k = (int) (index - firstIndex);
        if (k < count) {
            dataEnd = offsets[k];
            count = k;
        }
    }

    // ---------------------------------------------------------------- reading and writing

    /**
     * Reads and checks the record of {@code index}, which this segment holds with term
     * {@code term}; any thread, under the log's read lock. Blocks on the disk unless cached by the OS.
     *
     * @throws StorageException if it cannot be read, or reads back as anything but that entry
     *     (corruption found after start-up: the node must stop)
     */
    Entry read(long index, long term) {
        long offset = offset(index);
        int n = recordBytes(index);
        ByteBuffer buf = ByteBuffer.allocate(n);
        try {
            handle.readFully(buf, offset, path);
        } catch (IOException e) {
            throw new StorageException("cannot read log entry " + index + " from " + path + " at offset "
                    + offset + ": " + e.getMessage() + "; the node stops; check the disk", e);
        }
        Entry e = RecordCodec.decode(buf.flip(), 0, new CRC32C());
        if (e == null || e.index() != index || e.term() != term) {
            throw SegmentScanner.corrupt(path, offset, "entry " + index
                    + (e == null ? " fails its checksum" : " reads back as " + e.id()) + " after start-up");
        }
        return e;
    }

    /**
     * Writes encoded records at the end of the data (into the OS page cache: durable only after
     * {@link #force}), without indexing them; the caller then {@link #add}s each under the write lock.
     *
     * @return where the first of them starts
     */
    long write(ByteBuffer records) throws IOException {
        long start = dataEnd;
        handle.write(records, start);
        return start;
    }

    /** fdatasync: makes every record written so far durable. */
    void force() throws IOException {
        handle.force();
    }

    /**
     * Closes this open segment: cuts the file at its data, forces it and renames it to its closed
     * name. Recovery requires closed segments to be complete, so all of it is durable on return.
     */
    void seal(FileIo io, Path dir, Lock publish) throws IOException {
        handle.truncate(dataEnd);
        handle.force();
        Path closedPath = dir.resolve(closedName(firstIndex, lastIndex()));
        io.move(path, closedPath);
        io.syncDirectory(dir);
        publish.lock();
        try {
            path = closedPath;
            open = false;
        } finally {
            publish.unlock();
        }
    }

    /**
     * After {@link #truncateFrom}: makes this the open segment again if it was closed (a closed
     * name promises records up to its last index), and cuts the file at the data, zero-filling the
     * rest with preallocation, since recovery relies on everything after the log's end being zero.
     * Durable on return.
     */
    void cutAfterData(FileIo io, Path dir, SegmentedLogStorage.Options options, Lock publish) throws IOException {
        if (!open) {
            Path openPath = dir.resolve(openName(firstIndex));
            io.move(path, openPath);
            io.syncDirectory(dir);
            publish.lock();
            try {
                path = openPath;
                open = true;
            } finally {
                publish.unlock();
            }
        }
        cutAt(dataEnd, options);
    }

    /**
     * Cuts the file at {@code at} (a torn or damaged tail found by recovery, or the end of the
     * data), zero-filling up to the segment size with preallocation. Durable on return.
     */
    void cutAt(long at, SegmentedLogStorage.Options options) throws IOException {
        handle.truncate(at);
        if (options.preallocate()) {
            zeroFill(handle, at, options.segmentBytes());
        }
        handle.force();
    }

    /** Closes and deletes the file; the caller syncs the directory (once for many). */
    void delete(FileIo io) throws IOException {
        handle.close();
        io.delete(path);
    }

    @Override
    public String toString() {
        return path.getFileName() + "[" + firstIndex + ".." + lastIndex() + "]";
    }
}
