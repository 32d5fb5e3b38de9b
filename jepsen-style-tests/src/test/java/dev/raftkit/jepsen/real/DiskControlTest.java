package dev.raftkit.jepsen.real;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.storage.FileIo;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The testing-only disk control: a stall blocks fsyncs until lifted, a fill reports little space. */
class DiskControlTest {

    @Test
    void aStallBlocksFsyncUntilLiftedAndAFillReportsTheGivenSpace(@TempDir Path dir) throws Exception {
        Path control = dir.resolve("disk-control");
        DiskControl io = new DiskControl(control);
        long real = FileIo.real().usableSpace(dir);
        assertTrue(io.usableSpace(dir) > 0);

        DiskControl.set(control, "fill 4096");
        await().atMost(Duration.ofSeconds(5)).until(() -> io.usableSpace(dir) == 4096);

        DiskControl.set(control, "stall");
        await().atMost(Duration.ofSeconds(5)).until(() -> io.usableSpace(dir) != 4096);
        try (FileIo.Handle h = io.open(dir.resolve("f"))) {
            h.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
            CompletableFuture<Void> sync = CompletableFuture.runAsync(() -> {
                try {
                    h.force();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            await().pollDelay(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> true);
            assertFalse(sync.isDone(), "an fsync returned during the stall");
            DiskControl.set(control, "ok");
            sync.get(5, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(3, h.size());
        }
        assertTrue(Math.abs(io.usableSpace(dir) - real) < (1L << 30), "the real free space once lifted");
    }
}
