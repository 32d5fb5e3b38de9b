package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.HardState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.spi.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's storage findings: what a log refuses at start-up (a deleted hard state, a directory
 * already in use even with its lock file deleted, a disk too small for a segment), and a large
 * entry that once overflowed the writer's buffer.
 */
class StartupChecksTest {

    @TempDir
    Path tmp;

    private static final SegmentedLogStorage.Options SMALL_UNALLOCATED = SegmentedLogStorage.Options.defaults()
            .withSegmentBytes(4 << 20).withPreallocate(false).withCacheBytes(0);

    // ------------------------------------------------------------------ a 63 MiB Submit kills the leader

    /**
     * The root of "a 63 MiB Submit kills the leader": an entry that did not fit the open segment
     * rolled it and was then encoded into the 1 MiB write buffer without growing it —
     * BufferOverflowException, the log writer died, the node stopped. Any entry over 1 MiB that
     * arrives when the segment is nearly full did the same.
     */
    @Test
    void anEntryThatRollsTheSegmentAndOutgrowsTheWriteBufferIsWritten() throws Exception {
        Path dir = tmp.resolve("log");
        byte[] big = new byte[(4 << 20) - 30]; // with its 26 bytes of framing: 4 bytes short of a segment
        big[0] = 42;
        big[big.length - 1] = 43;
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir, SMALL_UNALLOCATED)) {
            log.append(List.of(Entry.normal(1, 1, "small".getBytes(StandardCharsets.UTF_8))));
            log.append(List.of(Entry.normal(1, 2, big)));
            log.append(List.of(Entry.normal(1, 3, new byte[3 << 20]), Entry.normal(1, 4, big)));
            log.sync();
            assertTrue(log.segmentPaths().size() >= 3, "it rolled: " + log.segmentPaths());
        }
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir, SMALL_UNALLOCATED)) {
            assertEquals(4, log.lastIndex());
            assertArrayEquals(big, log.entries(2, 3, Long.MAX_VALUE).get(0).data());
            assertArrayEquals(big, log.entries(4, 5, Long.MAX_VALUE).get(0).data());
        }
    }

    /** RecordCodec refuses, with a clear exception and an untouched buffer, what it cannot encode. */
    @Test
    void recordCodecRefusesABufferTooSmallInsteadOfOverflowing() {
        Entry e = Entry.normal(1, 7, new byte[2000]);
        ByteBuffer buf = ByteBuffer.allocate(1024);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> RecordCodec.encode(e, buf, new CRC32C()));
        assertTrue(refused.getMessage().contains("log entry 7") && refused.getMessage().contains("1024"),
                refused.getMessage());
        assertEquals(0, buf.position(), "nothing encoded");
        assertEquals(Integer.MAX_VALUE - 8, SegmentedLogStorage.bufferFor((1 << 30) + 1), "no int overflow");
        assertEquals(1 << 21, SegmentedLogStorage.bufferFor((1 << 20) + 1));
        assertEquals(1 << 20, SegmentedLogStorage.bufferFor(1 << 20));
    }

    // ------------------------------------------------------------------ deleting hardstate

    /**
     * Issue 12: deleting {@code hardstate} made a node with entries of term 3 start at term 0 — a
     * forgotten vote is a double vote — and crash later without naming the file. Now it refuses to
     * start, naming the file and what to do.
     */
    @Test
    void deletingHardstateNextToANonEmptyLogRefusesToStartNamingTheFile() throws Exception {
        Path dir = tmp.resolve("log");
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir, SMALL_UNALLOCATED)) {
            log.append(List.of(Entry.normal(3, 1, new byte[10]), Entry.normal(3, 2, new byte[10])));
            log.setHardState(new HardState(3, 2, 2));
            log.sync();
        }
        Path file = dir.resolve(SegmentedLogStorage.HARD_STATE_FILE);
        Files.delete(file);
        StorageException e = assertThrows(StorageException.class,
                () -> SegmentedLogStorage.open(dir, SMALL_UNALLOCATED));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("index 2 (term 3)") && e.getMessage().contains("vote")
                && e.getMessage().contains("replace the node"), e.getMessage());
        assertTrue(Files.notExists(file), "the refusal created nothing");
    }

    /** A new log writes its hard state at once, so a crash before its first sync is never taken for a deletion. */
    @Test
    void aCrashBeforeTheFirstHardStateWriteIsNotMistakenForADeletedHardstate() throws Exception {
        Path dir = Path.of("/sim/node/log");
        SimFileIo fresh = new SimFileIo().mkdirsDurable(dir.getParent());
        SegmentedLogStorage.Options opts = SMALL_UNALLOCATED.withSegmentBytes(4096);
        SegmentedLogStorage.open(fresh, dir, opts).close();
        assertTrue(fresh.exists(dir.resolve(SegmentedLogStorage.HARD_STATE_FILE)), "written at creation");
        for (int at = 0; ; at++) {
            SimFileIo sim = fresh.copy();
            SegmentedLogStorage log = SegmentedLogStorage.open(sim, dir, opts);
            log.append(List.of(Entry.normal(1, 1, new byte[10]), Entry.normal(1, 2, new byte[10])));
            log.setHardState(new HardState(1, 1, 0));
            sim.crashAtOp(at);
            boolean finished;
            try {
                log.sync();
                finished = true;
            } catch (SimFileIo.Crashed expected) {
                finished = false;
            }
            sim.crash();
            try (SegmentedLogStorage again = SegmentedLogStorage.open(sim, dir, opts)) {
                HardState hs = again.initialState().hardState();
                assertTrue(hs.term() == 1 || hs.equals(HardState.EMPTY), "crash at op " + at + ": " + hs);
            }
            if (finished) {
                break;
            }
        }
    }

    // ------------------------------------------------------------------ deleting the lock files

    /** A second open of a directory in the same process is refused, naming the directory and the holder. */
    @Test
    void openingADataDirectoryTwiceInOneProcessIsRefused() throws Exception {
        Path dir = tmp.resolve("log");
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir, SMALL_UNALLOCATED)) {
            StorageException e = assertThrows(StorageException.class,
                    () -> SegmentedLogStorage.open(dir, SMALL_UNALLOCATED));
            assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("this process (pid "
                    + ProcessHandle.current().pid()), e.getMessage());
        }
        SegmentedLogStorage.open(dir, SMALL_UNALLOCATED).close(); // released on close
        Path snaps = tmp.resolve("snapshots");
        try (FileSnapshotStore store = FileSnapshotStore.open(snaps)) {
            assertThrows(StorageException.class, () -> FileSnapshotStore.open(snaps));
        }
    }

    /**
     * Issue 12: deleting the lock files let a second server run on the same directory. Now the
     * lock is on the directory (same process) and on the running log's segment files (any
     * process), which deleting LOCK does not touch: a second open is still refused.
     */
    @Test
    void deletingTheLockFilesDoesNotLetASecondServerRunOnTheSameDirectory() throws Exception {
        Path dir = tmp.resolve("log");
        Path snaps = tmp.resolve("snapshots");
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir, SMALL_UNALLOCATED);
             FileSnapshotStore store = FileSnapshotStore.open(snaps)) {
            log.append(List.of(Entry.normal(1, 1, new byte[10])));
            log.setHardState(new HardState(1, 1, 1));
            log.sync();
            Files.delete(dir.resolve(SegmentedLogStorage.LOCK_FILE));
            Files.delete(snaps.resolve(SegmentedLogStorage.LOCK_FILE));
            StorageException same = assertThrows(StorageException.class,
                    () -> SegmentedLogStorage.open(dir, SMALL_UNALLOCATED));
            assertTrue(same.getMessage().contains("is in use"), same.getMessage());
            assertThrows(StorageException.class, () -> FileSnapshotStore.open(snaps));

            String other = probe(dir);
            assertTrue(other.startsWith("REFUSED: ") && other.contains("is in use") && other.contains(dir.toString()),
                    other);
            assertEquals(1, log.lastIndex(), "the running log is untouched");
            log.append(List.of(Entry.normal(1, 2, new byte[10])));
            log.sync();
        }
        assertTrue(probe(dir).startsWith("OPENED at 2"), "free again once closed");
    }

    /** The lock file names its holder for another process's refusal. */
    @Test
    void anotherProcessIsToldWhoHoldsTheDirectory() throws Exception {
        Path dir = tmp.resolve("log");
        try (SegmentedLogStorage log = SegmentedLogStorage.open(dir, SMALL_UNALLOCATED)) {
            String other = probe(dir);
            assertTrue(other.startsWith("REFUSED: ") && other.contains("pid " + ProcessHandle.current().pid()), other);
        }
    }

    /** Opens {@code dir} in a child JVM, as a second server process; returns what it printed. */
    private static String probe(Path dir) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                LockProbe.class.getName(), dir.toString()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe finished");
        String text = new String(out, StandardCharsets.UTF_8);
        return text.lines().filter(l -> l.startsWith("OPENED") || l.startsWith("REFUSED")).findFirst()
                .orElse("no answer: " + text);
    }

    // ------------------------------------------------------------------ a disk too small for a segment

    /**
     * Issue 12: a disk too small for a 64 MiB segment said only "No space left on device". Now the
     * log refuses before writing, naming the directory, the size needed, the free space and what to do.
     */
    @Test
    void aDiskTooSmallForASegmentNamesTheDirectoryTheSizesAndWhatToDo() throws Exception {
        Path dir = Path.of("/sim/node/log");
        SimFileIo sim = new SimFileIo().mkdirsDurable(dir.getParent());
        sim.usableSpace(1 << 20);
        SegmentedLogStorage.Options opts = SegmentedLogStorage.Options.defaults(); // 64 MiB, preallocated
        StorageException e = assertThrows(StorageException.class, () -> SegmentedLogStorage.open(sim, dir, opts));
        assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains(String.valueOf(64 << 20))
                && e.getMessage().contains(String.valueOf(1 << 20)) && e.getMessage().contains("Free space")
                && e.getMessage().contains("smaller segment size"), e.getMessage());
        sim.usableSpace(Long.MAX_VALUE);
        SegmentedLogStorage.open(sim, dir, opts.withSegmentBytes(1 << 20)).close();

        IOException enospc = SegmentedLogStorage.explainNoSpace(new IOException("No space left on device"), sim, dir,
                64 << 20);
        assertTrue(enospc.getMessage().contains(dir.toString()) && enospc.getMessage().contains("No space left"),
                enospc.getMessage());
    }
}
