package dev.raftkit.storage;

import dev.raftkit.spi.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Reads a segment at start-up, checks every record and builds its index.
 *
 * <p>A closed segment must hold exactly its records, every one valid. In the open segment a
 * crash may have torn the last write; what a torn write looks like decides what is repaired:
 * the storage keeps the bytes after the end of the log zero (preallocation writes zeros; a
 * truncation cuts the file), and a crash keeps a prefix of the last write, so a torn record is a
 * valid-looking prefix followed only by zeros, including where its non-zero end marker should be.
 * A complete record hit by a bit flip keeps its end marker (or, if the flip is in its length
 * field, becomes valid again when that bit is flipped back), and a record followed by anything
 * non-zero was not the last write. Those are damage, not a torn write: when no valid record
 * follows them (garbage over the last sector, a flip in the last record) the scan reports a
 * <em>damaged</em> tail, which recovery cuts and then starts the node recovering (it may have
 * acknowledged the entries cut, so it must not vote until it has caught up: issue 13); when a
 * valid record follows, the damage is in the middle of the log and the scan stops with an error.
 */
final class SegmentScanner {

    /**
     * The outcome for the open segment: a clean end ({@code tornAt < 0}), or a tail to cut at
     * {@code tornAt} — torn (never synced, so never acknowledged) or {@code damaged} (possibly
     * synced and acknowledged: the node must recover what it held).
     */
    record Tail(long tornAt, long lastNonZero, boolean damaged) {
    }

    private static final int WINDOW = 1 << 20;

    private final boolean naive;
    private final FileIo.Handle handle;
    private final Path path;
    private final long fileSize;
    private final CRC32C crc = new CRC32C();
    private final long[] idTerm = new long[2];
    private ByteBuffer window;
    private long windowStart;

    /** With {@code naive}, the planted bug of {@link StorageTestingHooks#cutAtFirstInvalidRecord}. */
    SegmentScanner(FileIo.Handle handle, Path path, boolean naive) throws IOException {
        this.naive = naive;
        this.handle = handle;
        this.path = path;
        this.fileSize = handle.size();
        this.window = ByteBuffer.allocate((int) Math.max(SegmentHeader.BYTES, Math.min(WINDOW, fileSize)));
        this.window.limit(0);
    }

    static StorageException corrupt(Path file, long offset, String why) {
        return new StorageException("log segment " + file + " is corrupt at offset " + offset + " (" + why
                + "); the node will not start; restore this node from a peer or a backup");
    }

    SegmentHeader header() throws IOException {
        load(0, SegmentHeader.BYTES);
        Object h = SegmentHeader.decode(window);
        if (h instanceof String why) {
            throw corrupt(path, 0, why);
        }
        return (SegmentHeader) h;
    }

    /**
     * Indexes every valid record into {@code seg} and {@code terms}.
     *
     * @return for the open segment, where it ends (and whether it is torn); for a closed one
     *     {@code null}, having checked that it is complete
     */
    Tail scan(SegmentFile seg, TermRuns terms, long lastTerm, boolean open) throws IOException {
        long pos = SegmentHeader.BYTES;
        long expected = seg.firstIndex;
        long term = lastTerm;
        while (true) {
            if (pos == fileSize && !open) {
                return null;
            }
            if (pos + 4 > fileSize || length(pos) == 0) {
                if (!open) {
                    throw corrupt(path, pos, pos + 4 > fileSize ? "the file ends inside a record"
                            : "zero-length record in a closed segment");
                }
                return tail(pos);
            }
            int length = length(pos);
            boolean fits = length >= RecordCodec.FIXED_BODY_BYTES && length <= RecordCodec.MAX_LENGTH
                    && pos + 8 + length <= fileSize;
            if (fits && load(pos, 8 + length) && RecordCodec.check(window, (int) (pos - windowStart), crc, idTerm)) {
                if (idTerm[0] != expected) {
                    throw corrupt(path, pos, "record holds index " + idTerm[0] + " where " + expected + " belongs");
                }
                if (idTerm[1] < term) {
                    throw corrupt(path, pos, "record at index " + expected + " has term " + idTerm[1]
                            + ", lower than the term " + term + " before it");
                }
                term = idTerm[1];
                seg.add(pos, pos + 8 + length);
                terms.append(expected, term);
                expected++;
                pos += 8 + length;
                continue;
            }
            if (!open) {
                throw corrupt(path, pos, "invalid record (checksum mismatch, bad length or bad end marker)");
            }
            return tail(pos);
        }
    }

    /** Decides what the bytes from {@code pos}, where no valid record starts, are. */
    private Tail tail(long pos) throws IOException {
        long z = lastNonZero(pos);
        if (z < 0) {
            return new Tail(-1, -1, false); // clean end: nothing but zeros follows
        }
        if (naive) {
            return new Tail(pos, z, false); // planted bug: every bad record is a torn write
        }
        long length = pos + 4 <= fileSize ? Integer.toUnsignedLong(length(pos)) : -1;
        if (length == 0) {
            return damaged(pos, z, "non-zero byte after the end of the log at offset " + pos);
        }
        long claimedLast = length > 0 ? pos + 8 + length - 1 : Long.MAX_VALUE;
        if (z >= claimedLast) {
            return damaged(pos, z, "invalid record (checksum mismatch, bad end marker or index) that is not a torn write");
        }
        if (length > 0) {
            for (int bit = 0; bit < 32; bit++) {
                long other = length ^ (1L << bit);
                if (other >= RecordCodec.FIXED_BODY_BYTES && other <= RecordCodec.MAX_LENGTH
                        && pos + 8 + other <= fileSize && load(pos, (int) (8 + other))) {
                    ByteBuffer copy = ByteBuffer.allocate((int) (8 + other));
                    copy.put(window.duplicate().position((int) (pos - windowStart)).limit((int) (pos - windowStart + 8 + other)));
                    copy.putInt(0, (int) other);
                    if (RecordCodec.check(copy.flip(), 0, crc, idTerm)) {
                        return damaged(pos, z, "the record's length field is damaged (bit " + bit + " flipped)");
                    }
                }
            }
        }
        return new Tail(pos, z, false);
    }

    /**
     * Damage at {@code pos} that is not a torn write: a tail to cut if no valid record starts
     * anywhere after it (the damage is the end of the log), corruption otherwise (cutting would
     * drop valid entries after it).
     */
    private Tail damaged(long pos, long lastNonZero, String why) throws IOException {
        for (long p = pos + 1; p + 8 + RecordCodec.FIXED_BODY_BYTES <= fileSize && p <= lastNonZero; p++) {
            int length = length(p);
            if (length >= RecordCodec.FIXED_BODY_BYTES && length <= RecordCodec.MAX_LENGTH && p + 8 + length <= fileSize
                    && load(p, 8 + length) && RecordCodec.check(window, (int) (p - windowStart), crc, idTerm)) {
                throw corrupt(path, pos, why + ", followed by a valid record at offset " + p);
            }
        }
        return new Tail(pos, lastNonZero, true);
    }

    private int length(long pos) throws IOException {
        load(pos, 4);
        return window.getInt((int) (pos - windowStart));
    }

    /** The offset of the last non-zero byte at or after {@code from}, or -1. */
    private long lastNonZero(long from) throws IOException {
        long last = -1;
        ByteBuffer buf = ByteBuffer.allocate((int) Math.max(1, Math.min(WINDOW, fileSize - from)));
        for (long p = from; p < fileSize; p += buf.limit()) {
            buf.clear().limit((int) Math.min(buf.capacity(), fileSize - p));
            handle.readFully(buf, p, path);
            byte[] a = buf.array();
            for (int i = buf.limit() - 1; i >= 0; i--) {
                if (a[i] != 0) {
                    last = p + i;
                    break;
                }
            }
        }
        return last;
    }

    /** Makes {@code [pos, pos + n)} readable in the window; false if the file is shorter. */
    private boolean load(long pos, int n) throws IOException {
        if (pos >= windowStart && pos + n <= windowStart + window.limit()) {
            return true;
        }
        if (pos + n > fileSize) {
            return false;
        }
        if (n > window.capacity()) {
            window = ByteBuffer.allocate(n);
        }
        window.clear().limit((int) Math.min(window.capacity(), fileSize - pos));
        handle.readFully(window, pos, path);
        window.flip();
        windowStart = pos;
        return true;
    }
}
