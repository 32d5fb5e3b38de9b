package dev.raftkit.kv;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The KV snapshot image, format version {@value #VERSION}:
 *
 * <pre>
 *   magic       4 bytes  "RKKV"
 *   version     u32      1
 *   lastApplied u64      the last command index the image includes
 *   count       u64      number of entries
 *   entries     count ×  [keyLength u32][key][valueLength u32][value][version u64], keys strictly
 *                        ascending (unsigned bytes)
 *   crc32c      u32      over every byte before it
 * </pre>
 *
 * <p>The image is a pure function of the state (keys in order, no timestamps, no hash order), so
 * two nodes in the same state write the same bytes. Reading checks every field against the
 * format's limits before trusting it, and checks the CRC before the state is replaced, so a
 * corrupt or truncated image can never be half-installed.
 */
final class SnapshotFormat {

    static final int MAGIC = 0x524B4B56; // "RKKV"
    static final int VERSION = 1;

    /** What an image holds once read and verified. */
    record Image(long lastApplied, PersistentSortedMap<KvStateMachine.Stored> map) {
    }

    private SnapshotFormat() {
    }

    static void write(long lastApplied, PersistentSortedMap<KvStateMachine.Stored> map, OutputStream out)
            throws IOException {
        CRC32C crc = new CRC32C();
        // The runtime owns {@code out}: flush, never close.
        DataOutputStream data = new DataOutputStream(new CheckedOutputStream(
                new BufferedOutputStream(out, 64 * 1024), crc));
        data.writeInt(MAGIC);
        data.writeInt(VERSION);
        data.writeLong(lastApplied);
        data.writeLong(map.size());
        for (Map.Entry<byte[], KvStateMachine.Stored> e : map) {
            data.writeInt(e.getKey().length);
            data.write(e.getKey());
            data.writeInt(e.getValue().value().length);
            data.write(e.getValue().value());
            data.writeLong(e.getValue().version());
        }
        data.flush();
        // The trailer is written past the checksummed stream so the CRC does not cover itself.
        int value = (int) crc.getValue();
        byte[] trailer = {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
        out.write(trailer);
        out.flush();
    }

    /**
     * Reads and verifies an image installed at {@code index}.
     *
     * @throws CorruptSnapshotException if anything fails verification; the message names the
     *                                  problem and the byte offset
     */
    static Image read(long index, InputStream in) throws IOException {
        CRC32C crc = new CRC32C();
        CountingInput counting = new CountingInput(in);
        DataInputStream data = new DataInputStream(new CheckedInputStream(counting, crc));
        String where = "KV snapshot at index " + index;
        try {
            int magic = data.readInt();
            if (magic != MAGIC) {
                throw corrupt(where, counting, String.format("it starts with 0x%08x, not the KV magic \"RKKV\" "
                        + "(is it another state machine's snapshot?)", magic));
            }
            int format = data.readInt();
            if (format != VERSION) {
                throw corrupt(where, counting, "format version " + format + " is not supported (this code reads "
                        + VERSION + "); upgrade this node");
            }
            long lastApplied = data.readLong();
            if (lastApplied < 0 || lastApplied > index) {
                throw corrupt(where, counting, "it claims to include commands up to index " + lastApplied
                        + ", beyond the index it is installed at");
            }
            long count = data.readLong();
            if (count < 0 || count > Integer.MAX_VALUE) {
                throw corrupt(where, counting, "entry count " + count + " is impossible");
            }
            List<byte[]> keys = new ArrayList<>((int) Math.min(count, 1 << 16));
            List<KvStateMachine.Stored> values = new ArrayList<>((int) Math.min(count, 1 << 16));
            byte[] previous = null;
            for (long i = 0; i < count; i++) {
                byte[] key = readBytes(data, 1, KvCommand.MAX_KEY_BYTES, where, counting, "key of entry " + i);
                byte[] value = readBytes(data, 0, KvCommand.MAX_VALUE_BYTES, where, counting, "value of entry " + i);
                long version = data.readLong();
                if (version <= 0 || version > lastApplied) {
                    throw corrupt(where, counting, "entry " + i + " has version " + version + ", outside 1.."
                            + lastApplied);
                }
                if (previous != null && PersistentSortedMap.compare(previous, key) >= 0) {
                    throw corrupt(where, counting, "entry " + i + "'s key is not after the previous key");
                }
                keys.add(key);
                values.add(new KvStateMachine.Stored(value, version));
                previous = key;
            }
            int computed = (int) crc.getValue();
            int stored = new DataInputStream(counting).readInt();
            if (stored != computed) {
                throw corrupt(where, counting, String.format("CRC32C mismatch (stored 0x%08x, computed 0x%08x)",
                        stored, computed));
            }
            if (counting.read() != -1) {
                throw corrupt(where, counting, "unexpected bytes after the CRC32C trailer");
            }
            return new Image(lastApplied, PersistentSortedMap.fromSorted(keys, values));
        } catch (EOFException e) {
            throw corrupt(where, counting, "truncated: the image ends early");
        }
    }

    private static byte[] readBytes(DataInputStream in, int min, int max, String where, CountingInput counting,
                                    String field) throws IOException {
        int length = in.readInt();
        if (length < min || length > max) {
            throw corrupt(where, counting, field + " has length " + length + ", outside " + min + ".." + max);
        }
        byte[] b = new byte[length];
        in.readFully(b);
        return b;
    }

    private static CorruptSnapshotException corrupt(String where, CountingInput counting, String problem) {
        return new CorruptSnapshotException(where + " is corrupt near byte " + counting.count + ": " + problem
                + ". The image is refused and the state is unchanged; install a fresh copy of the snapshot from"
                + " a healthy node or a backup.");
    }

    /** Counts bytes read, so errors can say where. */
    private static final class CountingInput extends InputStream {
        private final InputStream in;
        long count;

        CountingInput(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
