package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.confchange.ConfChangeCodec;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.StorageException;
import dev.raftkit.testkit.fuzz.Fuzz;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of what the storage reads back from disk: whole segment files (closed and open),
 * the hard-state and log-meta files, single records, and the snapshot store's manifest and data.
 * Unlike {@link CorruptionFuzzTest} (single bit flips), inputs here are structural damage too:
 * truncation, length-field edits, deleted, duplicated and swapped ranges, splices. The property:
 * opening or reading either fails with a {@link StorageException} (or an {@link IOException}) that
 * names the damage, or serves exactly what was written, never a different entry, and never fewer
 * entries than the durable commit index (an acknowledged record is never skipped).
 */
class StorageDecoderFuzzTest {

    static final Path DIR = Path.of("/sim/fuzz/log");
    static final SegmentedLogStorage.Options OPTIONS = SegmentedLogStorage.Options.defaults()
            .withSegmentBytes(4096).withCacheBytes(0);
    static final long COMMIT = 150;

    static SimFileIo pristine;
    static final List<Entry> written = new ArrayList<>();
    static long firstIndex;
    static List<Path> segments;
    static HardState hardState;

    @BeforeAll
    static void writeALog() throws IOException {
        pristine = new SimFileIo().mkdirsDurable(DIR.getParent());
        Random rnd = new Random(20261203L);
        SegmentedLogStorage log = SegmentedLogStorage.open(pristine, DIR, OPTIONS);
        written.addAll(SampleLog.write(log, rnd));
        long term = written.get(written.size() - 1).term();
        hardState = new HardState(term, 2, COMMIT);
        log.setHardState(hardState);
        log.sync();
        firstIndex = log.firstIndex();
        segments = log.segmentPaths();
        log.close();
        assertTrue(segments.size() >= 3, "the log spans closed segments and the open one: " + segments);
    }

    /** A copy of the written log with {@code file}'s durable contents replaced by {@code bytes}. */
    static SimFileIo with(Path file, byte[] bytes) throws IOException {
        SimFileIo fs = pristine.copy();
        try (FileIo.Handle h = fs.open(file)) {
            h.truncate(0);
            h.write(ByteBuffer.wrap(bytes), 0);
            h.force();
        }
        return fs;
    }

    /** Opens the damaged log and reads every entry; fails unless what it serves is what was written. */
    static long openAndReadAll(SimFileIo fs) throws IOException {
        SegmentedLogStorage log = SegmentedLogStorage.open(fs, DIR, OPTIONS);
        try {
            assertEquals(firstIndex, log.firstIndex(), "the first index survives damage or the damage is reported");
            assertTrue(log.lastIndex() >= COMMIT, "recovery dropped entries up to " + log.lastIndex()
                    + " although " + COMMIT + " was durably committed: an acknowledged record was skipped");
            long served = 0;
            for (long i = firstIndex; i <= log.lastIndex(); i++) {
                List<Entry> got = log.entries(i, i + 1, Long.MAX_VALUE);
                assertEquals(written.get((int) i - 1), got.get(0), "served a damaged entry " + i);
                served++;
            }
            HardState now = log.initialState().hardState();
            if (now.recovering()) {
                // A damaged tail was cut (garbage after the last record, or a damaged last record):
                // the node may have acknowledged what was there, so it recovers.
                now = new HardState(now.term(), now.vote(), now.commit());
            }
            assertEquals(hardState, now, "the hard state survives or is reported");
            return served;
        } finally {
            log.close();
        }
    }

    static Fuzz.Target<Long> segmentTarget(String name, Path file) throws IOException {
        byte[] original = pristine.durableBytes(file);
        return Fuzz.target(name, bytes -> openAndReadAll(with(file, bytes)))
                .corpus(List.of(original))
                .refusesWith(StorageException.class, IOException.class)
                .allocationLimit(64L << 20)
                .iterations(4_000);
    }

    @Test
    void aDamagedClosedSegmentIsReportedNeverServedOrSkipped() throws IOException {
        segmentTarget("storage-closed-segment", segments.get(0)).run();
    }

    @Test
    void aDamagedOpenSegmentIsReportedNeverServedOrSkipped() throws IOException {
        segmentTarget("storage-open-segment", segments.get(segments.size() - 1)).run();
    }

    @Test
    void aDamagedHardStateFileIsReported() throws IOException {
        segmentTarget("storage-hardstate", DIR.resolve(SegmentedLogStorage.HARD_STATE_FILE)).run();
    }

    @Test
    void aDamagedLogMetaFileIsReported() throws IOException {
        segmentTarget("storage-logmeta", DIR.resolve(LogMeta.FILE)).run();
    }

    /** Records with valid checksums but hostile fields, so the decoder's own checks are reached. */
    static byte[] record(Random rnd) {
        long term = rnd.nextBoolean() ? 1 + rnd.nextInt(5) : rnd.nextLong();
        long index = rnd.nextBoolean() ? 1 + rnd.nextInt(5) : rnd.nextLong();
        byte[] data = new byte[rnd.nextInt(40)];
        rnd.nextBytes(data);
        int length = RecordCodec.FIXED_BODY_BYTES + data.length;
        ByteBuffer b = ByteBuffer.allocate(RecordCodec.PREFIX_BYTES + length);
        b.putInt(length).putInt(0).putLong(term).putLong(index).put((byte) (rnd.nextInt(4) - 1)).put(data)
                .put(rnd.nextInt(8) == 0 ? 0 : RecordCodec.END_MARKER);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), RecordCodec.PREFIX_BYTES, length);
        b.putInt(4, (int) crc.getValue());
        return b.array();
    }

    @Test
    void recordDecoderReturnsTheEntryOrNullAndAgreesWithCheck() {
        List<byte[]> corpus = new ArrayList<>();
        for (Entry e : written.subList(0, 10)) {
            ByteBuffer b = ByteBuffer.allocate(RecordCodec.recordBytes(e));
            RecordCodec.encode(e, b, new CRC32C());
            corpus.add(b.array());
        }
        Fuzz.target("storage-record", bytes -> {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            if (bytes.length < RecordCodec.PREFIX_BYTES + RecordCodec.FIXED_BODY_BYTES) {
                return null; // the scanner never decodes where a record cannot fit
            }
            CRC32C crc = new CRC32C();
            Entry e = RecordCodec.decode(buf, 0, crc);
            long[] out = new long[2];
            boolean ok = RecordCodec.check(buf, 0, crc, out);
            assertEquals(e != null, ok, "decode and check agree on what is a record");
            if (e != null) {
                assertEquals(e.index(), out[0]);
                assertEquals(e.term(), out[1]);
                ByteBuffer again = ByteBuffer.allocate(RecordCodec.recordBytes(e));
                RecordCodec.encode(e, again, new CRC32C());
                assertArrayEquals(java.util.Arrays.copyOf(bytes, again.capacity()), again.array(),
                        "a decoded record is exactly the bytes it was decoded from");
            }
            return e;
        }).corpus(corpus).generator(StorageDecoderFuzzTest::record).iterations(40_000).run();
    }

    // ------------------------------------------------------------------------- snapshot store

    static final Path SNAPS = Path.of("/sim/fuzz/snapshots");

    record Store(SimFileIo fs, Path manifest, Path data, SnapshotDescriptor descriptor) {
    }

    static Store snapshotStore() throws IOException {
        SimFileIo fs = new SimFileIo().mkdirsDurable(SNAPS.getParent());
        SnapshotDescriptor d;
        try (FileSnapshotStore store = FileSnapshotStore.open(fs, SNAPS)) {
            SnapshotMeta meta = new SnapshotMeta(new EntryId(3, 120), new ConfState(Set.of(1L, 2L, 3L), Set.of(),
                    Set.of(4L), Set.of(), false));
            SnapshotWriter w = store.begin(meta);
            byte[] image = new byte[3000];
            new Random(7).nextBytes(image);
            w.output().write(image);
            d = w.commit();
        }
        Path snap = null;
        for (String name : fs.list(SNAPS)) {
            if (name.startsWith("snap-")) {
                snap = SNAPS.resolve(name);
            }
        }
        return new Store(fs, snap.resolve(FileSnapshotStore.MANIFEST), snap.resolve(FileSnapshotStore.DATA), d);
    }

    @Test
    void aDamagedSnapshotManifestIsReported() throws IOException {
        Store s = snapshotStore();
        SimFileIo saved = s.fs();
        Fuzz.target("snapshot-store-manifest", bytes -> {
            SimFileIo fs = saved.copy();
            try (FileIo.Handle h = fs.open(s.manifest())) {
                h.truncate(0);
                h.write(ByteBuffer.wrap(bytes), 0);
                h.force();
            }
            try (FileSnapshotStore store = FileSnapshotStore.open(fs, SNAPS)) {
                assertEquals(List.of(s.descriptor()), store.list(), "a manifest that opens is the one written");
                return store.list().size();
            }
        }).corpus(List.of(saved.durableBytes(s.manifest()))).refusesWith(StorageException.class, IOException.class)
                .iterations(10_000).run();
    }

    @Test
    void damagedSnapshotDataFailsVerification() throws IOException {
        Store s = snapshotStore();
        byte[] original = s.fs().durableBytes(s.data());
        Fuzz.target("snapshot-store-data", bytes -> {
            SimFileIo fs = s.fs().copy();
            try (FileIo.Handle h = fs.open(s.data())) {
                h.truncate(0);
                h.write(ByteBuffer.wrap(bytes), 0);
                h.force();
            }
            try (FileSnapshotStore store = FileSnapshotStore.open(fs, SNAPS);
                 SnapshotReader r = store.open(store.latest().orElseThrow())) {
                r.verify();
                assertArrayEquals(original, bytes, "verification passed only for the bytes written");
                return r.descriptor();
            }
        }).corpus(List.of(original)).refusesWith(StorageException.class).iterations(6_000).run();
    }
}
