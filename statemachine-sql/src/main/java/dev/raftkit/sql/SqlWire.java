package dev.raftkit.sql;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The wire format shared by requests and results (docs/sql.md, "Wire format"): big-endian; a
 * string is an int byte length and UTF-8; a value is a one-byte storage class (0 NULL, 1 INTEGER
 * long, 2 REAL double, 3 TEXT string, 4 BLOB int length + bytes). Values are {@code null},
 * {@link Long}, {@link Double}, {@link String} or {@code byte[]}.
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
        void write(DataOutputStream out) throws IOException;
    }

    static byte[] encode(byte kind, Body body) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(MAGIC);
            out.writeByte(VERSION);
            out.writeByte(kind);
            body.write(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
    }

    /** Opens {@code bytes} after checking magic and version; the next byte is the kind. */
    static DataInputStream open(byte[] bytes, String what) {
        if (bytes == null || bytes.length < 3 || bytes[0] != MAGIC) {
            throw new SqlCodecException("not a SQL " + what + " (" + (bytes == null ? "null" : bytes.length + " bytes")
                    + " without the 'Q' magic byte)");
        }
        if (bytes[1] != VERSION) {
            throw new SqlCodecException("SQL " + what + " format version " + bytes[1] + " is not supported (this code"
                    + " reads version " + VERSION + "); upgrade the older side");
        }
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        try {
            in.skipBytes(2);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return in;
    }

    static void end(DataInputStream in, String what) throws IOException {
        if (in.available() != 0) {
            throw new SqlCodecException("SQL " + what + " has " + in.available() + " trailing bytes");
        }
    }

    static SqlCodecException truncated(String what, EOFException e) {
        return new SqlCodecException("SQL " + what + " is truncated");
    }

    static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    static String readString(DataInputStream in) throws IOException {
        return new String(readBytes(in), StandardCharsets.UTF_8);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > MAX_LENGTH || n > in.available()) {
            throw new SqlCodecException("length " + n + " is out of range (" + in.available() + " bytes left)");
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    static int readCount(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available()) {
            throw new SqlCodecException("count " + n + " is out of range (" + in.available() + " bytes left)");
        }
        return n;
    }

    static void writeValue(DataOutputStream out, Object v) throws IOException {
        if (v == null) {
            out.writeByte(0);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            out.writeByte(1);
            out.writeLong(((Number) v).longValue());
        } else if (v instanceof Double || v instanceof Float) {
            out.writeByte(2);
            out.writeDouble(((Number) v).doubleValue());
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

    static Object readValue(DataInputStream in) throws IOException {
        int tag = in.readByte();
        return switch (tag) {
            case 0 -> null;
            case 1 -> in.readLong();
            case 2 -> in.readDouble();
            case 3 -> readString(in);
            case 4 -> readBytes(in);
            default -> throw new SqlCodecException("unknown value storage class " + tag);
        };
    }
}
