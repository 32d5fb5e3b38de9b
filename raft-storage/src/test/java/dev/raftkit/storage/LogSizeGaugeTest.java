package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.EntryType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SegmentedLogStorage#sizeBytes()} and {@link SegmentedLogStorage#segmentCount()} follow appends, rolls and compaction. */
class LogSizeGaugeTest {

    @TempDir
    Path dir;

    private static List<Entry> entries(long from, int n) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Entry(1, from + i, EntryType.NORMAL, new byte[100]));
        }
        return out;
    }

    @Test
    void sizeAndSegmentsFollowTheLog() throws Exception {
        SegmentedLogStorage.Options options = SegmentedLogStorage.Options.defaults().withSegmentBytes(4096)
                .withPreallocate(false);
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir.resolve("log"), options)) {
            long empty = log.sizeBytes();
            assertEquals(1, log.segmentCount(), "a new log has its open segment");
            log.append(entries(1, 5));
            log.sync();
            long five = log.sizeBytes();
            assertTrue(five >= empty + 5 * 100, "five 100-byte entries add at least 500 bytes: " + empty + " -> " + five);

            log.append(entries(6, 200));
            log.sync();
            int segments = log.segmentCount();
            assertTrue(segments > 3, "about 20 KiB of records roll 4 KiB segments: " + segments);
            long full = log.sizeBytes();
            assertTrue(full >= five + 200 * 100, "bytes grow with the entries: " + full);

            log.compact(new SnapshotMeta(new EntryId(1, 180), ConfState.ofVoters(Set.of(1L))));
            assertTrue(log.segmentCount() < segments, "compaction deletes whole segments: " + log.segmentCount());
            assertTrue(log.sizeBytes() < full, "and their bytes: " + log.sizeBytes());
        }
    }
}
