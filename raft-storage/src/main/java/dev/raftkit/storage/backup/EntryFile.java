package dev.raftkit.storage.backup;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.storage.FileIo;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * An incremental backup's {@code entries} file: the committed entries (prevIndex, prevIndex + count]
 * exactly as the log holds them (payloads are the runtime's framing, untouched), each record with
 * its own CRC32C so damage is located to a record. Layout in docs/storage-format.md, "Backups".
 */
final class EntryFile {

    static final String NAME = "entries";
    static final int MAGIC = 0x524B4245; // "RKBE"
    static final int HEADER_BYTES = 36;
    /** The entry file's own format version (it was the manifest's until the manifest moved to 2). */
    static final int VERSION = 1;
    /** Refuse absurd record lengths before allocating: no log entry is this large. */
    private static final int MAX_RECORD = 256 << 20;

    private EntryFile() {
    }

    /** Receives the entries of a file in order. */
    interface Sink {
        void accept(Entry e) throws IOException;
    }

    /** Writes the file: exactly {@code count} entries from {@code prevIndex + 1}, then {@link #finish()}. */
    static final class Writer implements AutoCloseable {
        private final FileIo io;
        private final Path path;
        private final DataOutputStream out;
        private final BackupCipher.Sealing sealing;
        private final long count;
        private long next;
        private long lastTerm;
        private final CRC32C crc = new CRC32C();

        Writer(Path path, long prevIndex, long prevTerm, long count) throws IOException {
            this(FileIo.real(), path, prevIndex, prevTerm, count, null, null);
        }

        /**
         * A new file {@code path} on {@code io}; with a {@code key}, encrypted for backup
         * {@code backupId} (see {@link BackupCipher}).
         */
        Writer(FileIo io, Path path, long prevIndex, long prevTerm, long count, BackupKey key, String backupId)
                throws IOException {
            this.io = io;
            this.path = path;
            this.count = count;
            this.next = prevIndex + 1;
            this.lastTerm = prevTerm;
            java.io.OutputStream raw = io.newOutputStream(path);
            this.sealing = key == null ? null : BackupCipher.encrypt(raw, key, backupId, NAME);
            this.out = new DataOutputStream(new BufferedOutputStream(sealing == null ? raw : sealing, 64 * 1024));
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
            h.putInt(MAGIC).putInt(VERSION).putLong(prevIndex).putLong(prevTerm).putLong(count);
            crc.update(h.array(), 0, 32);
            h.putInt((int) crc.getValue());
            out.write(h.array());
        }

        void append(Entry e) throws IOException {
            if (e.index() != next || e.term() < lastTerm) {
                throw new IOException("backup entries must be contiguous with non-decreasing terms: expected index "
                        + next + " (term >= " + lastTerm + "), got " + e.index() + "@" + e.term());
            }
            ByteBuffer r = ByteBuffer.allocate(17 + e.data().length);
            r.putLong(e.term()).putLong(e.index()).put((byte) e.type().code()).put(e.data());
            crc.reset();
            crc.update(r.array());
            out.writeInt(r.capacity());
            out.writeInt((int) crc.getValue());
            out.write(r.array());
            next++;
            lastTerm = e.term();
        }

        long nextIndex() {
            return next;
        }

        /** Flushes and fsyncs; fails unless all {@code count} entries were appended. */
        void finish(long prevIndex) throws IOException {
            if (next - 1 - prevIndex != count) {
                throw new IOException(path + ": wrote " + (next - 1 - prevIndex) + " entries, the header promised "
                        + count);
            }
            out.flush();
            if (sealing != null) {
                sealing.finish();
            }
            io.force(path);
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /** What a scan found. */
    record Summary(long prevIndex, long prevTerm, long count, long lastIndex, long lastTerm) {
    }

    /**
     * Reads the file, checking the header, every record's CRC32C and the index sequence, and hands
     * the entries up to {@code upTo} (inclusive) to {@code sink} (which may be null). Errors name
     * the file and the offset.
     */
    static Summary scan(Path file, long upTo, Sink sink) throws IOException {
        return scan(FileIo.real(), file, upTo, sink, null, null);
    }

    /** {@link #scan(Path, long, Sink)} of a file encrypted with {@code key} for backup {@code backupId} (null: plaintext). */
    static Summary scan(FileIo io, Path file, long upTo, Sink sink, BackupKey key, String backupId)
            throws IOException {
        // An upper bound on the bytes left to read: an encrypted file is larger than its plaintext.
        long fileSize = io.size(file);
        try (InputStream disk = io.newInputStream(file);
             InputStream raw = key == null ? disk : BackupCipher.decrypt(disk, key, backupId, NAME, file);
             DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 64 * 1024))) {
            byte[] header = new byte[HEADER_BYTES];
            try {
                in.readFully(header);
            } catch (EOFException e) {
                throw bad(file, 0, "shorter than its " + HEADER_BYTES + "-byte header");
            }
            ByteBuffer h = ByteBuffer.wrap(header);
            CRC32C crc = new CRC32C();
            crc.update(header, 0, 32);
            if (h.getInt(32) != (int) crc.getValue()) {
                throw bad(file, 32, "header checksum mismatch");
            }
            if (h.getInt(0) != MAGIC || h.getInt(4) != VERSION) {
                throw bad(file, 0, "not a version " + VERSION + " backup entry file (magic "
                        + Integer.toHexString(h.getInt(0)) + ", version " + h.getInt(4) + ")");
            }
            long prevIndex = h.getLong(8);
            long prevTerm = h.getLong(16);
            long count = h.getLong(24);
            if (prevIndex < 0 || prevTerm < 0 || count < 0) {
                throw bad(file, 8, "the header says " + count + " entries after " + prevIndex + "@" + prevTerm
                        + "; indexes, terms and counts are never negative");
            }
            long offset = HEADER_BYTES;
            long expect = prevIndex + 1;
            long lastTerm = prevTerm;
            for (long k = 0; k < count; k++) {
                int length;
                int stored;
                try {
                    length = in.readInt();
                    stored = in.readInt();
                } catch (EOFException e) {
                    throw bad(file, offset, "ends after " + k + " of " + count + " entries");
                }
                if (length < 17 || length > MAX_RECORD) {
                    throw bad(file, offset, "record length " + length + " is impossible");
                }
                // Checked against the file before allocating: a small damaged file must not make a
                // restore allocate up to MAX_RECORD bytes.
                if (length > fileSize - offset - 8) {
                    throw bad(file, offset, "the record of entry " + expect + " claims " + length
                            + " bytes but only " + Math.max(0, fileSize - offset - 8) + " remain in the file");
                }
                byte[] body = new byte[length];
                try {
                    in.readFully(body);
                } catch (EOFException e) {
                    throw bad(file, offset, "the record of entry " + expect + " is cut short");
                }
                crc.reset();
                crc.update(body);
                if ((int) crc.getValue() != stored) {
                    throw bad(file, offset, "record checksum mismatch (entry " + expect + ")");
                }
                ByteBuffer b = ByteBuffer.wrap(body);
                long term = b.getLong();
                long index = b.getLong();
                int type = b.get();
                if (index != expect || term < 1 || term < lastTerm || type < 0 || type >= EntryType.values().length) {
                    throw bad(file, offset, "record holds entry " + index + "@" + term + " of type " + type
                            + ", expected entry " + expect + " with term >= " + Math.max(1, lastTerm));
                }
                if (sink != null && index <= upTo) {
                    byte[] data = new byte[length - 17];
                    b.get(data);
                    sink.accept(new Entry(term, index, EntryType.fromCode(type), data));
                }
                offset += 8 + length;
                expect++;
                lastTerm = term;
            }
            if (in.read() >= 0) {
                throw bad(file, offset, "bytes follow the last of its " + count + " entries");
            }
            return new Summary(prevIndex, prevTerm, count, prevIndex + count, lastTerm);
        }
    }

    private static BackupException bad(Path file, long offset, String why) {
        return new BackupException(file, "invalid at offset " + offset + ": " + why
                + "; this increment cannot be used: restore it from another copy or take a new full backup");
    }
}
