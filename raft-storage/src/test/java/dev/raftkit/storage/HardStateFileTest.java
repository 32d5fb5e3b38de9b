package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.HardState;
import dev.raftkit.spi.StorageException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code hardstate} file on its own: what it writes, reads back, and refuses. */
class HardStateFileTest {

    @TempDir
    Path dir;

    private HardStateFile file() {
        return new HardStateFile(RealFileIo.INSTANCE, dir);
    }

    @Test
    void aMissingFileReadsAsNull() throws Exception {
        assertNull(file().read());
    }

    @Test
    void roundTripsTermVoteCommitAndTheRecoveringFlag() throws Exception {
        HardStateFile f = file();
        for (HardState hs : new HardState[] {HardState.EMPTY, new HardState(3, 2, 17),
                new HardState(7, 0, 9, true), new HardState(Long.MAX_VALUE, 5, Long.MAX_VALUE - 1)}) {
            f.write(hs);
            assertEquals(hs, f.read());
            assertEquals(hs, file().read(), "a fresh instance reads what the file holds");
        }
        assertEquals(dir.resolve("hardstate"), f.path());
        assertFalse(Files.exists(dir.resolve("hardstate.tmp")), "the temporary file was renamed over the real one");
    }

    /** The format is the documented one: the bytes of an old hard state (no recovering byte) read unchanged. */
    @Test
    void writesTheDocumentedChecksummedFile() throws Exception {
        file().write(new HardState(3, 2, 17));
        byte[] b = Files.readAllBytes(dir.resolve("hardstate"));
        assertEquals(16 + 24, b.length);
        assertEquals(0x524B4853, java.nio.ByteBuffer.wrap(b).getInt(0), "magic RKHS");
        assertEquals(24, java.nio.ByteBuffer.wrap(b).getInt(8), "payload length");
        assertEquals(3, java.nio.ByteBuffer.wrap(b).getLong(12), "term");
    }

    @Test
    void aTornFileIsRefusedNamingTheFileAndWhatToDo() throws Exception {
        file().write(new HardState(3, 2, 17));
        Path p = dir.resolve("hardstate");
        byte[] b = Files.readAllBytes(p);
        for (int keep : new int[] {0, 5, 16, b.length - 1}) {
            Files.write(p, Arrays.copyOf(b, keep));
            assertRefused(file());
        }
    }

    @Test
    void everyFlippedByteIsRefusedNamingTheFileAndWhatToDo() throws Exception {
        file().write(new HardState(3, 2, 17, true));
        Path p = dir.resolve("hardstate");
        byte[] good = Files.readAllBytes(p);
        for (int i = 0; i < good.length; i++) {
            byte[] bad = good.clone();
            bad[i] ^= 0x10;
            Files.write(p, bad);
            assertRefused(file());
        }
    }

    /** A file whose checksum holds but whose payload is no hard state (another build's, say). */
    @Test
    void anUndecodablePayloadIsRefused() throws Exception {
        ChecksummedFile.write(RealFileIo.INSTANCE, dir.resolve("hardstate"), HardStateFile.MAGIC, new byte[7]);
        StorageException e = assertRefused(file());
        assertTrue(e.getMessage().contains("undecodable"), e.getMessage());
    }

    @Test
    void aLeftoverTemporaryFileDoesNotChangeWhatIsRead() throws Exception {
        file().write(new HardState(3, 2, 17));
        Files.write(dir.resolve("hardstate.tmp"), new byte[] {1, 2, 3});
        assertEquals(new HardState(3, 2, 17), file().read());
    }

    @Test
    void theMissingFileRefusalNamesTheFileTheLastEntryAndWhatToDo() {
        String m = file().missing(dir, new dev.raftkit.core.log.EntryId(3, 2)).getMessage();
        assertTrue(m.contains(dir.resolve("hardstate").toString()) && m.contains("index 2 (term 3)")
                && m.contains("replace the node"), m);
    }

    private StorageException assertRefused(HardStateFile f) {
        StorageException e = assertThrows(StorageException.class, f::read);
        assertTrue(e.getMessage().contains(f.path().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("hard state file") && e.getMessage().contains("corrupt"), e.getMessage());
        assertTrue(e.getMessage().contains("restore this node from a peer or a backup"), e.getMessage());
        return e;
    }
}
