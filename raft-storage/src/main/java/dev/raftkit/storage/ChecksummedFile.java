package dev.raftkit.storage;

import dev.raftkit.spi.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * A small file replaced atomically: {@code [magic:4][version:4][length:4][payload][crc32c:4]}, the
 * CRC covering everything before it. Written as {@code <name>.tmp}, forced, renamed over the old
 * file, and the directory forced, so a crash leaves either the old or the new contents.
 */
final class ChecksummedFile {

    static final String TMP_SUFFIX = ".tmp";
    private static final int VERSION = 1;

    private ChecksummedFile() {
    }

    static void write(FileIo io, Path file, int magic, byte[] payload) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16 + payload.length);
        b.putInt(magic).putInt(VERSION).putInt(payload.length).put(payload);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue()).flip();
        Path tmp = file.resolveSibling(file.getFileName() + TMP_SUFFIX);
        try (FileIo.Handle h = io.open(tmp)) {
            h.truncate(0);
            h.write(b, 0);
            h.force();
        }
        io.move(tmp, file);
        io.syncDirectory(file.getParent());
    }

    /** The payload, or {@code null} if the file does not exist. */
    static byte[] read(FileIo io, Path file, int magic, String what) throws IOException {
        if (!io.exists(file)) {
            return null;
        }
        ByteBuffer b;
        try (FileIo.Handle h = io.open(file)) {
            long size = h.size();
            if (size < 16 || size > (1 << 24)) {
                throw corrupt(file, 0, what, "its size " + size + " is impossible");
            }
            b = ByteBuffer.allocate((int) size);
            h.readFully(b, 0, file);
        }
        b.flip();
        int length = b.getInt(8);
        if (length != b.limit() - 16) {
            throw corrupt(file, 8, what, "the length field says " + length + " but the file holds " + (b.limit() - 16));
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 12 + length);
        if ((int) crc.getValue() != b.getInt(12 + length)) {
            throw corrupt(file, 12 + length, what, "checksum mismatch");
        }
        if (b.getInt(0) != magic) {
            throw corrupt(file, 0, what, "bad magic");
        }
        if (b.getInt(4) != VERSION) {
            throw corrupt(file, 4, what, "format version " + b.getInt(4) + " is not supported");
        }
        byte[] payload = new byte[length];
        b.get(12, payload);
        return payload;
    }

    static StorageException corrupt(Path file, long offset, String what, String why) {
        return new StorageException(what + " file " + file + " is corrupt at offset " + offset + " (" + why
                + "); the node will not start; restore this node from a peer or a backup");
    }
}
