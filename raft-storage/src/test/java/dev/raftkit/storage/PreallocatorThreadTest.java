package dev.raftkit.storage;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each log owns its preallocation thread: started by the first append, stopped and joined by
 * {@code close()}. The thread was once process-wide and outlived every log by a minute idle.
 */
class PreallocatorThreadTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    /** 4 KiB segments: an append of a few entries rolls, so the spare is taken and refilled. */
    private static final SegmentedLogStorage.Options SMALL = SegmentedLogStorage.Options.defaults()
            .withSegmentBytes(4096).withCacheBytes(0);

    @TempDir
    Path tmp;

    @Test
    void closingALogLeavesNoPreallocatorThreadRunning() throws Exception {
        Path dir = tmp.resolve("log");
        String name = Preallocator.THREAD_PREFIX + " " + dir;
        SegmentedLogStorage log = SegmentedLogStorage.open(dir, SMALL);
        try {
            appendRolling(log, 1, 40);
            await().atMost(WAIT).until(() -> threadsNamed(name) == 1);
        } finally {
            log.close();
        }
        // close() joins the thread: no wait is needed, and allowing one would hide a close that does not join.
        assertEquals(0, threadsNamed(name), "close() left " + name + " running");
        try (SegmentedLogStorage reopened = SegmentedLogStorage.open(dir, SMALL)) {
            assertEquals(40, reopened.lastIndex(), "what the spares became is the log");
        }
    }

    @Test
    void manyLogsOpenedAndClosedLeaveNoThreadBehind() throws Exception {
        List<SegmentedLogStorage> logs = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                SegmentedLogStorage log = SegmentedLogStorage.open(tmp.resolve("log" + i), SMALL);
                logs.add(log);
                appendRolling(log, 1, 20);
            }
            // One thread per log, each named by its directory.
            await().atMost(WAIT).until(() -> threadsStartingWith(Preallocator.THREAD_PREFIX + " " + tmp + java.io.File.separator) == 8);
        } finally {
            for (SegmentedLogStorage log : logs) {
                log.close();
            }
        }
        assertEquals(0, threadsStartingWith(Preallocator.THREAD_PREFIX + " " + tmp + java.io.File.separator));
    }

    /** A log opened only to be read (a restore, a recovery check) starts no thread at all. */
    @Test
    void aLogThatIsNeverAppendedToStartsNoThread() throws Exception {
        Path dir = tmp.resolve("log");
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir, SMALL)) {
            assertEquals(0, log.lastIndex());
            assertEquals(0, threadsNamed(Preallocator.THREAD_PREFIX + " " + dir));
        }
    }

    @Test
    void withoutPreallocationNoThreadIsStarted() throws Exception {
        Path dir = tmp.resolve("log");
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir, SMALL.withPreallocate(false))) {
            appendRolling(log, 1, 20);
            assertEquals(0, threadsStartingWith(Preallocator.THREAD_PREFIX + " " + dir));
        }
    }

    private static void appendRolling(SegmentedLogStorage log, long from, long to) throws Exception {
        for (long i = from; i <= to; i++) {
            log.append(List.of(Entry.normal(1, i, new byte[500])));
            log.sync();
        }
        assertTrue(log.segmentPaths().size() > 2, "it rolled: " + log.segmentPaths());
    }

    private static long threadsNamed(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).count();
    }

    private static long threadsStartingWith(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix)).count();
    }
}
