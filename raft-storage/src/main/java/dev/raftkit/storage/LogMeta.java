package dev.raftkit.storage;

import dev.raftkit.core.SnapshotMeta;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * The log's base, in the checksummed file {@code log.meta}: the snapshot the log starts after
 * (with its configuration), and the install generation. {@code installSnapshot} bumps the
 * generation before it deletes the old segments, so segments of an older generation found at
 * start-up are leftovers of an interrupted install and are deleted, never read as part of the log.
 */
record LogMeta(long generation, SnapshotMeta base) {

    static final String FILE = "log.meta";
    static final int MAGIC = 0x524B4C4D; // "RKLM"
    static final LogMeta INITIAL = new LogMeta(0, SnapshotMeta.EMPTY);

    void write(FileIo io, Path dir) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + Codecs.snapshotMetaBytes(base));
        b.putLong(generation);
        Codecs.putSnapshotMeta(b, base);
        ChecksummedFile.write(io, dir.resolve(FILE), MAGIC, b.array());
    }

    static LogMeta read(FileIo io, Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        byte[] payload = ChecksummedFile.read(io, file, MAGIC, "log meta");
        if (payload == null) {
            return INITIAL;
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(payload);
            LogMeta meta = new LogMeta(b.getLong(), Codecs.getSnapshotMeta(b));
            if (b.hasRemaining()) {
                throw new IllegalArgumentException(b.remaining() + " trailing bytes");
            }
            return meta;
        } catch (RuntimeException e) {
            throw ChecksummedFile.corrupt(file, 12, "log meta", "undecodable contents: " + e.getMessage());
        }
    }
}
