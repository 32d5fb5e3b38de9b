package dev.raftkit.spi;

import dev.raftkit.core.SnapshotMeta;
import java.util.Objects;

/**
 * A stored snapshot: its protocol metadata, its size in bytes and the CRC32C of its bytes.
 */
public record SnapshotDescriptor(SnapshotMeta meta, long sizeBytes, int crc32c) {
    public SnapshotDescriptor {
        Objects.requireNonNull(meta, "meta");
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("negative snapshot size " + sizeBytes);
        }
    }
}
