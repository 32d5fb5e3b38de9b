package dev.raftkit.jepsen.real;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.SegmentedLogStorage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The power-loss layer: after a "kill" (the layer dropped without closing anything, as SIGKILL
 * does) the next open takes back exactly what was not made durable, as {@code SimFileIo.crash()}.
 */
class PowerLossFileIoTest {

    @TempDir
    Path tmp;
    private Path data;
    private Path journal;

    @BeforeEach
    void dirs() throws Exception {
        data = tmp.resolve("data");
        Files.createDirectories(data);
        journal = PowerLossFileIo.journalDir(data);
    }

    private PowerLossFileIo layer() throws Exception {
        return PowerLossFileIo.open(data, journal, FileIo.real());
    }

    /** The process dies: no close, no flush of anything but what already reached the kernel. */
    private void powerLoss() throws Exception {
        layer().close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void write(FileIo.Handle h, String s, long pos) throws Exception {
        h.write(ByteBuffer.wrap(bytes(s)), pos);
    }

    @Test
    void writtenButNotForcedBytesAreLostAndForcedOnesKept() throws Exception {
        PowerLossFileIo io = layer();
        Path f = data.resolve("f");
        FileIo.Handle h = io.open(f);
        io.syncDirectory(data);
        write(h, "durable", 0);
        h.force();
        write(h, "-lost", 7);
        // A read sees what was written, forced or not.
        assertArrayEquals(bytes("durable-lost"), io.readAllBytes(f));
        powerLoss();
        assertArrayEquals(bytes("durable"), Files.readAllBytes(f));
    }

    @Test
    void anOverwriteAndATruncationOfForcedBytesAreUndone() throws Exception {
        PowerLossFileIo io = layer();
        Path f = data.resolve("f");
        FileIo.Handle h = io.open(f);
        io.syncDirectory(data);
        write(h, "0123456789", 0);
        h.force();
        write(h, "ab", 2);
        h.truncate(5);
        write(h, "XYZXYZ", 3);
        assertArrayEquals(bytes("01aXYZXYZ"), io.readAllBytes(f));
        powerLoss();
        assertArrayEquals(bytes("0123456789"), Files.readAllBytes(f));
    }

    @Test
    void aForcedFileWhoseNameWasNotSyncedIsGone() throws Exception {
        PowerLossFileIo io = layer();
        Path lost = data.resolve("lost");
        Path kept = data.resolve("kept");
        try (FileIo.Handle h = io.open(kept)) {
            write(h, "k", 0);
            h.force();
        }
        io.syncDirectory(data);
        try (FileIo.Handle h = io.open(lost)) {
            write(h, "l", 0);
            h.force();
        }
        Path sub = data.resolve("sub");
        io.createDirectory(sub);
        powerLoss();
        assertFalse(Files.exists(lost), "created, forced, but its directory never synced");
        assertFalse(Files.exists(sub), "a directory not durably named");
        assertArrayEquals(bytes("k"), Files.readAllBytes(kept));
    }

    @Test
    void aRenameWithoutADirectorySyncIsUndoneAndTheReplacedFileComesBack() throws Exception {
        PowerLossFileIo io = layer();
        Path tmpFile = data.resolve("state.tmp");
        Path state = data.resolve("state");
        try (FileIo.Handle h = io.open(state)) {
            write(h, "old", 0);
            h.force();
        }
        io.syncDirectory(data);
        try (FileIo.Handle h = io.open(tmpFile)) {
            write(h, "new", 0);
            h.force();
        }
        io.move(tmpFile, state);
        assertArrayEquals(bytes("new"), io.readAllBytes(state));
        powerLoss();
        assertArrayEquals(bytes("old"), Files.readAllBytes(state));
        assertFalse(Files.exists(tmpFile), "its creation was not durable either");

        // The same rename, made durable by the directory sync, survives.
        io = layer();
        try (FileIo.Handle h = io.open(tmpFile)) {
            write(h, "new", 0);
            h.force();
        }
        io.move(tmpFile, state);
        io.syncDirectory(data);
        powerLoss();
        assertArrayEquals(bytes("new"), Files.readAllBytes(state));
        assertFalse(Files.exists(tmpFile));
    }

    @Test
    void aDeletionWithoutADirectorySyncIsUndoneWithTheFilesDurableBytes() throws Exception {
        PowerLossFileIo io = layer();
        Path f = data.resolve("f");
        FileIo.Handle h = io.open(f);
        write(h, "durable", 0);
        h.force();
        io.syncDirectory(data);
        write(h, "XX", 0);
        h.close();
        io.deleteRecursively(f);
        assertFalse(io.exists(f));
        powerLoss();
        assertArrayEquals(bytes("durable"), Files.readAllBytes(f));

        io = layer();
        io.delete(f);
        io.syncDirectory(data);
        powerLoss();
        assertFalse(Files.exists(f), "a durable deletion stays");
    }

    @Test
    void theLogOverTheLayerLosesItsUnsyncedTailAtAKillButNotAtAPlainExit() throws Exception {
        SegmentedLogStorage.Options options = SegmentedLogStorage.Options.defaults().withSegmentBytes(64 << 10)
                .withPreallocate(false);
        PowerLossFileIo io = layer();
        SegmentedLogStorage log = SegmentedLogStorage.open(io, data.resolve("log"), options);
        List<Entry> synced = new ArrayList<>();
        for (long i = 1; i <= 300; i++) {
            synced.add(Entry.normal(1, i, new byte[300]));
        }
        log.append(synced); // more than one segment: rolls, renames, syncs directories
        log.sync();
        log.append(List.of(Entry.normal(1, 301, new byte[300]), Entry.normal(1, 302, new byte[300])));
        assertEquals(302, log.lastIndex());
        // SIGKILL: the log is never closed (its lock dies with the process: released here by hand).
        io.halt();
        try {
            log.close();
        } catch (java.io.IOException gone) {
            // expected: the "killed" process cannot write any more
        }
        powerLoss();
        try (SegmentedLogStorage reopened = SegmentedLogStorage.open(layer(), data.resolve("log"), options)) {
            assertEquals(300, reopened.lastIndex(), "only the synced entries survive the power loss");
            reopened.append(List.of(Entry.normal(2, 301, new byte[10])));
            reopened.sync();
        }
        // An orderly close is not a power loss: nothing is rolled back once everything is synced.
        try (SegmentedLogStorage reopened = SegmentedLogStorage.open(layer(), data.resolve("log"), options)) {
            assertEquals(301, reopened.lastIndex());
        }
    }

    @Test
    void aPathOutsideTheRootOrAJournalInsideItIsRefusedSayingWhatToDo() throws Exception {
        PowerLossFileIo io = layer();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> io.open(tmp.resolve("elsewhere")));
        assertTrue(e.getMessage().contains("outside"), e.getMessage());
        IllegalArgumentException j = assertThrows(IllegalArgumentException.class,
                () -> PowerLossFileIo.open(data, data.resolve("journal"), FileIo.real()));
        assertTrue(j.getMessage().contains("PowerLossFileIo.journalDir"), j.getMessage());
    }
}
