package dev.raftkit.storage;

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
import dev.raftkit.spi.StorageException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * 10,000 random bit flips in synced data (segment headers and records, the hard-state and
 * log-meta files): every one is detected — at start-up, when the entry is read, or (in the last
 * record of the open segment) by cutting the damaged tail and starting the node recovering — and
 * no read ever returns an entry that differs from what was written.
 */
class CorruptionFuzzTest {

    static final Path DIR = Path.of("/sim/fuzz/log");
    static final SegmentedLogStorage.Options OPTIONS = SegmentedLogStorage.Options.defaults()
            .withSegmentBytes(4096).withCacheBytes(0);
    static final int FLIPS = 10_000;

    record Region(Path file, long from, long to) {
    }

    @Test
    void everyBitFlipInSyncedDataIsDetectedAndNoneIsServed() throws Exception {
        SimFileIo fs = new SimFileIo().mkdirsDurable(DIR.getParent());
        Random rnd = new Random(20260404L);
        SegmentedLogStorage log = SegmentedLogStorage.open(fs, DIR, OPTIONS);
        List<Entry> written = SampleLog.write(log, rnd);
        long term = written.get(written.size() - 1).term();
        log.setHardState(new HardState(term, 2, 150));
        log.sync();
        long firstIndex = log.firstIndex();
        List<Region> synced = new ArrayList<>();
        List<Path> segments = log.segmentPaths();
        for (int i = 0; i < segments.size(); i++) {
            boolean open = i == segments.size() - 1;
            synced.add(new Region(segments.get(i), 0, open ? log.openSegmentDataEnd() : fs.durableSize(segments.get(i))));
        }
        synced.add(new Region(DIR.resolve(SegmentedLogStorage.HARD_STATE_FILE), 0,
                fs.durableSize(DIR.resolve(SegmentedLogStorage.HARD_STATE_FILE))));
        synced.add(new Region(DIR.resolve(LogMeta.FILE), 0, fs.durableSize(DIR.resolve(LogMeta.FILE))));
        long total = synced.stream().mapToLong(r -> r.to() - r.from()).sum();
        log.close();
        assertTrue(segments.size() >= 3, "the fuzzed log spans closed segments and the open one: " + segments);

        int atOpen = 0;
        int onRead = 0;
        int cut = 0;
        for (int n = 0; n < FLIPS; n++) {
            long pick = (long) (rnd.nextDouble() * total);
            Region where = null;
            for (Region r : synced) {
                if (pick < r.to() - r.from()) {
                    where = r;
                    break;
                }
                pick -= r.to() - r.from();
            }
            SimFileIo sim = fs.copy();
            int bit = rnd.nextInt(8);
            sim.flip(where.file(), where.from() + pick, bit);
            String what = "flip of bit " + bit + " at offset " + (where.from() + pick) + " of " + where.file();
            SegmentedLogStorage damaged;
            try {
                damaged = SegmentedLogStorage.open(sim, DIR, OPTIONS);
            } catch (StorageException detected) {
                atOpen++;
                continue;
            }
            boolean detected = false;
            try {
                assertEquals(firstIndex, damaged.firstIndex(), what);
                if (damaged.lastIndex() < 160) {
                    // Only the damaged last record is cut, and the node must recover what it held.
                    assertEquals(159, damaged.lastIndex(), what);
                    assertTrue(damaged.initialState().hardState().recovering(), "cut without recovering: " + what);
                    assertEquals(written.subList((int) firstIndex - 1, 159), damaged.entries(firstIndex, 160, Long.MAX_VALUE), what);
                    cut++;
                    continue;
                }
                assertEquals(160, damaged.lastIndex(), what);
                for (long i = firstIndex; i <= 160; i++) {
                    List<Entry> got;
                    try {
                        got = damaged.entries(i, i + 1, Long.MAX_VALUE);
                    } catch (StorageException e) {
                        detected = true;
                        continue;
                    }
                    assertEquals(written.get((int) i - 1), got.get(0), "served a damaged entry after " + what);
                }
            } finally {
                damaged.close();
            }
            assertTrue(detected, "undetected " + what);
            onRead++;
        }
        assertEquals(FLIPS, atOpen + onRead + cut);
        assertTrue(cut > 0, "some flips hit the last record of the open segment");
    }
}
