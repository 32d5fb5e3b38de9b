package dev.raftkit.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StagedState;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node's staging area of live-restore images: what it builds it opens back, checked; a damaged image is refused by name. */
class StagingAreaTest {

    @TempDir
    Path data;

    private StagingArea area() {
        return new StagingArea(1, "c", data, null, id -> null, List::of);
    }

    @Test
    void aBuiltImageIsDurableNamedByItsDigestAndOpensBack() throws Exception {
        byte[] image = "the backup's state".getBytes(StandardCharsets.UTF_8);
        try (StagingArea a = area()) {
            assertFalse(Files.exists(data.resolve(StagingArea.DIR)), "made before any live restore");
            StagedState s = a.build("live-1", 42, out -> out.write(image));
            assertEquals(image.length, s.sizeBytes());
            assertEquals(42, s.sourceIndex());
            assertEquals(1, s.origin());
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(image), s.sha256());
            assertFalse(Files.exists(data.resolve(StagingArea.DIR).resolve("live-1.partial")));
            try (InputStream in = a.open(s)) {
                assertArrayEquals(image, in.readAllBytes());
            }
            assertNull(a.open(new StagedState("live-2", 1, 42, image.length, s.sha256())), "not held: null");
        }
    }

    @Test
    void aDamagedImageIsRefusedNamingTheFile() throws Exception {
        try (StagingArea a = area()) {
            StagedState s = a.build("live-1", 7, out -> out.write(new byte[1000]));
            Path f = a.file("live-1");
            byte[] bytes = Files.readAllBytes(f);
            bytes[500] ^= 1;
            Files.write(f, bytes);
            IOException e = assertThrows(IOException.class, () -> a.open(s));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("damaged"), e.getMessage());
            Files.write(f, new byte[999]);
            IOException shorter = assertThrows(IOException.class, () -> a.open(s));
            assertTrue(shorter.getMessage().contains("999 bytes"), shorter.getMessage());
        }
    }

    @Test
    void aBuildThatFailsLeavesNothingBehind() throws Exception {
        try (StagingArea a = area()) {
            assertThrows(IOException.class, () -> a.build("live-1", 7, out -> {
                out.write(new byte[10]);
                throw new IOException("the state machine could not write its image");
            }));
            try (var files = Files.list(data.resolve(StagingArea.DIR))) {
                assertEquals(0, files.count());
            }
        }
    }
}
