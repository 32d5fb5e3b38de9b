package dev.raftkit.testkit.runtime;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.StorageException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * A {@link SnapshotStore} in memory, for tests. {@link #close()} keeps the snapshots, so a test can
 * "restart" a node on the same store the way a durable store survives a process restart.
 */
public final class MemorySnapshotStore implements SnapshotStore {

    private record Stored(SnapshotDescriptor descriptor, byte[] data) {
    }

    private static final Comparator<SnapshotMeta> ORDER = Comparator.comparingLong(SnapshotMeta::index)
            .thenComparingLong(SnapshotMeta::term);

    private final TreeMap<SnapshotMeta, Stored> snapshots = new TreeMap<>(ORDER);

    @Override
    public SnapshotWriter begin(SnapshotMeta meta) {
        return new SnapshotWriter() {
            private final ByteArrayOutputStream out = new ByteArrayOutputStream();
            private boolean done;

            @Override
            public OutputStream output() {
                return out;
            }

            @Override
            public SnapshotDescriptor commit() throws IOException {
                if (done) {
                    throw new IOException("snapshot " + meta.last() + " was already committed or aborted");
                }
                done = true;
                byte[] data = out.toByteArray();
                CRC32C crc = new CRC32C();
                crc.update(data);
                SnapshotDescriptor d = new SnapshotDescriptor(meta, data.length, (int) crc.getValue());
                synchronized (MemorySnapshotStore.this) {
                    snapshots.put(meta, new Stored(d, data));
                }
                return d;
            }

            @Override
            public void abort() {
                done = true;
            }

            @Override
            public void close() {
                abort();
            }
        };
    }

    @Override
    public synchronized Optional<SnapshotDescriptor> latest() {
        return snapshots.isEmpty() ? Optional.empty() : Optional.of(snapshots.lastEntry().getValue().descriptor());
    }

    @Override
    public synchronized SnapshotReader open(SnapshotDescriptor snapshot) throws IOException {
        Stored s = snapshots.get(snapshot.meta());
        if (s == null || !s.descriptor().equals(snapshot)) {
            throw new IOException("snapshot " + snapshot.meta().last() + " is not in the store (never committed, or"
                    + " deleted by retain)");
        }
        byte[] data = s.data();
        return new SnapshotReader() {
            @Override
            public SnapshotDescriptor descriptor() {
                return s.descriptor();
            }

            @Override
            public InputStream input() {
                return new ByteArrayInputStream(data);
            }

            @Override
            public byte[] chunk(long offset, int maxBytes) {
                int from = (int) Math.min(offset, data.length);
                return Arrays.copyOfRange(data, from, (int) Math.min(data.length, from + (long) maxBytes));
            }

            @Override
            public void verify() {
                CRC32C crc = new CRC32C();
                crc.update(data);
                if ((int) crc.getValue() != s.descriptor().crc32c() || data.length != s.descriptor().sizeBytes()) {
                    throw new StorageException("snapshot " + s.descriptor().meta().last() + " fails its checksum");
                }
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public synchronized void retain(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("retain(" + count + ")");
        }
        while (snapshots.size() > count) {
            snapshots.pollFirstEntry();
        }
    }

    /** Keeps the snapshots (see the class comment). */
    @Override
    public void close() {
    }
}
