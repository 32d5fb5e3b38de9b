package dev.raftkit.sql;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The snapshot image (docs/sql.md, "Snapshot format"): magic {@code RKSQ}, format version,
 * the last included log index, the SQLite database file's length and bytes (what
 * {@code sqlite3_serialize} returns: an ordinary database file), and a CRC32C of everything
 * before it. {@link #read} verifies all of it before anyone uses the bytes.
 */
final class SqlImage {

    static final int MAGIC = 0x524B5351; // "RKSQ"
    static final int VERSION = 1;

    private SqlImage() {
    }

    static void write(long index, byte[] database, OutputStream target) throws IOException {
        CheckedOutputStream checked = new CheckedOutputStream(target, new CRC32C());
        DataOutputStream out = new DataOutputStream(checked);
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeLong(index);
        out.writeInt(database.length);
        out.write(database);
        out.flush();
        int crc = (int) checked.getChecksum().getValue();
        new DataOutputStream(target).writeInt(crc);
        target.flush();
    }

    /** Reads and verifies an image taken at {@code index}; returns the database file's bytes. */
    static byte[] read(long index, InputStream source) throws IOException {
        CheckedInputStream checked = new CheckedInputStream(source, new CRC32C());
        DataInputStream in = new DataInputStream(checked);
        try {
            int magic = in.readInt();
            if (magic != MAGIC) {
                throw new IOException("SQL snapshot at index " + index + " does not start with the RKSQ magic (found 0x"
                        + Integer.toHexString(magic) + "); it is not a statemachine-sql snapshot");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IOException("SQL snapshot at index " + index + " has format version " + version
                        + "; this code reads version " + VERSION + "; upgrade this node");
            }
            long at = in.readLong();
            // The runtime's index counts entries the state machine never sees (leader no-ops,
            // membership changes, client sessions), so it may be past the image's last command;
            // an image holding commands beyond the index it is installed at is mislabelled.
            if (at < 0 || at > index) {
                throw new IOException("SQL snapshot says it includes commands up to index " + at
                        + ", beyond the index " + index + " it is installed at; the snapshot store holds a"
                        + " mislabelled image");
            }
            int length = in.readInt();
            if (length < 0) {
                throw new IOException("SQL snapshot at index " + index + " has a negative database length " + length);
            }
            byte[] database = in.readNBytes(length);
            if (database.length != length) {
                throw new EOFException();
            }
            int expected = (int) checked.getChecksum().getValue();
            int crc = new DataInputStream(source).readInt();
            if (crc != expected) {
                throw new IOException("SQL snapshot at index " + index + " fails its CRC32C check (stored 0x"
                        + Integer.toHexString(crc) + ", computed 0x" + Integer.toHexString(expected)
                        + "); the image is damaged: install another snapshot or restore from a backup");
            }
            return database;
        } catch (EOFException e) {
            throw new IOException("SQL snapshot at index " + index + " is truncated; the image is incomplete", e);
        }
    }
}
