package dev.raftkit.kv;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The primitives of the KV wire format: unsigned LEB128 varints for lengths, counts and
 * versions (a version is an index, usually a few bytes), length-prefixed byte strings. The reader
 * checks every length against what is left and against the caller's limit, and reports the
 * offset of the first bad byte.
 */
final class Wire {

    private Wire() {
    }

    /** Appends fields to a growing buffer. */
    static final class Writer {
        private final ByteArrayOutputStream out;

        Writer(int sizeHint) {
            out = new ByteArrayOutputStream(sizeHint);
        }

        Writer u8(int b) {
            out.write(b);
            return this;
        }

        Writer varLong(long v) {
            if (v < 0) {
                throw new IllegalArgumentException("cannot encode negative " + v + " as an unsigned varint");
            }
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
            return this;
        }

        Writer bytes(byte[] b) {
            varLong(b.length);
            out.write(b, 0, b.length);
            return this;
        }

        Writer string(String s) {
            return bytes(s.getBytes(StandardCharsets.UTF_8));
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }

    /** Reads fields from a byte array, failing with the offset on anything malformed. */
    static final class Reader {
        private final byte[] buf;
        private final String what;
        private int pos;

        /** {@code what} names the message in errors, e.g. "KV command". */
        Reader(byte[] buf, String what) {
            this.buf = buf;
            this.what = what;
        }

        int position() {
            return pos;
        }

        KvCodecException error(String problem) {
            return new KvCodecException(what + " (" + buf.length + " bytes) is malformed at byte " + pos + ": "
                    + problem);
        }

        int u8() {
            if (pos >= buf.length) {
                throw error("truncated: expected 1 more byte");
            }
            return buf[pos++] & 0xFF;
        }

        long varLong() {
            int start = pos;
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                int b = u8();
                v |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    if (v < 0 || (shift == 63 && b > 1)) {
                        pos = start;
                        throw error("varint overflows a signed 64-bit value");
                    }
                    return v;
                }
            }
            pos = start;
            throw error("varint is longer than 10 bytes");
        }

        /** A varint that must lie in {@code [0, max]}. */
        int varInt(int max, String field) {
            int start = pos;
            long v = varLong();
            if (v > max) {
                pos = start;
                throw error(field + " " + v + " exceeds the limit of " + max);
            }
            return (int) v;
        }

        byte[] bytes(int maxLength, String field) {
            int length = varInt(maxLength, field + " length");
            if (length > buf.length - pos) {
                throw error(field + " needs " + length + " bytes but only " + (buf.length - pos) + " are left");
            }
            byte[] b = Arrays.copyOfRange(buf, pos, pos + length);
            pos += length;
            return b;
        }

        String string(int maxLength, String field) {
            return new String(bytes(maxLength, field), StandardCharsets.UTF_8);
        }

        void expectEnd() {
            if (pos != buf.length) {
                throw error((buf.length - pos) + " unexpected trailing bytes");
            }
        }
    }
}
