package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.spi.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One segment file on its own: created, appended to, read and verified, sealed, cut and deleted. */
class SegmentFileTest {

    private static final FileIo IO = RealFileIo.INSTANCE;
    private static final SegmentedLogStorage.Options PREALLOCATED = SegmentedLogStorage.Options.defaults()
            .withSegmentBytes(64 << 10);
    private final ReentrantLock publish = new ReentrantLock();

    @TempDir
    Path dir;

    @Test
    void aNewSegmentHasItsHeaderItsOpenNameAndItsZeroPadding() throws Exception {
        SegmentFile seg = SegmentFile.create(IO, dir, PREALLOCATED, 3, 101, 7);
        try {
            assertEquals(dir.resolve("log_inprogress_00000000000000000101"), seg.path);
            assertTrue(seg.open);
            assertEquals(100, seg.lastIndex(), "empty");
            assertEquals(64 << 10, Files.size(seg.path), "preallocated to the segment size");
            assertEquals(new SegmentHeader(3, 101, 7), SegmentHeader.decode(ByteBuffer.wrap(Files.readAllBytes(seg.path))));
            assertFalse(Files.exists(dir.resolve("log_inprogress_00000000000000000101.tmp")), "renamed into place");
        } finally {
            seg.handle.close();
        }
        SegmentFile plain = SegmentFile.create(IO, dir, PREALLOCATED.withPreallocate(false), 0, 1, 0);
        plain.handle.close();
        assertEquals(SegmentHeader.BYTES, Files.size(plain.path), "without preallocation: the header only");
    }

    @Test
    void recordsWrittenAndIndexedReadBackVerified() throws Exception {
        SegmentFile seg = SegmentFile.create(IO, dir, PREALLOCATED, 0, 1, 0);
        try {
            List<Entry> entries = List.of(entry(1, 1, "a"), entry(1, 2, "bb"), entry(2, 3, "ccc"));
            append(seg, entries);
            seg.force();
            assertEquals(3, seg.lastIndex());
            for (Entry e : entries) {
                Entry back = seg.read(e.index(), e.term());
                assertEquals(e.id(), back.id());
                assertArrayEquals(e.data(), back.data());
            }
        } finally {
            seg.handle.close();
        }
    }

    @Test
    void aRecordDamagedAfterStartUpIsReportedNamingTheFileAndOffset() throws Exception {
        SegmentFile seg = SegmentFile.create(IO, dir, PREALLOCATED, 0, 1, 0);
        try {
            append(seg, List.of(entry(1, 1, "first"), entry(1, 2, "second")));
            seg.force();
            long at = seg.offset(2);
            byte[] bytes = Files.readAllBytes(seg.path);
            bytes[(int) at + 20] ^= 0x01;
            Files.write(seg.path, bytes);
            StorageException e = assertThrows(StorageException.class, () -> seg.read(2, 1));
            assertTrue(e.getMessage().contains(seg.path.toString()) && e.getMessage().contains("offset " + at)
                    && e.getMessage().contains("fails its checksum") && e.getMessage().contains("restore"), e.getMessage());
            StorageException wrongTerm = assertThrows(StorageException.class, () -> seg.read(1, 5));
            assertTrue(wrongTerm.getMessage().contains("reads back as"), wrongTerm.getMessage());
        } finally {
            seg.handle.close();
        }
    }

    @Test
    void sealingCutsTheFileAtItsDataAndRenamesItClosed() throws Exception {
        SegmentFile seg = SegmentFile.create(IO, dir, PREALLOCATED, 0, 5, 2);
        try {
            append(seg, List.of(entry(2, 5, "x"), entry(3, 6, "y")));
            Path openPath = seg.path;
            seg.seal(IO, dir, publish);
            assertEquals(dir.resolve("log_00000000000000000005-00000000000000000006"), seg.path);
            assertFalse(seg.open);
            assertFalse(Files.exists(openPath));
            assertEquals(seg.dataEnd, Files.size(seg.path), "a closed segment holds exactly its records");
            // What start-up checks of a closed segment: complete, every record valid.
            SegmentFile rescanned = new SegmentFile(seg.path, seg.handle, 5, 2, false);
            TermRuns terms = new TermRuns();
            terms.reset(4, 2);
            assertNull(new SegmentScanner(seg.handle, seg.path, false).scan(rescanned, terms, 2, false));
            assertEquals(6, rescanned.lastIndex());
            assertFalse(publish.isLocked(), "the lock is released");
        } finally {
            seg.handle.close();
        }
    }

    @Test
    void cuttingASuffixOfAClosedSegmentReopensItAndZeroesTheRest() throws Exception {
        SegmentFile seg = SegmentFile.create(IO, dir, PREALLOCATED, 0, 1, 0);
        try {
            append(seg, List.of(entry(1, 1, "keep"), entry(1, 2, "drop"), entry(1, 3, "drop")));
            seg.seal(IO, dir, publish);
            seg.truncateFrom(2);
            seg.cutAfterData(IO, dir, PREALLOCATED, publish);
            assertEquals(dir.resolve("log_inprogress_00000000000000000001"), seg.path);
            assertTrue(seg.open);
            assertEquals(1, seg.lastIndex());
            byte[] bytes = Files.readAllBytes(seg.path);
            assertEquals(64 << 10, bytes.length, "padded again to the segment size");
            for (long i = seg.dataEnd; i < bytes.length; i++) {
                assertEquals(0, bytes[(int) i], "zero after the data, at " + i);
            }
            assertEquals("keep", new String(seg.read(1, 1).data(), StandardCharsets.UTF_8));
        } finally {
            seg.handle.close();
        }
    }

    @Test
    void deleteClosesAndRemovesTheFile() throws Exception {
        SegmentFile seg = SegmentFile.create(IO, dir, PREALLOCATED, 0, 1, 0);
        seg.delete(IO);
        assertFalse(Files.exists(seg.path));
    }

    private static Entry entry(long term, long index, String data) {
        return Entry.normal(term, index, data.getBytes(StandardCharsets.UTF_8));
    }

    /** What the log's writer does: encode, write at the end, then index each record. */
    private void append(SegmentFile seg, List<Entry> entries) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16);
        CRC32C crc = new CRC32C();
        long[] at = new long[entries.size() + 1];
        for (int i = 0; i < entries.size(); i++) {
            at[i] = buf.position();
            RecordCodec.encode(entries.get(i), buf, crc);
        }
        at[entries.size()] = buf.position();
        long start = seg.write(buf.flip());
        publish.lock();
        try {
            for (int i = 0; i < entries.size(); i++) {
                seg.add(start + at[i], start + at[i + 1]);
            }
        } finally {
            publish.unlock();
        }
    }
}
