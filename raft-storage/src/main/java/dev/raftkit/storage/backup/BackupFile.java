package dev.raftkit.storage.backup;

import dev.raftkit.storage.FileIo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Objects;
import java.util.zip.CRC32C;

/** A data file of a backup as its manifest lists it: name within the backup directory, size, CRC32C. */
public record BackupFile(String name, long sizeBytes, int crc32c) {

    public BackupFile {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.contains("/") || name.contains(" ") || name.equals(BackupManifest.FILE_NAME)) {
            throw new IllegalArgumentException("bad backup file name '" + name + "'");
        }
    }

    /** Size and CRC32C of {@code file} as it is on disk now. */
    static BackupFile measure(Path file) throws IOException {
        return measure(FileIo.real(), file);
    }

    static BackupFile measure(FileIo io, Path file) throws IOException {
        try (InputStream in = io.newInputStream(file)) {
            return copy(file.getFileName().toString(), in, OutputStream.nullOutputStream());
        }
    }

    /** Copies {@code in} to {@code out}; returns what was copied, as file {@code name}: its size and CRC32C. */
    static BackupFile copy(String name, InputStream in, OutputStream out) throws IOException {
        CRC32C crc = new CRC32C();
        long size = 0;
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) > 0) {
            crc.update(buf, 0, n);
            out.write(buf, 0, n);
            size += n;
        }
        return new BackupFile(name, size, (int) crc.getValue());
    }

    /** Checks that {@code dir/name} exists with this size and checksum. */
    void check(FileIo io, Path dir) throws BackupException {
        Path file = dir.resolve(name);
        if (!io.exists(file) || io.isDirectory(file)) {
            throw new BackupException(file, "the manifest lists this file but it is missing; the backup is incomplete"
                    + " and cannot be used: take a new full backup");
        }
        BackupFile actual;
        try {
            actual = measure(io, file);
        } catch (IOException e) {
            throw new BackupException(file, "cannot be read (" + e + ")", e);
        }
        if (actual.sizeBytes != sizeBytes) {
            throw new BackupException(file, "holds " + actual.sizeBytes + " bytes but the manifest says " + sizeBytes
                    + " (truncated or appended to); this backup cannot be used: take a new full backup");
        }
        if (actual.crc32c != crc32c) {
            throw new BackupException(file, "checksum mismatch: CRC32C is " + hex(actual.crc32c) + " but the manifest"
                    + " says " + hex(crc32c) + " (the file is damaged); this backup cannot be used: restore it from"
                    + " another copy or take a new full backup");
        }
    }

    static String hex(int crc) {
        return String.format("%08x", crc);
    }
}
