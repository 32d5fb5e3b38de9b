package dev.raftkit.storage;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The first {@value #BYTES} bytes of every segment file:
 * {@code [magic "RKLG":4][version:4][generation:8][firstIndex:8][prevTerm:8][crc32c:4]}, the CRC
 * covering the 32 bytes before it. {@code prevTerm} is the term of entry {@code firstIndex - 1},
 * so the log can answer {@code term(firstIndex() - 1)} after older segments are deleted.
 * {@code generation} is the log's install generation (see {@link LogMeta}).
 */
record SegmentHeader(long generation, long firstIndex, long prevTerm) {

    static final int BYTES = 36;
    static final int MAGIC = 0x524B4C47; // "RKLG"
    static final int VERSION = 1;

    ByteBuffer encode() {
        ByteBuffer b = ByteBuffer.allocate(BYTES);
        b.putInt(MAGIC).putInt(VERSION).putLong(generation).putLong(firstIndex).putLong(prevTerm);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 32);
        b.putInt((int) crc.getValue());
        return b.flip();
    }

    /** Decodes a header, or returns a description of what is wrong with it. */
    static Object decode(ByteBuffer b) {
        if (b.remaining() < BYTES) {
            return "the file is shorter than the " + BYTES + "-byte segment header";
        }
        byte[] raw = new byte[BYTES];
        b.get(b.position(), raw);
        ByteBuffer h = ByteBuffer.wrap(raw);
        CRC32C crc = new CRC32C();
        crc.update(raw, 0, 32);
        if ((int) crc.getValue() != h.getInt(32)) {
            return "segment header checksum mismatch";
        }
        if (h.getInt(0) != MAGIC) {
            return "not a Raftkit log segment (bad magic)";
        }
        int version = h.getInt(4);
        if (version != VERSION) {
            return "segment format version " + version + " is not supported (this build reads version " + VERSION + ")";
        }
        return new SegmentHeader(h.getLong(8), h.getLong(16), h.getLong(24));
    }
}
