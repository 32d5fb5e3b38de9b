package dev.raftkit.storage;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.spi.ResumableSnapshotWriter;
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
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
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
 * <p>A snapshot received from a peer is written as {@code recv-<index>-<term>-<size>-<crc32c>.receiving/}
 * ({@link #beginReceive}): {@code data} plus {@code chunks}, one checksummed record per verified
 * chunk. It survives an interrupted transfer and a restart, so the next transfer of the same image
 * resumes from its last verified chunk; on commit it becomes an ordinary snapshot directory.
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
    static final String RECEIVING_SUFFIX = ".receiving";
    static final String CHUNKS = "chunks";
    /** A chunk record: offset (8), length (4), CRC32C of the chunk's data (4), CRC32C of these 16 bytes (4). */
    static final int CHUNK_RECORD_BYTES = 20;
    private static final Pattern RECEIVING = Pattern.compile("recv-(\\d{20})-(\\d{20})-(\\d{20})-([0-9a-f]{8})"
            + Pattern.quote(RECEIVING_SUFFIX));
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
    /**
     * A receiving partial is forced to disk once this many bytes were checkpointed since it last
     * was (and whenever a transfer is suspended): a chunk's record is written at once, so a cut
     * connection resumes after every verified chunk, while a power cut may lose up to this much.
     * Resuming re-checks every chunk's bytes, so what an unforced write left behind is never trusted.
     */
    static final long FORCE_EVERY_BYTES = 1 << 20;
    private long forceEveryBytes = FORCE_EVERY_BYTES;

    /** Names of receiving partials a writer has open: one writer per partial at a time. */
    private final Set<String> receiving = new HashSet<>();
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
    /** {@link #open(FileIo, Path)} forcing receiving partials every {@code forceEveryBytes} (0: every chunk); tests. */
    static FileSnapshotStore open(FileIo io, Path dir, long forceEveryBytes) throws IOException {
        FileSnapshotStore store = open(io, dir);
        store.forceEveryBytes = forceEveryBytes;
        return store;
    }

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

    /** The name of the receiving partial of the image ({@code meta}, {@code size}, {@code crc32c}). */
    static String receivingName(SnapshotMeta meta, long size, int crc32c) {
        return String.format("recv-%020d-%020d-%020d-%08x", meta.index(), meta.term(), size, crc32c) + RECEIVING_SUFFIX;
    }

    @Override
    public ResumableSnapshotWriter beginReceive(SnapshotMeta meta, long sizeBytes, int crc32c) throws IOException {
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("beginReceive of " + meta.last() + ": negative size " + sizeBytes);
        }
        String name = receivingName(meta, sizeBytes, crc32c);
        synchronized (this) {
            if (!receiving.add(name)) {
                throw new IOException("snapshot " + meta.last() + " is already being received into " + dir.resolve(name)
                        + "; this transfer is refused, the sender retries once the other one ends");
            }
        }
        try {
            discardOtherPartials(name);
            Path partial = dir.resolve(name);
            boolean existed = io.isDirectory(partial);
            if (!existed) {
                io.createDirectory(partial);
            }
            FileIo.Handle data = io.open(partial.resolve(DATA));
            FileIo.Handle chunks;
            try {
                chunks = io.open(partial.resolve(CHUNKS));
            } catch (IOException | RuntimeException e) {
                data.close();
                throw e;
            }
            ReceiveWriter w = new ReceiveWriter(name, meta, sizeBytes, crc32c, partial, data, chunks);
            try {
                if (existed) {
                    w.recover();
                } else {
                    // Both names durable before any chunk is recorded: a checkpoint must survive a crash.
                    io.syncDirectory(partial);
                    io.syncDirectory(dir);
                }
            } catch (IOException | RuntimeException e) {
                w.abort();
                throw e;
            }
            return w;
        } catch (IOException | RuntimeException e) {
            synchronized (this) {
                receiving.remove(name);
            }
            throw e;
        }
    }

    @Override
    public long receivedBytes(SnapshotMeta meta, long sizeBytes, int crc32c) throws IOException {
        Path chunks = dir.resolve(receivingName(meta, sizeBytes, crc32c)).resolve(CHUNKS);
        if (!io.exists(chunks)) {
            return 0;
        }
        try (FileIo.Handle h = io.open(chunks)) {
            return validRecords(h, sizeBytes, null).end;
        }
    }

    /** Deletes receiving partials other than {@code keep}: a partial of another image is never resumed. */
    private void discardOtherPartials(String keep) throws IOException {
        boolean removed = false;
        for (String other : io.list(dir)) {
            if (other.endsWith(RECEIVING_SUFFIX) && !other.equals(keep)) {
                synchronized (this) {
                    if (receiving.contains(other)) {
                        continue; // another transfer is writing it; it cleans up after itself
                    }
                }
                LOG.info("discarding the partial snapshot {}: a different snapshot is being received now", other);
                io.deleteRecursively(dir.resolve(other));
                removed = true;
            }
        }
        if (removed) {
            io.syncDirectory(dir);
        }
    }

    /** The chunk records of a partial that are well formed and contiguous from 0. */
    private record Records(int count, long end) {
    }

    /**
     * Reads chunk records from {@code h} while each one is intact (its own CRC32C), contiguous and
     * within {@code size}; if {@code check} is not null, each is also passed to it and reading stops
     * at the first it refuses.
     */
    private static Records validRecords(FileIo.Handle h, long size, ChunkCheck check) throws IOException {
        long fileSize = h.size();
        ByteBuffer rec = ByteBuffer.allocate(CHUNK_RECORD_BYTES);
        int count = 0;
        long end = 0;
        for (long pos = 0; pos + CHUNK_RECORD_BYTES <= fileSize; pos += CHUNK_RECORD_BYTES) {
            rec.clear();
            while (rec.hasRemaining()) {
                if (h.read(rec, pos + rec.position()) < 0) {
                    return new Records(count, end);
                }
            }
            rec.flip();
            long offset = rec.getLong();
            int length = rec.getInt();
            int dataCrc = rec.getInt();
            int recordCrc = rec.getInt();
            CRC32C c = new CRC32C();
            c.update(rec.array(), 0, 16);
            if ((int) c.getValue() != recordCrc || offset != end || length <= 0 || offset + length > size) {
                return new Records(count, end);
            }
            if (check != null && !check.ok(offset, length, dataCrc)) {
                return new Records(count, end);
            }
            count++;
            end = offset + length;
        }
        return new Records(count, end);
    }

    @FunctionalInterface
    private interface ChunkCheck {
        boolean ok(long offset, int length, int crc32c) throws IOException;
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
        discardStalePartials();
    }

    /**
     * Deletes receiving partials at or below the newest committed snapshot's index: this node
     * never installs a snapshot older than the one it holds, so they would only take disk space.
     */
    private void discardStalePartials() throws IOException {
        long newest;
        synchronized (this) {
            if (committed.isEmpty()) {
                return;
            }
            newest = committed.lastKey().index();
        }
        boolean removed = false;
        for (String name : io.list(dir)) {
            Matcher m = RECEIVING.matcher(name);
            if (!m.matches() || Long.parseLong(m.group(1)) > newest) {
                continue;
            }
            synchronized (this) {
                if (receiving.contains(name)) {
                    continue;
                }
            }
            LOG.info("discarding the partial snapshot {}: this node holds a snapshot at index {} already", name, newest);
            io.deleteRecursively(dir.resolve(name));
            removed = true;
        }
        if (removed) {
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

    /** Writes a snapshot received from a peer into its receiving partial; see {@link #beginReceive}. */
    private final class ReceiveWriter implements ResumableSnapshotWriter {
        private final String name;
        private final SnapshotMeta meta;
        private final long expectedSize;
        private final int expectedCrc;
        private final Path partial;
        private final FileIo.Handle data;
        private final FileIo.Handle chunks;
        /** CRC32C of the whole image so far. */
        private CRC32C whole = new CRC32C();
        /** CRC32C of the bytes since the last checkpoint. */
        private CRC32C pending = new CRC32C();
        private long size;
        /** The end of the last recorded (checkpointed) chunk. */
        private long durable;
        /** The end of the recorded chunks last forced to disk. */
        private long forced;
        private int records;
        private long resumeOffset;
        private boolean ended;
        private SnapshotDescriptor result;

        private final OutputStream out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (ended) {
                    throw new IOException("the receipt of snapshot " + meta.last() + " has ended");
                }
                if (size + len > expectedSize) {
                    throw new IOException("snapshot " + meta.last() + ": " + (size + len) + " bytes received where "
                            + expectedSize + " were announced");
                }
                data.write(ByteBuffer.wrap(b, off, len), size);
                whole.update(b, off, len);
                pending.update(b, off, len);
                size += len;
            }
        };

        ReceiveWriter(String name, SnapshotMeta meta, long expectedSize, int expectedCrc, Path partial,
                      FileIo.Handle data, FileIo.Handle chunks) {
            this.name = name;
            this.meta = meta;
            this.expectedSize = expectedSize;
            this.expectedCrc = expectedCrc;
            this.partial = partial;
            this.data = data;
            this.chunks = chunks;
        }

        /**
         * Re-reads the partial: every chunk record must be intact and its bytes in {@code data} must
         * match its CRC32C; the first that fails and everything after it are dropped.
         */
        void recover() throws IOException {
            long dataSize = data.size();
            CRC32C scanned = new CRC32C();
            ByteBuffer buf = ByteBuffer.allocate(64 << 10);
            Records valid = validRecords(chunks, expectedSize, (offset, length, crc) -> {
                if (offset + length > dataSize) {
                    return false;
                }
                CRC32C c = new CRC32C();
                for (long p = offset; p < offset + length; ) {
                    buf.clear();
                    buf.limit((int) Math.min(buf.capacity(), offset + length - p));
                    int n = data.read(buf, p);
                    if (n < 0) {
                        return false;
                    }
                    c.update(buf.array(), 0, n);
                    scanned.update(buf.array(), 0, n);
                    p += n;
                }
                return (int) c.getValue() == crc;
            });
            long recordBytes = (long) valid.count() * CHUNK_RECORD_BYTES;
            long chunkFile = chunks.size();
            if (chunkFile != recordBytes || dataSize != valid.end()) {
                if (chunkFile >= recordBytes + CHUNK_RECORD_BYTES) {
                    // A whole record that did not check out: its bytes or the record are damaged
                    // (a torn last record after a crash is shorter and needs no warning).
                    LOG.warn("partial snapshot {}: chunk record {} (from byte {}) does not match its data; it and"
                            + " everything after it are discarded", partial, valid.count(), valid.end());
                }
                chunks.truncate(recordBytes);
                data.truncate(valid.end());
                chunks.force();
                data.force();
            }
            CRC32C all = scanned;
            if (valid.end() == 0 || chunkFile > recordBytes) {
                // The check that stopped the scan may have fed its (refused) bytes to the running CRC:
                // recompute it from the bytes that checked out. Rare, so a second read is fine.
                all = new CRC32C();
                for (long p = 0; p < valid.end(); ) {
                    buf.clear();
                    buf.limit((int) Math.min(buf.capacity(), valid.end() - p));
                    int n = data.read(buf, p);
                    if (n < 0) {
                        throw new IOException("partial snapshot " + partial + " ends at " + p + " while it was read");
                    }
                    all.update(buf.array(), 0, n);
                    p += n;
                }
            }
            whole = all;
            records = valid.count();
            size = valid.end();
            durable = size;
            forced = size;
            resumeOffset = size;
            if (size > 0) {
                LOG.info("partial snapshot {}: {} of {} bytes verified in {} chunks; resuming from byte {}",
                        partial, size, expectedSize, records, size);
            }
        }

        @Override
        public long resumeOffset() {
            return resumeOffset;
        }

        @Override
        public OutputStream output() {
            return out;
        }

        @Override
        public void checkpoint() throws IOException {
            if (ended) {
                throw new IOException("the receipt of snapshot " + meta.last() + " has ended");
            }
            if (size == durable) {
                return;
            }
            ByteBuffer rec = ByteBuffer.allocate(CHUNK_RECORD_BYTES);
            rec.putLong(durable).putInt((int) (size - durable)).putInt((int) pending.getValue());
            CRC32C c = new CRC32C();
            c.update(rec.array(), 0, 16);
            rec.putInt((int) c.getValue());
            rec.flip();
            chunks.write(rec, (long) records * CHUNK_RECORD_BYTES);
            records++;
            durable = size;
            pending = new CRC32C();
            if (size - forced >= forceEveryBytes) {
                force();
            }
        }

        /**
         * Data first, then the records: a record is never durable ahead of the bytes it vouches
         * for (and resuming re-checks the bytes anyway).
         */
        private void force() throws IOException {
            data.force();
            chunks.force();
            forced = durable;
        }

        @Override
        public void restart() throws IOException {
            chunks.truncate(0);
            data.truncate(0);
            chunks.force();
            data.force();
            whole = new CRC32C();
            pending = new CRC32C();
            size = 0;
            durable = 0;
            forced = 0;
            records = 0;
            resumeOffset = 0;
        }

        @Override
        public void suspend() {
            if (ended) {
                return;
            }
            ended = true;
            try {
                force(); // once per cut: the verified chunks survive a power cut too
            } catch (IOException | RuntimeException e) {
                LOG.warn("partial snapshot {}: could not force it to disk ({}); what survives is re-checked on resume",
                        partial, e.toString());
            }
            closeFiles();
            release();
        }

        @Override
        public SnapshotDescriptor commit() throws IOException {
            if (result != null) {
                return result;
            }
            if (ended) {
                throw new IOException("the receipt of snapshot " + meta.last() + " has ended");
            }
            try {
                if (size != expectedSize || (int) whole.getValue() != expectedCrc) {
                    throw new StorageException("received snapshot " + meta.last() + " has " + size + " bytes with CRC32C "
                            + Integer.toHexString((int) whole.getValue()) + " where the sender announced "
                            + expectedSize + " bytes with CRC32C " + Integer.toHexString(expectedCrc)
                            + "; it is discarded and the next transfer starts from byte 0");
                }
                data.force();
                data.close();
                chunks.close();
                io.delete(partial.resolve(CHUNKS));
                Key key;
                synchronized (FileSnapshotStore.this) {
                    key = new Key(meta.index(), meta.term(), nextSeq++);
                }
                SnapshotDescriptor d = new SnapshotDescriptor(meta, size, (int) whole.getValue());
                ByteBuffer m = ByteBuffer.allocate(12 + Codecs.snapshotMetaBytes(meta));
                m.putLong(size).putInt(d.crc32c());
                Codecs.putSnapshotMeta(m, meta);
                ChecksummedFile.write(io, partial.resolve(MANIFEST), MANIFEST_MAGIC, m.array());
                io.move(partial, dir.resolve(key.name()));
                io.syncDirectory(dir);
                ended = true;
                synchronized (FileSnapshotStore.this) {
                    committed.put(key, d);
                }
                release();
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
            boolean wasOpen = !ended;
            ended = true;
            closeFiles();
            try {
                io.deleteRecursively(partial);
            } catch (IOException e) {
                LOG.warn("could not delete the discarded partial snapshot {}; the next receipt removes it", partial, e);
            }
            if (wasOpen) {
                release();
            }
        }

        private void closeFiles() {
            for (FileIo.Handle h : new FileIo.Handle[] {data, chunks}) {
                try {
                    h.close();
                } catch (IOException e) {
                    LOG.warn("closing a file of partial snapshot {} failed", partial, e);
                }
            }
        }

        private void release() {
            synchronized (FileSnapshotStore.this) {
                receiving.remove(name);
            }
        }

        @Override
        public void close() {
            if (!ended) {
                abort();
            }
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
