package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.runtime.MemoryLogStorage;
import dev.raftkit.spi.LogStorage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SegmentedLogStorage#sizeBytes()} and {@link SegmentedLogStorage#segmentCount()}: what {@code raftkit status} shows. */
class SegmentedLogSizeTest {

    @TempDir
    Path dir;

    @Test
    void theSizeIsTheDataOfEverySegmentAndFollowsAppendsRollsAndTruncation() throws Exception {
        SegmentedLogStorage.Options options = SegmentedLogStorage.Options.defaults().withSegmentBytes(4096)
                .withPreallocate(false);
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir, options)) {
            long empty = log.sizeBytes();
            assertEquals(dataOnDisk(), empty, "an empty log: its open segment's header");
            List<Entry> entries = new ArrayList<>();
            for (int i = 1; i <= 100; i++) {
                entries.add(Entry.normal(1, i, new byte[100]));
            }
            log.append(entries);
            log.sync();
            assertTrue(log.segmentCount() > 1, "100 entries of 100 bytes roll 4 KiB segments: " + log.segmentCount());
            assertEquals(dataOnDisk(), log.sizeBytes(), "without preallocation the files hold the data only");
            assertTrue(log.sizeBytes() >= empty + 100 * 100, "at least the payloads: " + log.sizeBytes());
            long before = log.sizeBytes();
            log.append(List.of(Entry.normal(2, 51, new byte[10])));
            log.sync();
            assertTrue(log.sizeBytes() < before, "truncating 50 entries shrinks it: " + log.sizeBytes() + " vs " + before);
            assertEquals(dataOnDisk(), log.sizeBytes());
        }
    }

    @Test
    void preallocatedZerosAreNotCounted() throws Exception {
        SegmentedLogStorage.Options options = SegmentedLogStorage.Options.defaults().withSegmentBytes(64 << 10);
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir, options)) {
            log.append(List.of(Entry.normal(1, 1, new byte[1000])));
            log.sync();
            assertEquals(1, log.segmentCount());
            assertTrue(log.sizeBytes() > 1000 && log.sizeBytes() < 64 << 10, "data, not the preallocated file: "
                    + log.sizeBytes());
        }
    }

    @Test
    void anImplementationThatDoesNotKnowSaysMinusOne() {
        LogStorage unknown = new MemoryLogStorage();
        assertEquals(-1, unknown.sizeBytes());
        assertEquals(-1, unknown.segmentCount());
    }

    private long dataOnDisk() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("log_")).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        }
    }
}
