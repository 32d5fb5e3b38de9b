package dev.raftkit.storage;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.StorageException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshots as directories {@code snap-<index>-<term>-<seq>/} holding {@code data} (the state
 * machine image) and {@code manifest} (metadata with configuration, size, CRC32C; see
 * {@code docs/storage-format.md}). A snapshot is written as {@code <name>.partial/}; commit forces
 * the data and the manifest, then renames the directory and forces the parent, so a crash leaves
 * either no trace of it (partial directories are removed at start-up) or all of it.
 *
 * <p>Thread-safe: the catalogue of committed snapshots is guarded by this object's monitor;
 * writers and readers each own their files.
 */
public final class FileSnapshotStore implements SnapshotStore {

    private static final Logger LOG = LoggerFactory.getLogger(FileSnapshotStore.class);
    static final String PARTIAL_SUFFIX = ".partial";
    static final String DATA = "data";
    static final String MANIFEST = "manifest";
    static final int MANIFEST_MAGIC = 0x524B534D; // "RKSM"
    private static final Pattern NAME = Pattern.compile("snap-(\\d{20})-(\\d{20})-(\\d{10})");
    private static final Comparator<Key> ORDER = Comparator.comparingLong(Key::index)
            .thenComparingLong(Key::term).thenComparingLong(Key::seq);

    private record Key(long index, long term, long seq) {
        String name() {
            return String.format("snap-%020d-%020d-%010d", index, term, seq);
        }
    }

    private final FileIo io;
    private final Path dir;
    private final Closeable lock;
    private final TreeMap<Key, SnapshotDescriptor> committed = new TreeMap<>(ORDER);
    private long nextSeq;

    private FileSnapshotStore(FileIo io, Path dir, Closeable lock) {
        this.io = io;
        this.dir = dir;
        this.lock = lock;
    }

    /**
     * Opens (creating if needed) the store in {@code dir}, removing partial snapshots left by a crash.
     *
     * @throws StorageException if another process uses the directory or a manifest is corrupt
     */
    public static FileSnapshotStore open(Path dir) throws IOException {
        return open(RealFileIo.INSTANCE, dir);
    }

    /** {@link #open(Path)} over the file system {@code io} (a {@link SimFileIo} in tests and the simulator). */
    public static FileSnapshotStore open(FileIo io, Path dir) throws IOException {
        io.createDirectories(dir);
        Closeable lock = io.lock(dir.resolve(SegmentedLogStorage.LOCK_FILE));
        try {
            FileSnapshotStore store = new FileSnapshotStore(io, dir, lock);
            store.load();
            return store;
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    private void load() throws IOException {
        boolean removed = false;
        for (String name : io.list(dir)) {
            Path p = dir.resolve(name);
            if (name.endsWith(PARTIAL_SUFFIX)) {
                LOG.warn("removing partial snapshot {}: its writer crashed or aborted before commit", p);
                io.deleteRecursively(p);
                removed = true;
                continue;
            }
            Matcher m = NAME.matcher(name);
            if (m.matches()) {
                Key key = new Key(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
                committed.put(key, readManifest(p.resolve(MANIFEST)));
                nextSeq = Math.max(nextSeq, key.seq() + 1);
            }
        }
        if (removed) {
            io.syncDirectory(dir);
        }
    }

    @Override
    public SnapshotWriter begin(SnapshotMeta meta) throws IOException {
        Key key;
        synchronized (this) {
            key = new Key(meta.index(), meta.term(), nextSeq++);
        }
        Path partial = dir.resolve(key.name() + PARTIAL_SUFFIX);
        io.createDirectory(partial);
        return new Writer(key, meta, partial, io.open(partial.resolve(DATA)));
    }

    @Override
    public synchronized Optional<SnapshotDescriptor> latest() {
        return committed.isEmpty() ? Optional.empty() : Optional.of(committed.lastEntry().getValue());
    }

    /** Every committed snapshot, oldest first. */
    public synchronized List<SnapshotDescriptor> list() {
        return new ArrayList<>(committed.values());
    }

    @Override
    public SnapshotReader open(SnapshotDescriptor snapshot) throws IOException {
        Path path;
        synchronized (this) {
            // Newest first: two snapshots written at one index with equal bytes have equal
            // descriptors, and the one opened must be the one latest() names.
            path = committed.descendingMap().entrySet().stream().filter(e -> e.getValue().equals(snapshot))
                    .map(e -> dir.resolve(e.getKey().name())).findFirst().orElse(null);
        }
        if (path == null) {
            throw new IOException("snapshot " + snapshot.meta().last() + " is not in " + dir
                    + " (never committed here, or deleted by retain)");
        }
        return new Reader(snapshot, path.resolve(DATA), io.open(path.resolve(DATA)));
    }

    @Override
    public void retain(int count) throws IOException {
        if (count < 0) {
            throw new IllegalArgumentException("retain(" + count + ")");
        }
        List<Key> doomed = new ArrayList<>();
        synchronized (this) {
            while (committed.size() > count) {
                doomed.add(committed.pollFirstEntry().getKey());
            }
        }
        for (Key k : doomed) {
            // Hide it first under a partial name: a crash mid-delete then leaves nothing half-visible.
            Path from = dir.resolve(k.name());
            Path hidden = dir.resolve(k.name() + PARTIAL_SUFFIX);
            io.move(from, hidden);
            io.syncDirectory(dir);
            io.deleteRecursively(hidden);
        }
        if (!doomed.isEmpty()) {
            io.syncDirectory(dir);
        }
    }

    @Override
    public void close() throws IOException {
        lock.close();
    }

    private SnapshotDescriptor readManifest(Path file) throws IOException {
        byte[] payload = ChecksummedFile.read(io, file, MANIFEST_MAGIC, "snapshot manifest");
        if (payload == null) {
            throw new StorageException("snapshot " + file.getParent() + " has no manifest; it was committed, so it "
                    + "has been damaged; move it aside or restore this node from a peer or a backup");
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(payload);
            long size = b.getLong();
            int crc = b.getInt();
            SnapshotMeta meta = Codecs.getSnapshotMeta(b);
            if (b.hasRemaining()) {
                throw new IllegalArgumentException(b.remaining() + " trailing bytes");
            }
            return new SnapshotDescriptor(meta, size, crc);
        } catch (RuntimeException e) {
            throw ChecksummedFile.corrupt(file, 12, "snapshot manifest", "undecodable contents: " + e.getMessage());
        }
    }

    private final class Writer implements SnapshotWriter {
        private final Key key;
        private final SnapshotMeta meta;
        private final Path partial;
        private final FileIo.Handle data;
        private final CRC32C crc = new CRC32C();
        private final byte[] buf = new byte[64 << 10];
        private int buffered;
        private long size;
        private boolean done;
        private SnapshotDescriptor result;

        private final OutputStream out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                if (buffered == buf.length) {
                    flushBuffer();
                }
                buf[buffered++] = (byte) b;
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                while (len > 0) {
                    if (buffered == buf.length) {
                        flushBuffer();
                    }
                    int n = Math.min(len, buf.length - buffered);
                    System.arraycopy(b, off, buf, buffered, n);
                    buffered += n;
                    off += n;
                    len -= n;
                }
            }
        };

        Writer(Key key, SnapshotMeta meta, Path partial, FileIo.Handle data) {
            this.key = key;
            this.meta = meta;
            this.partial = partial;
            this.data = data;
        }

        private void flushBuffer() throws IOException {
            if (done) {
                throw new IOException("snapshot writer for " + meta.last() + " is already committed or aborted");
            }
            crc.update(buf, 0, buffered);
            data.write(ByteBuffer.wrap(buf, 0, buffered), size);
            size += buffered;
            buffered = 0;
        }

        @Override
        public OutputStream output() {
            return out;
        }

        @Override
        public SnapshotDescriptor commit() throws IOException {
            if (result != null) {
                return result;
            }
            try {
                flushBuffer();
                data.force();
                data.close();
                SnapshotDescriptor d = new SnapshotDescriptor(meta, size, (int) crc.getValue());
                ByteBuffer m = ByteBuffer.allocate(12 + Codecs.snapshotMetaBytes(meta));
                m.putLong(size).putInt(d.crc32c());
                Codecs.putSnapshotMeta(m, meta);
                // Writes the manifest via temp + rename and forces the partial directory, so both
                // names inside it are durable before the directory itself is renamed.
                ChecksummedFile.write(io, partial.resolve(MANIFEST), MANIFEST_MAGIC, m.array());
                io.move(partial, dir.resolve(key.name()));
                io.syncDirectory(dir);
                done = true;
                synchronized (FileSnapshotStore.this) {
                    committed.put(key, d);
                }
                result = d;
                return d;
            } catch (IOException | RuntimeException e) {
                abort();
                throw e;
            }
        }

        @Override
        public void abort() {
            if (result != null) {
                return;
            }
            done = true;
            try {
                data.close();
            } catch (IOException e) {
                LOG.warn("closing the data file of aborted snapshot {} failed", partial, e);
            }
            try {
                io.deleteRecursively(partial);
            } catch (IOException e) {
                // Left for start-up, which removes partial snapshots.
                LOG.warn("could not delete aborted snapshot {}; it will be removed at the next start", partial, e);
            }
        }

        @Override
        public void close() {
            abort();
        }
    }

    private static final class Reader implements SnapshotReader {
        private final SnapshotDescriptor descriptor;
        private final Path path;
        private final FileIo.Handle data;

        Reader(SnapshotDescriptor descriptor, Path path, FileIo.Handle data) {
            this.descriptor = descriptor;
            this.path = path;
            this.data = data;
        }

        @Override
        public SnapshotDescriptor descriptor() {
            return descriptor;
        }

        @Override
        public InputStream input() {
            return new HandleInput(data, descriptor.sizeBytes(), at -> new StorageException("snapshot data " + path
                    + " ends at " + at + " but its manifest says " + descriptor.sizeBytes() + " bytes; restore this"
                    + " node from a peer or a backup"), false);
        }

        @Override
        public byte[] chunk(long offset, int maxBytes) throws IOException {
            if (offset < 0 || maxBytes < 0) {
                throw new IllegalArgumentException("chunk(" + offset + ", " + maxBytes + ")");
            }
            int n = (int) Math.max(0, Math.min(maxBytes, descriptor.sizeBytes() - offset));
            ByteBuffer b = ByteBuffer.allocate(n);
            data.readFully(b, offset, path);
            return b.array();
        }

        @Override
        public void verify() throws IOException {
            long size = data.size();
            CRC32C crc = new CRC32C();
            ByteBuffer b = ByteBuffer.allocate(64 << 10);
            for (long p = 0; p < size; ) {
                b.clear();
                int n = data.read(b, p);
                if (n < 0) {
                    break;
                }
                crc.update(b.array(), 0, n);
                p += n;
            }
            if (size != descriptor.sizeBytes() || (int) crc.getValue() != descriptor.crc32c()) {
                throw new StorageException("snapshot data " + path + " does not match its manifest (size " + size
                        + " vs " + descriptor.sizeBytes() + ", crc32c " + Integer.toHexString((int) crc.getValue())
                        + " vs " + Integer.toHexString(descriptor.crc32c()) + "); do not restore from it; "
                        + "fetch a snapshot from a peer or restore from a backup");
            }
        }

        @Override
        public void close() throws IOException {
            data.close();
        }
    }
}
