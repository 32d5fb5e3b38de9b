package dev.raftkit.storage;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * One log record: {@code [length:4][crc32c:4][term:8][index:8][type:1][payload:n][end:1]},
 * big-endian, where {@code length = 18 + n} counts the bytes after the CRC field and the CRC covers
 * exactly those bytes. The end marker {@code 0xA5} is never zero, so a record whose last byte
 * reads zero was not completely written (a torn write), while a complete record with a flipped bit
 * still ends in a non-zero byte; recovery relies on this to tell the two apart.
 * See {@code docs/storage-format.md}.
 */
final class RecordCodec {

    static final int PREFIX_BYTES = 8;
    static final int FIXED_BODY_BYTES = 8 + 8 + 1 + 1;
    static final byte END_MARKER = (byte) 0xA5;
    /** Larger lengths are treated as damage, never as a record to allocate for. */
    static final int MAX_LENGTH = 256 << 20;

    private RecordCodec() {
    }

    static int recordBytes(Entry e) {
        return PREFIX_BYTES + FIXED_BODY_BYTES + e.data().length;
    }

    /**
     * Refuses an entry whose record would exceed {@link #MAX_LENGTH} (recovery would read it as
     * damage). The runtime's command limit keeps client entries far below it.
     *
     * @throws IllegalArgumentException naming the entry, its size and the limit
     */
    static void checkEncodable(Entry e) {
        long length = (long) FIXED_BODY_BYTES + e.data().length;
        if (length > MAX_LENGTH) {
            throw new IllegalArgumentException("log entry " + e.index() + " has " + e.data().length
                    + " payload bytes; a log record holds at most " + (MAX_LENGTH - FIXED_BODY_BYTES)
                    + "; nothing of it was written (the command limit, maxCommandBytes, should have refused it)");
        }
    }

    /**
     * Encodes {@code e} at {@code buf}'s position, which must have room for {@link #recordBytes}.
     *
     * @throws IllegalArgumentException if it has not, or the entry is too large for a record; the
     *     buffer is then unchanged
     */
    static void encode(Entry e, ByteBuffer buf, CRC32C crc) {
        checkEncodable(e);
        if (buf.remaining() < recordBytes(e)) {
            throw new IllegalArgumentException("log entry " + e.index() + " needs " + recordBytes(e)
                    + " bytes of buffer but only " + buf.remaining() + " are left; nothing was encoded");
        }
        int start = buf.position();
        int length = FIXED_BODY_BYTES + e.data().length;
        buf.putInt(length).putInt(0)
                .putLong(e.term()).putLong(e.index()).put((byte) e.type().code())
                .put(e.data()).put(END_MARKER);
        crc.reset();
        crc.update(buf.duplicate().position(start + PREFIX_BYTES).limit(start + PREFIX_BYTES + length));
        buf.putInt(start + 4, (int) crc.getValue());
    }

    /**
     * Checks and decodes the record whose {@code 8 + length} bytes are {@code buf[pos, pos+8+length)}.
     *
     * @return the entry, or {@code null} if the bytes are not a valid record (length out of range,
     *     CRC mismatch, bad end marker or type)
     */
    static Entry decode(ByteBuffer buf, int pos, CRC32C crc) {
        int length = buf.getInt(pos);
        if (length < FIXED_BODY_BYTES || length > MAX_LENGTH || pos + PREFIX_BYTES + (long) length > buf.limit()) {
            return null;
        }
        crc.reset();
        crc.update(buf.duplicate().position(pos + PREFIX_BYTES).limit(pos + PREFIX_BYTES + length));
        if ((int) crc.getValue() != buf.getInt(pos + 4)) {
            return null;
        }
        int end = pos + PREFIX_BYTES + length;
        if (buf.get(end - 1) != END_MARKER) {
            return null;
        }
        long term = buf.getLong(pos + 8);
        long index = buf.getLong(pos + 16);
        int type = buf.get(pos + 24);
        if (term < 1 || index < 1 || type < 0 || type >= EntryType.values().length) {
            return null;
        }
        byte[] data = new byte[length - FIXED_BODY_BYTES];
        buf.get(pos + 25, data);
        return new Entry(term, index, EntryType.fromCode(type), data);
    }

    /**
     * Like {@link #decode} but without building the entry: the record's index and term go to
     * {@code out[0], out[1]}. Used by recovery, which must not allocate per record.
     */
    static boolean check(ByteBuffer buf, int pos, CRC32C crc, long[] out) {
        int length = buf.getInt(pos);
        if (length < FIXED_BODY_BYTES || length > MAX_LENGTH || pos + PREFIX_BYTES + (long) length > buf.limit()) {
            return false;
        }
        crc.reset();
        crc.update(buf.duplicate().position(pos + PREFIX_BYTES).limit(pos + PREFIX_BYTES + length));
        if ((int) crc.getValue() != buf.getInt(pos + 4)) {
            return false;
        }
        int type = buf.get(pos + 24);
        long term = buf.getLong(pos + 8);
        long index = buf.getLong(pos + 16);
        if (buf.get(pos + PREFIX_BYTES + length - 1) != END_MARKER || term < 1 || index < 1
                || type < 0 || type >= EntryType.values().length) {
            return false;
        }
        out[0] = index;
        out[1] = term;
        return true;
    }
}
