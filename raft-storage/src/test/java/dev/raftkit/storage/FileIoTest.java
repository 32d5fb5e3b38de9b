package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The helpers every FileIo gets (streams, trees, durable directories), on the real and the simulated disk. */
class FileIoTest {

    @Test
    void deletingATreeOnTheRealDiskRemovesALinkNeverWhatItPointsTo(@TempDir Path tmp) throws Exception {
        Path keep = Files.createDirectories(tmp.resolve("keep"));
        Files.writeString(keep.resolve("precious"), "x");
        Path tree = Files.createDirectories(tmp.resolve("tree/sub"));
        Files.writeString(tree.resolve("f"), "y");
        Files.createSymbolicLink(tree.resolve("link"), keep);
        FileIo.real().deleteRecursively(tmp.resolve("tree"));
        assertFalse(Files.exists(tmp.resolve("tree")));
        assertTrue(Files.exists(keep.resolve("precious")), "deleting a tree followed a link out of it");
        FileIo.real().deleteRecursively(tmp.resolve("tree")); // gone already: nothing to do
    }

    @Test
    void createdDirectoriesSurviveAPowerCut() throws Exception {
        SimFileIo disk = new SimFileIo().mkdirsDurable(Path.of("/sim"));
        disk.createDirectories(Path.of("/sim/a/b/c"));
        disk.crash();
        assertTrue(disk.isDirectory(Path.of("/sim/a/b/c")), "a directory createDirectories made was lost in a crash");
    }

    @Test
    void streamsWriteANewFileAndReadItBack() throws Exception {
        SimFileIo disk = new SimFileIo().mkdirsDurable(Path.of("/sim"));
        Path f = Path.of("/sim/f");
        byte[] text = "hello, streams".getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = disk.newOutputStream(f)) {
            out.write(text, 0, 5);
            out.write(text, 5, text.length - 5);
        }
        assertThrows(FileAlreadyExistsException.class, () -> disk.newOutputStream(f));
        assertEquals(text.length, disk.size(f));
        assertArrayEquals(text, disk.readAllBytes(f));
        try (InputStream in = disk.newInputStream(f)) {
            assertArrayEquals(text, in.readAllBytes());
        }
        disk.force(f);
        disk.syncDirectory(Path.of("/sim"));
        disk.crash();
        assertArrayEquals(text, disk.readAllBytes(f), "forced and named durably, the file survives a crash");
        assertThrows(java.io.FileNotFoundException.class, () -> disk.newInputStream(Path.of("/sim/missing")));
    }
}
