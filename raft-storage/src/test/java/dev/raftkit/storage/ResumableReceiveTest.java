package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.spi.ResumableSnapshotWriter;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.StorageException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * The receiving side of a resumable snapshot transfer ({@link FileSnapshotStore#beginReceive}): a
 * receipt cut at any chunk boundary or in the middle of a chunk, by a clean suspend or by a crash,
 * resumes from the last chunk it made durable; a damaged partial resumes only from what still
 * checks out; a partial of another image is discarded, never resumed.
 */
class ResumableReceiveTest {

    static final Path DIR = Path.of("/sim/node/snapshots");
    static final SnapshotMeta META = new SnapshotMeta(new EntryId(3, 40), ConfState.ofVoters(Set.of(1L, 2L, 3L)));
    static final SnapshotMeta OTHER = new SnapshotMeta(new EntryId(3, 55), ConfState.ofVoters(Set.of(1L, 2L, 3L)));
    static final int CHUNK = 1000;
    /** Eight chunks, the last one short. */
    static final byte[] IMAGE = bytes(7 * CHUNK + 500, 7);
    static final int CRC = crc(IMAGE);

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static int crc(byte[] b) {
        CRC32C c = new CRC32C();
        c.update(b);
        return (int) c.getValue();
    }

    static int chunks() {
        return (IMAGE.length + CHUNK - 1) / CHUNK;
    }

    /** The chunk that starts at {@code offset} (the count of chunks when the image is whole). */
    static int chunkAt(long offset) {
        return offset == IMAGE.length ? chunks() : (int) (offset / CHUNK);
    }

    /** Writes chunks {@code from} (inclusive) to {@code to} (exclusive), each checkpointed. */
    static void writeChunks(ResumableSnapshotWriter w, int from, int to) throws Exception {
        for (int i = from; i < to; i++) {
            int start = i * CHUNK;
            int end = Math.min(IMAGE.length, start + CHUNK);
            w.output().write(IMAGE, start, end - start);
            w.checkpoint();
        }
    }

    /** Resumes on {@code io}, asserting where, finishes the image and checks the committed snapshot. */
    static void resumeAndFinish(SimFileIo io, long expectedOffset) throws Exception {
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
            assertTrue(store.list().isEmpty(), "a partial is not a snapshot");
            try (ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC)) {
                assertEquals(expectedOffset, w.resumeOffset());
                int next = chunkAt(w.resumeOffset());
                if (w.resumeOffset() < IMAGE.length) {
                    assertEquals(next * (long) CHUNK, w.resumeOffset(), "resumes at a chunk boundary");
                }
                writeChunks(w, next, chunks());
                SnapshotDescriptor d = w.commit();
                assertEquals(new SnapshotDescriptor(META, IMAGE.length, CRC), d);
            }
            assertEquals(1, store.list().size());
            try (SnapshotReader r = store.open(store.latest().orElseThrow()); InputStream in = r.input()) {
                r.verify();
                assertArrayEquals(IMAGE, in.readAllBytes());
            }
            assertTrue(io.list(DIR).stream().noneMatch(n -> n.endsWith(FileSnapshotStore.RECEIVING_SUFFIX)),
                    "the partial became the snapshot: " + io.list(DIR));
            assertEquals(0, store.receivedBytes(META, IMAGE.length, CRC));
        }
    }

    @Test
    void aReceiptSuspendedAtEveryChunkBoundaryResumesThere() throws Exception {
        for (int k = 0; k <= chunks(); k++) {
            SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
            try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
                ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC);
                assertEquals(0, w.resumeOffset());
                writeChunks(w, 0, k);
                w.suspend();
                assertEquals(Math.min(IMAGE.length, k * (long) CHUNK), store.receivedBytes(META, IMAGE.length, CRC));
            }
            resumeAndFinish(io, Math.min(IMAGE.length, k * (long) CHUNK));
        }
    }

    @Test
    void aCrashInTheMiddleOfAChunkResumesFromTheChunkBefore() throws Exception {
        for (int k = 0; k < chunks(); k++) {
            for (int cut : new int[] {1, CHUNK / 2, CHUNK - 1}) {
                SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
                try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
                    ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC);
                    writeChunks(w, 0, k);
                    int start = k * CHUNK;
                    w.output().write(IMAGE, start, Math.min(cut, IMAGE.length - start));
                }
                io.crash(new Random(k * 31L + cut)); // the unforced half chunk may or may not survive
                resumeAndFinish(io, k * (long) CHUNK);
            }
        }
    }

    @Test
    void aCrashAtAnyDiskOperationResumesFromADurableChunk() throws Exception {
        for (int at = 0; ; at++) {
            SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
            boolean finished = false;
            try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
                io.crashAtOp(at);
                try (ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC)) {
                    writeChunks(w, 0, chunks());
                    w.commit();
                    finished = true;
                } catch (SimFileIo.Crashed e) {
                    // cut here
                }
            }
            io.crash(new Random(at));
            try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
                if (!store.list().isEmpty()) {
                    try (SnapshotReader r = store.open(store.latest().orElseThrow()); InputStream in = r.input()) {
                        assertArrayEquals(IMAGE, in.readAllBytes(), "crash at op " + at);
                    }
                    if (finished) {
                        return;
                    }
                    continue;
                }
                long verified = store.receivedBytes(META, IMAGE.length, CRC);
                assertTrue(verified % CHUNK == 0 || verified == IMAGE.length,
                        "crash at op " + at + ": records end at a chunk boundary, not " + verified);
            }
            // Whatever the records claim, resuming checks the data and finishes a good image.
            try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0);
                 ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC)) {
                writeChunks(w, chunkAt(w.resumeOffset()), chunks());
                w.commit();
            }
            try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0);
                 SnapshotReader r = store.open(store.latest().orElseThrow()); InputStream in = r.input()) {
                assertArrayEquals(IMAGE, in.readAllBytes(), "crash at op " + at);
            }
        }
    }

    @Test
    void withBatchedForcesACrashLosesAtMostTheUnforcedChunksAndTrustsNothingItDidNotForce() throws Exception {
        for (int k = 1; k <= chunks(); k++) {
            SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
            try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 3 * CHUNK)) {
                ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC);
                writeChunks(w, 0, k);
            }
            io.crash(new Random(k));
            long forcedEnd = (k / 3) * 3L * CHUNK;
            try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 3 * CHUNK);
                 ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC)) {
                assertTrue(w.resumeOffset() >= forcedEnd && w.resumeOffset() <= Math.min(IMAGE.length, k * (long) CHUNK),
                        k + " chunks, forced through " + forcedEnd + ": resumed at " + w.resumeOffset());
                writeChunks(w, chunkAt(w.resumeOffset()), chunks());
                w.commit();
                try (SnapshotReader r = store.open(store.latest().orElseThrow()); InputStream in = r.input()) {
                    assertArrayEquals(IMAGE, in.readAllBytes());
                }
            }
        }
    }

    @Test
    void aSuspendedReceiptSurvivesAPowerCutWhateverItsForceInterval() throws Exception {
        SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 1 << 30)) {
            ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC);
            writeChunks(w, 0, 5);
            w.suspend();
        }
        io.crash(new Random(5));
        resumeAndFinish(io, 5L * CHUNK);
    }

    @Test
    void corruptDataInAPartialIsDetectedAndOnlyTheChunksBeforeItAreTrusted() throws Exception {
        SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
        Path partial = DIR.resolve(FileSnapshotStore.receivingName(META, IMAGE.length, CRC));
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
            ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC);
            writeChunks(w, 0, 5);
            w.suspend();
        }
        io.flip(partial.resolve(FileSnapshotStore.DATA), 2 * CHUNK + 17, 3); // inside chunk 2
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
            // The records alone still claim five chunks; opening checks the bytes.
            assertEquals(5L * CHUNK, store.receivedBytes(META, IMAGE.length, CRC));
        }
        resumeAndFinish(io, 2L * CHUNK);
    }

    @Test
    void aCorruptChunkRecordIsNotTrusted() throws Exception {
        SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
        Path partial = DIR.resolve(FileSnapshotStore.receivingName(META, IMAGE.length, CRC));
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
            ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC);
            writeChunks(w, 0, 6);
            w.suspend();
        }
        io.flip(partial.resolve(FileSnapshotStore.CHUNKS), 3L * FileSnapshotStore.CHUNK_RECORD_BYTES + 9, 0);
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
            assertEquals(3L * CHUNK, store.receivedBytes(META, IMAGE.length, CRC));
        }
        resumeAndFinish(io, 3L * CHUNK);
    }

    @Test
    void aPartialOfAnotherSnapshotIsDiscardedNotResumed() throws Exception {
        SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
        byte[] other = bytes(IMAGE.length, 99);
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
            // Same index and size, other bytes: a different image (another leader's snapshot).
            ResumableSnapshotWriter w = store.beginReceive(META, other.length, crc(other));
            w.output().write(other, 0, 3 * CHUNK);
            w.checkpoint();
            w.suspend();
            ResumableSnapshotWriter w2 = store.beginReceive(OTHER, other.length, crc(other));
            w2.output().write(other, 0, 2 * CHUNK);
            w2.checkpoint();
            w2.suspend();
            assertEquals(1, io.list(DIR).stream().filter(n -> n.endsWith(FileSnapshotStore.RECEIVING_SUFFIX)).count(),
                    "beginning one receipt discards the partial of another: " + io.list(DIR));
            assertEquals(0, store.receivedBytes(META, other.length, crc(other)));
        }
        resumeAndFinish(io, 0);
        assertFalse(io.exists(DIR.resolve(FileSnapshotStore.receivingName(OTHER, other.length, crc(other)))));
    }

    @Test
    void aPartialOlderThanTheNewestSnapshotIsDiscardedWhenSnapshotsAreRetained() throws Exception {
        SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
            ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC);
            writeChunks(w, 0, 3);
            w.suspend();
            try (dev.raftkit.spi.SnapshotWriter older = store.begin(new SnapshotMeta(new EntryId(3, 30), META.conf()))) {
                older.output().write(bytes(100, 1));
                older.commit();
            }
            store.retain(2);
            assertEquals(3L * CHUNK, store.receivedBytes(META, IMAGE.length, CRC), "a partial past the newest stays");
            try (dev.raftkit.spi.SnapshotWriter newer = store.begin(OTHER)) {
                newer.output().write(bytes(100, 2));
                newer.commit();
            }
            store.retain(2);
            assertEquals(0, store.receivedBytes(META, IMAGE.length, CRC), "a partial at or below the newest goes");
            assertTrue(io.list(DIR).stream().noneMatch(n -> n.endsWith(FileSnapshotStore.RECEIVING_SUFFIX)));
        }
    }

    @Test
    void aSenderThatStartsOverRestartsThePartial() throws Exception {
        SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
            ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC);
            writeChunks(w, 0, 4);
            w.suspend();
            try (ResumableSnapshotWriter again = store.beginReceive(META, IMAGE.length, CRC)) {
                assertEquals(4L * CHUNK, again.resumeOffset());
                again.restart();
                assertEquals(0, again.resumeOffset());
                writeChunks(again, 0, chunks());
                again.commit();
            }
            try (SnapshotReader r = store.open(store.latest().orElseThrow()); InputStream in = r.input()) {
                assertArrayEquals(IMAGE, in.readAllBytes());
            }
        }
    }

    @Test
    void bytesThatAreNotTheAnnouncedImageAreRefusedAtCommitAndDiscarded() throws Exception {
        SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0)) {
            byte[] wrong = Arrays.copyOf(IMAGE, IMAGE.length);
            wrong[IMAGE.length - 1] ^= 1;
            ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC);
            w.output().write(wrong);
            w.checkpoint();
            StorageException e = assertThrows(StorageException.class, w::commit);
            assertTrue(e.getMessage().contains("announced"), e.getMessage());
            assertTrue(store.list().isEmpty());
            assertEquals(0, store.receivedBytes(META, IMAGE.length, CRC));
        }
    }

    @Test
    void twoReceiptsOfOneImageAtOnceAreRefused() throws Exception {
        SimFileIo io = new SimFileIo().mkdirsDurable(DIR.getParent());
        try (FileSnapshotStore store = FileSnapshotStore.open(io, DIR, 0);
             ResumableSnapshotWriter w = store.beginReceive(META, IMAGE.length, CRC)) {
            java.io.IOException e = assertThrows(java.io.IOException.class,
                    () -> store.beginReceive(META, IMAGE.length, CRC));
            assertTrue(e.getMessage().contains("already being received"), e.getMessage());
        }
    }
}
