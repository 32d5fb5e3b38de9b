package dev.raftkit.kv;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A request to the key-value store. Writes ({@link Put}, {@link Delete}, {@link CompareAndSet})
 * go through {@code RaftServer.submit}; reads ({@link Get}, {@link Scan}, {@link GetDigest}) go
 * through {@code RaftServer.read} (or through {@code submit}, which orders them in the log).
 *
 * <p>Wire format, version {@value #FORMAT}: {@code [format u8][type u8][fields]}, byte strings as a
 * varint length then the bytes, numbers as unsigned varints. {@link #decode} checks every length
 * and limit and rejects trailing bytes, so a payload that decodes is one that {@link #encode}
 * could have produced.
 *
 * <p>Keys are 1 to {@value #MAX_KEY_BYTES} bytes, values 0 to {@value #MAX_VALUE_BYTES} bytes,
 * ordered as unsigned bytes (UTF-8 text sorts by code point).
 */
public sealed interface KvCommand {

    /** The wire format version this code writes and reads. */
    int FORMAT = 1;
    int MAX_KEY_BYTES = 4096;
    int MAX_VALUE_BYTES = 1 << 20;
    /** The most entries one scan returns. */
    int MAX_SCAN_LIMIT = 10_000;
    /** {@link CompareAndSet#expectedVersion()} meaning "any version". */
    long ANY_VERSION = -1;
    /** {@link CompareAndSet#expectedVersion()} meaning "the key must be absent". */
    long ABSENT = 0;

    /** Whether the command changes the state (and so must go through the log). */
    boolean isWrite();

    /** The command's bytes for {@code RaftServer.submit} or {@code read}. */
    byte[] encode();

    /** Sets {@code key} to {@code value}; answers {@link KvResult.Written} with the new version. */
    record Put(byte[] key, byte[] value) implements KvCommand {
        public Put {
            checkKey(key, "put");
            checkValue(value, "put");
        }

        @Override
        public boolean isWrite() {
            return true;
        }

        @Override
        public byte[] encode() {
            return header(KvCodec.PUT, key.length + value.length + 8).bytes(key).bytes(value).toByteArray();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Put p && Arrays.equals(key, p.key) && Arrays.equals(value, p.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(key) * 31 + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "Put[" + show(key) + "=" + show(value) + "]";
        }
    }

    /** Removes {@code key}; answers {@link KvResult.Deleted} saying whether it existed. */
    record Delete(byte[] key) implements KvCommand {
        public Delete {
            checkKey(key, "delete");
        }

        @Override
        public boolean isWrite() {
            return true;
        }

        @Override
        public byte[] encode() {
            return header(KvCodec.DELETE, key.length + 4).bytes(key).toByteArray();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Delete d && Arrays.equals(key, d.key);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(key);
        }

        @Override
        public String toString() {
            return "Delete[" + show(key) + "]";
        }
    }

    /**
     * Sets {@code key} to {@code newValue} only if its current value equals {@code expectedValue}
     * (null: any value) and its version equals {@code expectedVersion} ({@link #ANY_VERSION}: any;
     * {@link #ABSENT}: the key must not exist). At least one condition must be given. Answers
     * {@link KvResult.Written} on success, {@link KvResult.CasFailed} with the current entry
     * otherwise, so the client can retry from what it sees.
     */
    record CompareAndSet(byte[] key, byte[] expectedValue, long expectedVersion, byte[] newValue)
            implements KvCommand {
        public CompareAndSet {
            checkKey(key, "compare-and-set");
            checkValue(newValue, "compare-and-set");
            if (expectedValue != null) {
                checkValue(expectedValue, "compare-and-set's expected");
            }
            if (expectedVersion < ANY_VERSION) {
                throw new IllegalArgumentException("compare-and-set's expected version must be a version (> 0), "
                        + "ABSENT (0) or ANY_VERSION (-1), got " + expectedVersion);
            }
            if (expectedValue == null && expectedVersion == ANY_VERSION) {
                throw new IllegalArgumentException("compare-and-set needs an expected value, an expected version, or"
                        + " both; without either it is a put");
            }
        }

        /** Succeeds only if the key's version is {@code expectedVersion} (0: absent). */
        public static CompareAndSet ifVersion(byte[] key, long expectedVersion, byte[] newValue) {
            return new CompareAndSet(key, null, expectedVersion, newValue);
        }

        /** Succeeds only if the key currently holds {@code expectedValue}. */
        public static CompareAndSet ifValue(byte[] key, byte[] expectedValue, byte[] newValue) {
            return new CompareAndSet(key, expectedValue, ANY_VERSION, newValue);
        }

        @Override
        public boolean isWrite() {
            return true;
        }

        @Override
        public byte[] encode() {
            int flags = (expectedValue != null ? 1 : 0) | (expectedVersion != ANY_VERSION ? 2 : 0);
            Wire.Writer w = header(KvCodec.CAS, key.length + newValue.length + 24).bytes(key).u8(flags);
            if (expectedValue != null) {
                w.bytes(expectedValue);
            }
            if (expectedVersion != ANY_VERSION) {
                w.varLong(expectedVersion);
            }
            return w.bytes(newValue).toByteArray();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CompareAndSet c && expectedVersion == c.expectedVersion && Arrays.equals(key, c.key)
                    && Arrays.equals(expectedValue, c.expectedValue) && Arrays.equals(newValue, c.newValue);
        }

        @Override
        public int hashCode() {
            return Objects.hash(Arrays.hashCode(key), Arrays.hashCode(expectedValue), expectedVersion,
                    Arrays.hashCode(newValue));
        }

        @Override
        public String toString() {
            return "CompareAndSet[" + show(key) + (expectedValue != null ? " if value=" + show(expectedValue) : "")
                    + (expectedVersion != ANY_VERSION ? " if version=" + expectedVersion : "") + " → "
                    + show(newValue) + "]";
        }
    }

    /** Reads {@code key}; answers {@link KvResult.Found} or {@link KvResult.NotFound}. */
    record Get(byte[] key) implements KvCommand {
        public Get {
            checkKey(key, "get");
        }

        @Override
        public boolean isWrite() {
            return false;
        }

        @Override
        public byte[] encode() {
            return header(KvCodec.GET, key.length + 4).bytes(key).toByteArray();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Get g && Arrays.equals(key, g.key);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(key);
        }

        @Override
        public String toString() {
            return "Get[" + show(key) + "]";
        }
    }

    /**
     * Lists up to {@code limit} entries whose keys start with {@code prefix} (empty: every key), in
     * ascending key order, starting after key {@code startAfter} (empty: from the first). Answers
     * {@link KvResult.Scanned}; when it says {@code more}, ask again with the last key returned as
     * {@code startAfter}. A scan also stops early once it has gathered
     * {@link KvStateMachine#SCAN_MAX_BYTES} of keys and values.
     */
    record Scan(byte[] prefix, byte[] startAfter, int limit) implements KvCommand {
        public Scan {
            Objects.requireNonNull(prefix, "prefix");
            Objects.requireNonNull(startAfter, "startAfter");
            if (prefix.length > MAX_KEY_BYTES || startAfter.length > MAX_KEY_BYTES) {
                throw new IllegalArgumentException("scan prefix and startAfter must be at most " + MAX_KEY_BYTES
                        + " bytes, got " + prefix.length + " and " + startAfter.length);
            }
            if (limit < 1 || limit > MAX_SCAN_LIMIT) {
                throw new IllegalArgumentException("scan limit must be in [1, " + MAX_SCAN_LIMIT + "], got " + limit
                        + "; page through larger ranges with startAfter");
            }
        }

        /** The first {@code limit} keys under {@code prefix}. */
        public Scan(byte[] prefix, int limit) {
            this(prefix, new byte[0], limit);
        }

        @Override
        public boolean isWrite() {
            return false;
        }

        @Override
        public byte[] encode() {
            return header(KvCodec.SCAN, prefix.length + startAfter.length + 12).bytes(prefix).bytes(startAfter)
                    .varLong(limit).toByteArray();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Scan s && limit == s.limit && Arrays.equals(prefix, s.prefix)
                    && Arrays.equals(startAfter, s.startAfter);
        }

        @Override
        public int hashCode() {
            return (Arrays.hashCode(prefix) * 31 + Arrays.hashCode(startAfter)) * 31 + limit;
        }

        @Override
        public String toString() {
            return "Scan[" + show(prefix) + "*" + (startAfter.length > 0 ? " after " + show(startAfter) : "")
                    + " limit " + limit + "]";
        }
    }

    /** Asks for the digest of the whole state; answers {@link KvResult.Digest}. */
    record GetDigest() implements KvCommand {
        @Override
        public boolean isWrite() {
            return false;
        }

        @Override
        public byte[] encode() {
            return header(KvCodec.DIGEST, 0).toByteArray();
        }
    }

    /**
     * Decodes a command.
     *
     * @throws KvCodecException naming the offset and the problem, if {@code bytes} is not a valid
     *                          format-{@value #FORMAT} command
     */
    static KvCommand decode(byte[] bytes) {
        return KvCodec.decodeCommand(bytes);
    }

    private static Wire.Writer header(int type, int sizeHint) {
        return new Wire.Writer(sizeHint + 2).u8(FORMAT).u8(type);
    }

    private static void checkKey(byte[] key, String op) {
        Objects.requireNonNull(key, op + " key");
        if (key.length == 0 || key.length > MAX_KEY_BYTES) {
            throw new IllegalArgumentException(op + " key must be 1 to " + MAX_KEY_BYTES + " bytes, got "
                    + key.length);
        }
    }

    private static void checkValue(byte[] value, String op) {
        if (value == null) {
            throw new NullPointerException(op + " value"); // the message is built only when needed
        }
        if (value.length > MAX_VALUE_BYTES) {
            throw new IllegalArgumentException(op + " value must be at most " + MAX_VALUE_BYTES + " bytes, got "
                    + value.length);
        }
    }

    /** Bytes for messages: UTF-8 text when printable, else hex; long ones cut. */
    static String show(byte[] b) {
        if (b == null) {
            return "null";
        }
        boolean printable = true;
        for (byte x : b) {
            printable &= x >= 0x20 && x < 0x7F;
        }
        String s;
        if (printable) {
            s = "\"" + new String(b, 0, Math.min(b.length, 64), StandardCharsets.US_ASCII) + "\"";
        } else {
            StringBuilder hex = new StringBuilder("0x");
            for (int i = 0; i < Math.min(b.length, 32); i++) {
                hex.append(String.format("%02x", b[i]));
            }
            s = hex.toString();
        }
        return b.length > (printable ? 64 : 32) ? s + "…(" + b.length + " bytes)" : s;
    }
}
