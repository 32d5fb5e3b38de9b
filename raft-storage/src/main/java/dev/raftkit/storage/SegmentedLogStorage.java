package dev.raftkit.storage;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.InitialState;
import dev.raftkit.core.log.LogCompactedException;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.log.LogUnavailableException;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.spi.StorageException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.zip.CRC32C;

/**
 * The durable Raft log: segment files of checksummed records, a hard-state file and a log-meta
 * file in one data directory, with recent entries cached in memory. The on-disk format and the
 * recovery rules are in {@code docs/storage-format.md}.
 *
 * <p>Threads follow {@link dev.raftkit.core.log.LogReader} and {@link dev.raftkit.spi.LogWriter}: one
 * writer thread, and readers concurrently. Readers take a read lock that the writer holds only to
 * publish index changes, never across an fsync, so a read never waits for the disk flush. With
 * preallocation on, the log's own background thread ({@code raftkit-log-preallocator <dir>},
 * started at the first append, stopped and joined by {@link #close}) zero-fills the next segment
 * ahead of need, so a roll does not stall appends for a whole segment of zeros.
 *
 * <p>Durability: {@link #append} writes to the file (the OS page cache) at once and {@link #sync}
 * issues one fdatasync for everything appended since the last one, then replaces the hard-state
 * file if it changed (group commit). Rolling a segment, truncating a suffix, compacting and
 * installing a snapshot make their own changes durable before they return. After an I/O error the
 * log refuses further writes (fail-stop).
 */
public final class SegmentedLogStorage implements LogStorage {

    static final String HARD_STATE_FILE = HardStateFile.NAME;
    static final String LOCK_FILE = "LOCK";
    /**
     * Tuning.
     *
     * @param segmentBytes roll to a new segment file once one reaches this size (≤ 1 GiB)
     * @param preallocate fill each new segment with zeros up to {@code segmentBytes} so appends
     *     overwrite allocated blocks and an fdatasync flushes data only, no file-size metadata; the
     *     next segment is prepared in the background, so the directory holds one spare segment
     *     ({@code segmentBytes} on disk) beyond the log while it is open
     * @param compactionMarginEntries entries to keep below a compaction point, so a follower only
     *     slightly behind is served from the log rather than sent a snapshot
     * @param cacheBytes bound of the cache of recently appended entries ({@link Entry#sizeBytes()}
     *     per entry; entries over 1/256 of it are not cached); 0 disables it
     * @param commitPersistInterval a change of the commit index alone is written to the hard-state
     *     file once it moved this many entries past the durable one (0: every change). Term and vote
     *     changes are always written at the next {@code sync()}. The commit index is not needed for
     *     safety (a restarted node learns it again from the leader, and the core treats entries its
     *     state machine applied, and every configuration change in the log but the last, as
     *     committed), while rewriting the file costs three fsyncs.
     */
    public record Options(long segmentBytes, boolean preallocate, long compactionMarginEntries, long cacheBytes,
                          long commitPersistInterval) {
        public Options {
            if (segmentBytes < 4096 || segmentBytes > (1L << 30)) {
                throw new IllegalArgumentException("segmentBytes must be in [4 KiB, 1 GiB], got " + segmentBytes);
            }
            if (compactionMarginEntries < 0 || cacheBytes < 0 || commitPersistInterval < 0) {
                throw new IllegalArgumentException("negative compaction margin, cache size or commit persist interval");
            }
        }

        /**
         * 64 MiB segments, preallocated; no compaction margin; a 64 MiB entry cache; the commit index
         * alone persisted every 1,024 entries.
         */
        public static Options defaults() {
            return new Options(64L << 20, true, 0, 64L << 20, 1024);
        }

        public Options withSegmentBytes(long bytes) {
            return new Options(bytes, preallocate, compactionMarginEntries, cacheBytes, commitPersistInterval);
        }

        public Options withPreallocate(boolean on) {
            return new Options(segmentBytes, on, compactionMarginEntries, cacheBytes, commitPersistInterval);
        }

        public Options withCompactionMargin(long entries) {
            return new Options(segmentBytes, preallocate, entries, cacheBytes, commitPersistInterval);
        }

        public Options withCacheBytes(long bytes) {
            return new Options(segmentBytes, preallocate, compactionMarginEntries, bytes, commitPersistInterval);
        }

        public Options withCommitPersistInterval(long entries) {
            return new Options(segmentBytes, preallocate, compactionMarginEntries, cacheBytes, entries);
        }
    }

    private final FileIo io;
    private final Path dir;
    private final Options options;
    private final Closeable dirLock;
    private final HardStateFile hardStateFile;
    private final ReentrantReadWriteLock rw = new ReentrantReadWriteLock();
    /** Oldest first; the last one is the open segment. Changed under the write lock. */
    private final List<SegmentFile> segments;
    private final TermRuns terms;
    private final EntryCache cache;
    /** Null when segments are not preallocated. */
    private final SpareSegment spare;
    /** This log's preallocation thread; null over a simulated file system (fills on the caller). */
    private final Preallocator preallocator;
    private volatile LogMeta meta;
    private volatile HardState hardState;
    private HardState durableHardState;
    /** What {@link #sizeBytes()} and {@link #segmentCount()} answer: published by the writer, read by any thread. */
    private volatile long publishedBytes;
    private volatile int publishedSegments;
    // Writer-thread state.
    private final CRC32C crc = new CRC32C();
    private ByteBuffer writeBuf = ByteBuffer.allocateDirect(1 << 20);
    private int[] batchOffsets = new int[256];
    private boolean dirty;
    private boolean failed;
    private boolean closed;

    private SegmentedLogStorage(FileIo io, Path dir, Options options, Closeable dirLock, LogRecovery.Recovered r,
                                Preallocator preallocator) {
        this.io = io;
        this.dir = dir;
        this.options = options;
        this.dirLock = dirLock;
        this.hardStateFile = new HardStateFile(io, dir);
        this.segments = r.segments();
        this.terms = r.terms();
        this.meta = r.meta();
        this.hardState = r.hardState();
        this.durableHardState = r.hardState();
        this.cache = options.cacheBytes() == 0 ? null : new EntryCache(options.cacheBytes());
        this.preallocator = preallocator;
        Executor filler = preallocator == null ? Runnable::run : preallocator;
        this.spare = options.preallocate() ? new SpareSegment(io, dir, options.segmentBytes(), filler) : null;
        publishSize();
    }

    /** Opens (creating if needed) the log in {@code dir} with default options. */
    public static SegmentedLogStorage open(Path dir) throws IOException {
        return open(dir, Options.defaults());
    }

    /**
     * Opens (creating if needed) the log in {@code dir}, verifying it; see the recovery rules in
     * {@code docs/storage-format.md}. Blocks while it reads every segment. With preallocation the
     * log gets its own preallocator thread, started by the first append and joined by
     * {@link #close}; a log that is never appended to starts none.
     *
     * @throws StorageException if the directory is locked by another process or the log is corrupt
     */
    public static SegmentedLogStorage open(Path dir, Options options) throws IOException {
        // Its thread starts at the first spare and ends with close(), so no log leaves one behind.
        return open(RealFileIo.INSTANCE, dir, options, options.preallocate() ? new Preallocator(dir) : null,
                StorageTestingHooks.NONE);
    }

    /**
     * {@link #open(Path, Options)} over the file system {@code io} (a {@link SimFileIo} in tests and
     * the simulator). Spare segments, if preallocated, are prepared on the calling thread rather
     * than a background one, so a simulated file system sees every call from the thread that
     * drives it.
     */
    public static SegmentedLogStorage open(FileIo io, Path dir, Options options) throws IOException {
        return open(io, dir, options, StorageTestingHooks.NONE);
    }

    /** {@link #open(FileIo, Path, Options)} with deliberate bugs, for testing a fault harness only. */
    public static SegmentedLogStorage open(FileIo io, Path dir, Options options, StorageTestingHooks hooks)
            throws IOException {
        return open(io, dir, options, null, hooks);
    }

    /** With {@code preallocator} null, spares are filled on the writer thread. */
    private static SegmentedLogStorage open(FileIo io, Path dir, Options options, Preallocator preallocator,
                                            StorageTestingHooks hooks) throws IOException {
        io.createDirectories(dir);
        Closeable lock = io.lock(dir.resolve(LOCK_FILE));
        try {
            LogRecovery.Recovered r = new LogRecovery(io, dir, options, hooks).recover();
            SegmentedLogStorage log = new SegmentedLogStorage(io, dir, options, lock, r, preallocator);
            log.lazyFsyncNanos = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(hooks.lazyEntriesFsyncMillis());
            return log;
        } catch (IOException | RuntimeException e) {
            if (preallocator != null) {
                preallocator.close(); // never started (nothing was appended), but closed is closed
            }
            lock.close();
            throw e;
        }
    }


    // ---------------------------------------------------------------- reader side

    @Override
    public InitialState initialState() {
        rw.readLock().lock();
        try {
            return new InitialState(hardState, meta.base());
        } finally {
            rw.readLock().unlock();
        }
    }

    @Override
    public long firstIndex() {
        rw.readLock().lock();
        try {
            return firstIndexLocked();
        } finally {
            rw.readLock().unlock();
        }
    }

    @Override
    public long lastIndex() {
        rw.readLock().lock();
        try {
            return lastIndexLocked();
        } finally {
            rw.readLock().unlock();
        }
    }

    @Override
    public long term(long index) {
        rw.readLock().lock();
        try {
            long first = firstIndexLocked();
            if (index < first - 1) {
                throw new LogCompactedException(index, first);
            }
            long last = lastIndexLocked();
            if (index > last) {
                throw new LogUnavailableException(index, last);
            }
            return terms.termAt(index);
        } finally {
            rw.readLock().unlock();
        }
    }

    @Override
    public List<Entry> entries(long lo, long hi, long maxBytes) {
        if (lo > hi) {
            throw new IllegalArgumentException("invalid range [" + lo + ", " + hi + ")");
        }
        if (lo == hi) {
            return List.of();
        }
        rw.readLock().lock();
        try {
            checkRange(lo);
            checkRange(hi - 1);
            List<Entry> out = new ArrayList<>((int) Math.min(hi - lo, 1024));
            long bytes = 0;
            SegmentFile seg = null;
            for (long i = lo; i < hi; i++) {
                Entry e = cache == null ? null : cache.get(i);
                if (e == null) {
                    if (seg == null || !seg.contains(i)) {
                        seg = segmentFor(i);
                    }
                    e = read(seg, i);
                }
                bytes += e.sizeBytes();
                if (!out.isEmpty() && bytes > maxBytes) {
                    break;
                }
                out.add(e);
            }
            return out;
        } finally {
            rw.readLock().unlock();
        }
    }

    private long firstIndexLocked() {
        return segments.isEmpty() ? meta.base().index() + 1 : segments.get(0).firstIndex;
    }

    private long lastIndexLocked() {
        return segments.isEmpty() ? meta.base().index() : segments.get(segments.size() - 1).lastIndex();
    }

    private void checkRange(long index) {
        long first = firstIndexLocked();
        if (index < first) {
            throw new LogCompactedException(index, first);
        }
        long last = lastIndexLocked();
        if (index > last) {
            throw new LogUnavailableException(index, last);
        }
    }

    private SegmentFile segmentFor(long index) {
        int lo = 0;
        int hi = segments.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (segments.get(mid).firstIndex <= index) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return segments.get(lo);
    }

    /** Reads and checks one record; a mismatch is corruption found after start-up. */
    private Entry read(SegmentFile seg, long index) {
        return seg.read(index, terms.termAt(index));
    }

    // ---------------------------------------------------------------- writer side

    @Override
    public void append(List<Entry> entries) throws IOException {
        ensureWritable();
        if (entries.isEmpty()) {
            return;
        }
        long first = entries.get(0).index();
        long base = meta.base().index();
        if (first <= base) {
            throw new IllegalStateException("append at " + first + " overwrites the snapshot at " + base);
        }
        long last = lastIndex();
        if (first > last + 1) {
            throw new IllegalStateException("append at " + first + " leaves a gap after " + last);
        }
        LogSlice.validate(new EntryId(term(first - 1), first - 1), entries);
        for (Entry e : entries) {
            // Before anything is written: an entry no record can hold is refused whole.
            RecordCodec.checkEncodable(e);
        }
        try {
            if (first <= last) {
                truncateSuffix(first);
            }
            write(entries);
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        }
    }

    private void write(List<Entry> entries) throws IOException {
        if (spare != null) {
            spare.prepare(); // no-op once one is on its way
        }
        SegmentFile seg = openSegment();
        writeBuf.clear();
        int from = 0;
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            int n = RecordCodec.recordBytes(e);
            boolean segmentHasData = seg.count() > 0 || i > from;
            if (segmentHasData && seg.dataEnd + writeBuf.position() + n > options.segmentBytes()) {
                flush(seg, entries, from, i);
                roll(seg);
                seg = openSegment();
                from = i;
            }
            // Checked after a roll too: a record larger than the buffer may be the one that rolled
            // (this once overflowed the buffer, killed the writer and stopped the node).
            if (writeBuf.remaining() < n) {
                flush(seg, entries, from, i);
                from = i;
                if (writeBuf.capacity() < n) {
                    writeBuf = ByteBuffer.allocateDirect(bufferFor(n));
                }
            }
            int k = i - from;
            if (k == batchOffsets.length) {
                batchOffsets = java.util.Arrays.copyOf(batchOffsets, k * 2);
            }
            batchOffsets[k] = writeBuf.position();
            RecordCodec.encode(e, writeBuf, crc);
        }
        flush(seg, entries, from, entries.size());
    }

    /** A buffer size for a record of {@code n} bytes: the next power of two, without overflowing. */
    static int bufferFor(int n) {
        int pow = Integer.highestOneBit(n);
        return pow == n ? n : (pow >= (1 << 30) ? Integer.MAX_VALUE - 8 : pow << 1);
    }

    /** Writes the buffered records of {@code entries[from, to)} and publishes them to readers. */
    private void flush(SegmentFile seg, List<Entry> entries, int from, int to) throws IOException {
        if (from == to) {
            return;
        }
        writeBuf.flip();
        int size = writeBuf.limit();
        long start = seg.write(writeBuf);
        writeBuf.clear();
        dirty = true;
        if (cache != null) {
            // Before publishing: a reader that sees the new last index also sees these.
            for (int i = from; i < to; i++) {
                cache.put(entries.get(i));
            }
        }
        rw.writeLock().lock();
        try {
            for (int i = from; i < to; i++) {
                int k = i - from;
                long end = start + (k + 1 < to - from ? batchOffsets[k + 1] : size);
                seg.add(start + batchOffsets[k], end);
                terms.append(entries.get(i).index(), entries.get(i).term());
            }
        } finally {
            rw.writeLock().unlock();
        }
        publishSize();
    }

    /**
     * Publishes the log's size for {@link #sizeBytes()} and {@link #segmentCount()}: on the writer
     * thread after every change of the segments, so a metrics poll reads two volatiles instead of
     * taking the lock the writer needs. A sum over the segments, a few dozen at most.
     */
    private void publishSize() {
        long bytes = 0;
        for (SegmentFile seg : segments) {
            bytes += seg.dataEnd;
        }
        publishedBytes = bytes;
        publishedSegments = segments.size();
    }

    /** Bytes of records and segment headers in the log's segments (not preallocated space); any thread, no lock. */
    @Override
    public long sizeBytes() {
        return publishedBytes;
    }

    /** Segment files of the log, the open one included; any thread, no lock. */
    @Override
    public int segmentCount() {
        return publishedSegments;
    }

    private SegmentFile openSegment() {
        return segments.get(segments.size() - 1);
    }

    /**
     * Closes the open segment and starts the next. The closed segment is forced first: recovery
     * requires closed segments to be complete, so nothing in one may be lost to a crash.
     */
    private void roll(SegmentFile seg) throws IOException {
        seg.seal(io, dir, rw.writeLock());
        dirty = false;
        SegmentFile next = newSegment(meta.generation(), seg.lastIndex() + 1, terms.termAt(seg.lastIndex()));
        rw.writeLock().lock();
        try {
            segments.add(next);
        } finally {
            rw.writeLock().unlock();
        }
        publishSize();
    }

    /** The next open segment: the spare prepared ahead if there is one, else a new file. */
    private SegmentFile newSegment(long generation, long first, long prevTerm) throws IOException {
        FileIo.Handle h = spare == null ? null : spare.take();
        SegmentFile seg = h == null
                ? SegmentFile.create(io, dir, options, generation, first, prevTerm)
                : SegmentFile.publish(io, dir, h, spare.path(), generation, first, prevTerm);
        if (spare != null) {
            spare.prepare();
        }
        return seg;
    }

    /** {@link SegmentFile#explainNoSpace}: a full disk's IOException that says where, how much and what to do. */
    static IOException explainNoSpace(IOException e, FileIo io, Path dir, long needed) {
        return SegmentFile.explainNoSpace(e, io, dir, needed);
    }

    /**
     * Removes entries from {@code index} on (a new leader overwrites an uncommitted suffix,
     * §5.3). The cut is made durable at once: later appends go into the zeroed space after it, and
     * recovery relies on everything after the log's end being zero. Losing the overwritten
     * entries early is safe: a conflicting suffix is never committed (Leader Completeness, §5.4).
     */
    private void truncateSuffix(long index) throws IOException {
        List<SegmentFile> removed = new ArrayList<>();
        SegmentFile keep;
        long oldLast = lastIndex();
        rw.writeLock().lock();
        try {
            // A segment starting exactly at index stays, empty: its header's prevTerm still holds.
            while (segments.get(segments.size() - 1).firstIndex > index) {
                removed.add(segments.remove(segments.size() - 1));
            }
            keep = segments.get(segments.size() - 1);
            keep.truncateFrom(index);
            terms.truncateFrom(index);
            if (cache != null) {
                cache.truncateFrom(index);
            }
        } finally {
            rw.writeLock().unlock();
        }
        // Newest first, so a crash part-way leaves a log that is a prefix of the old one.
        for (SegmentFile s : removed) {
            s.delete(io);
        }
        if (!removed.isEmpty()) {
            io.syncDirectory(dir);
        }
        keep.cutAfterData(io, dir, options, rw.writeLock());
        dirty = false;
        publishSize();
    }

    @Override
    public void setHardState(HardState hs) {
        ensureWritable();
        hardState = hs;
    }

    /** Free bytes on the log directory's file system, as its {@link FileIo} reports them. */
    @Override
    public long usableSpace() throws IOException {
        return io.usableSpace(dir);
    }

    @Override
    public String location() {
        return dir.toString();
    }

    /** {@link StorageTestingHooks#lazyEntriesFsyncMillis}: testing only, 0 as shipped. */
    private long lazyFsyncNanos;
    private long lastForceNanos;

    @Override
    public void sync() throws IOException {
        ensureWritable();
        try {
            if (dirty) {
                // StorageTestingHooks.lazyEntriesFsyncMillis (testing only) skips some forces.
                if (lazyFsyncNanos == 0 || System.nanoTime() - lastForceNanos >= lazyFsyncNanos) {
                    openSegment().force();
                    if (lazyFsyncNanos != 0) {
                        lastForceNanos = System.nanoTime();
                    }
                }
                dirty = false;
            }
            HardState hs = hardState;
            boolean commitDue = hs.commit() - durableHardState.commit() >= options.commitPersistInterval();
            if (lazyFsyncNanos > 0) {
                // StorageTestingHooks.lazyEntriesFsyncMillis: the durable commit index never moves.
                hs = new HardState(hs.term(), hs.vote(), durableHardState.commit(), hs.recovering());
            }
            if (hs.needsSyncComparedTo(durableHardState) || (hs.commit() != durableHardState.commit() && commitDue)) {
                writeHardState(hs);
            }
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        }
    }

    /** After the entries: a commit index never points past what is durable. */
    private void writeHardState(HardState hs) throws IOException {
        hardStateFile.write(hs);
        durableHardState = hs;
    }

    @Override
    public void compact(SnapshotMeta snapshot) throws IOException {
        compact(snapshot, Long.MAX_VALUE);
    }

    /**
     * Moves the base to {@code snapshot} like {@link #compact(SnapshotMeta)}, but deletes no
     * segment holding an entry at or after {@code keepFrom}: the base may sit above the first
     * kept entry (as with the compaction margin), so a backup's pin costs disk, never the base.
     */
    @Override
    public void compact(SnapshotMeta snapshot, long keepFrom) throws IOException {
        ensureWritable();
        if (snapshot.index() <= meta.base().index()) {
            return;
        }
        long last = lastIndex();
        if (snapshot.index() > last) {
            throw new IllegalStateException("compact to " + snapshot.index() + " beyond last index " + last);
        }
        long t = term(snapshot.index());
        if (t != snapshot.term()) {
            throw new IllegalStateException("compact to " + snapshot.last() + " but the log holds term " + t + " there");
        }
        try {
            LogMeta next = new LogMeta(meta.generation(), snapshot);
            next.write(io, dir);
            long keepFromIndex = Math.min(keepFrom, snapshot.index() - options.compactionMarginEntries());
            List<SegmentFile> removed = new ArrayList<>();
            rw.writeLock().lock();
            try {
                meta = next;
                // Whole closed segments only; the open segment always stays.
                while (segments.size() > 1 && segments.get(0).lastIndex() < keepFromIndex) {
                    removed.add(segments.remove(0));
                }
                terms.dropBefore(segments.get(0).firstIndex - 1);
            } finally {
                rw.writeLock().unlock();
            }
            // Cached entries below firstIndex are never served (reads check the range first) and
            // age out of the cache by size, so they need no invalidation here.
            for (SegmentFile s : removed) {
                s.delete(io);
            }
            if (!removed.isEmpty()) {
                io.syncDirectory(dir);
            }
            publishSize();
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        }
    }

    @Override
    public void installSnapshot(SnapshotMeta snapshot) throws IOException {
        ensureWritable();
        try {
            // The new generation is durable before any old segment goes: a crash in between
            // leaves old-generation segments, which recovery deletes instead of reading.
            LogMeta next = new LogMeta(meta.generation() + 1, snapshot);
            next.write(io, dir);
            List<SegmentFile> removed;
            rw.writeLock().lock();
            try {
                meta = next;
                removed = new ArrayList<>(segments);
                segments.clear();
                terms.reset(snapshot.index(), snapshot.term());
                if (cache != null) {
                    cache.clear();
                }
            } finally {
                rw.writeLock().unlock();
            }
            for (SegmentFile s : removed) {
                s.delete(io);
            }
            io.syncDirectory(dir);
            dirty = false;
            SegmentFile seg = newSegment(next.generation(), snapshot.index() + 1, snapshot.term());
            rw.writeLock().lock();
            try {
                segments.add(seg);
            } finally {
                rw.writeLock().unlock();
            }
            publishSize();
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw e;
        }
    }

    /**
     * Closes the log, on the writer thread after its last write (or any thread once writes have
     * stopped). Blocks: writes the newest hard state if everything it covers is synced, closes the
     * segment files, stops and deletes the spare, and joins this log's preallocator thread, so when
     * it returns the log holds no file handle, no directory lock and no thread. Idempotent.
     *
     * @throws IOException if writing the hard state or closing a file failed; the log is closed
     *     regardless, and what was synced before is what a reopen recovers
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        IOException first = null;
        if (!failed && !dirty && !hardState.equals(durableHardState)) {
            // A clean shutdown leaves the newest commit index (every entry it covers is synced).
            try {
                writeHardState(hardState);
            } catch (IOException e) {
                first = e;
            }
        }
        for (SegmentFile s : segments) {
            try {
                s.handle.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        try {
            if (spare != null) {
                try {
                    spare.close(); // stops a filling in progress, so joining the thread below is quick
                } catch (IOException e) {
                    first = first == null ? e : first;
                }
            }
        } finally {
            if (preallocator != null) {
                preallocator.close(); // joins: when close() returns, this log runs no thread
            }
        }
        dirLock.close();
        if (first != null) {
            throw first;
        }
    }

    private void ensureWritable() {
        if (closed) {
            throw new IllegalStateException("log in " + dir + " is closed");
        }
        if (failed) {
            throw new StorageException("log in " + dir + " refused a write after an earlier I/O failure; "
                    + "the node must stop and restart, which recovers from what is durable");
        }
    }

    /** For tests and tools: the segment files, oldest first. */
    List<Path> segmentPaths() {
        rw.readLock().lock();
        try {
            return segments.stream().map(s -> s.path).toList();
        } finally {
            rw.readLock().unlock();
        }
    }

    /** For tests and tools: where the open segment's data ends (its bytes after are zero). */
    long openSegmentDataEnd() {
        rw.readLock().lock();
        try {
            return openSegment().dataEnd;
        } finally {
            rw.readLock().unlock();
        }
    }
}
