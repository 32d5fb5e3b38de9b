package dev.raftkit.sql;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * The wire format shared by requests, results and table artifacts (docs/sql.md, "Wire format"):
 * big-endian; a string is an int byte length and UTF-8; a value is a one-byte storage class (0
 * NULL, 1 INTEGER long, 2 REAL double, 3 TEXT string, 4 BLOB int length + bytes). Values are
 * {@code null}, {@link Long}, {@link Double}, {@link String} or {@code byte[]}.
 *
 * <p>Every entry of the SQL store is decoded and its result encoded on the apply thread, so both
 * work on the byte array directly: a {@link Writer} grows one array, and reads go through a
 * {@link ByteBuffer} over the entry's own bytes (no stream, no copy but the values themselves). A
 * read past the end throws {@link BufferUnderflowException}, which callers turn into "truncated".
 */
final class SqlWire {

    /** First byte of every request and result. */
    static final byte MAGIC = 'Q';
    /** Format version; a reader refuses any other. */
    static final byte VERSION = 1;
    /** Longest string or blob accepted on decode (guards allocations against corrupt lengths). */
    private static final int MAX_LENGTH = 1 << 30;

    private SqlWire() {
    }

    interface Body {
        void write(Writer out);
    }

    /** A growable big-endian byte array; what {@link Body} writes into. */
    static final class Writer {
        private byte[] buf;
        private int size;

        Writer(int capacity) {
            buf = new byte[capacity];
        }

        private void ensure(int more) {
            if (buf.length - size < more) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
            }
        }

        void writeByte(int b) {
            ensure(1);
            buf[size++] = (byte) b;
        }

        void writeInt(int v) {
            ensure(4);
            buf[size] = (byte) (v >>> 24);
            buf[size + 1] = (byte) (v >>> 16);
            buf[size + 2] = (byte) (v >>> 8);
            buf[size + 3] = (byte) v;
            size += 4;
        }

        void writeLong(long v) {
            writeInt((int) (v >>> 32));
            writeInt((int) v);
        }

        void write(byte[] b) {
            ensure(b.length);
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
        }

        /** Feeds the bytes written so far to {@code md}, without copying them. */
        void update(MessageDigest md) {
            md.update(buf, 0, size);
        }

        /** The bytes written so far, as a new array. */
        byte[] toByteArray() {
            return Arrays.copyOf(buf, size);
        }
    }

    static byte[] encode(byte kind, Body body) {
        Writer out = new Writer(64);
        out.writeByte(MAGIC);
        out.writeByte(VERSION);
        out.writeByte(kind);
        body.write(out);
        return out.toByteArray();
    }

    /** Opens {@code bytes} after checking magic and version; the next byte is the kind. */
    static ByteBuffer open(byte[] bytes, String what) {
        if (bytes == null || bytes.length < 3 || bytes[0] != MAGIC) {
            throw new SqlCodecException("not a SQL " + what + " (" + (bytes == null ? "null" : bytes.length + " bytes")
                    + " without the 'Q' magic byte)");
        }
        if (bytes[1] != VERSION) {
            throw new SqlCodecException("SQL " + what + " format version " + bytes[1] + " is not supported (this code"
                    + " reads version " + VERSION + "); upgrade the older side");
        }
        return ByteBuffer.wrap(bytes, 2, bytes.length - 2);
    }

    static void end(ByteBuffer in, String what) {
        if (in.hasRemaining()) {
            throw new SqlCodecException("SQL " + what + " has " + in.remaining() + " trailing bytes");
        }
    }

    static SqlCodecException truncated(String what) {
        return new SqlCodecException("SQL " + what + " is truncated");
    }

    static void writeString(Writer out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    static String readString(ByteBuffer in) {
        int n = readLength(in);
        String s = new String(in.array(), in.arrayOffset() + in.position(), n, StandardCharsets.UTF_8);
        in.position(in.position() + n);
        return s;
    }

    private static byte[] readBytes(ByteBuffer in) {
        byte[] b = new byte[readLength(in)];
        in.get(b);
        return b;
    }

    private static int readLength(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > MAX_LENGTH || n > in.remaining()) {
            throw new SqlCodecException("length " + n + " is out of range (" + in.remaining() + " bytes left)");
        }
        return n;
    }

    static int readCount(ByteBuffer in) {
        int n = in.getInt();
        if (n < 0 || n > in.remaining()) {
            throw new SqlCodecException("count " + n + " is out of range (" + in.remaining() + " bytes left)");
        }
        return n;
    }

    static void writeValue(Writer out, Object v) {
        if (v == null) {
            out.writeByte(0);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            out.writeByte(1);
            out.writeLong(((Number) v).longValue());
        } else if (v instanceof Double || v instanceof Float) {
            out.writeByte(2);
            out.writeLong(Double.doubleToLongBits(((Number) v).doubleValue()));
        } else if (v instanceof String s) {
            out.writeByte(3);
            writeString(out, s);
        } else if (v instanceof byte[] b) {
            out.writeByte(4);
            out.writeInt(b.length);
            out.write(b);
        } else if (v instanceof Boolean b) {
            out.writeByte(1);
            out.writeLong(b ? 1 : 0);
        } else {
            throw new IllegalArgumentException("a SQL value is null, a number, a String or a byte[]; got "
                    + v.getClass().getName());
        }
    }

    static Object readValue(ByteBuffer in) {
        int tag = in.get();
        return switch (tag) {
            case 0 -> null;
            case 1 -> in.getLong();
            case 2 -> in.getDouble();
            case 3 -> readString(in);
            case 4 -> readBytes(in);
            default -> throw new SqlCodecException("unknown value storage class " + tag);
        };
    }
}
