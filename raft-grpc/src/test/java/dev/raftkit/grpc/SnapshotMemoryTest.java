package dev.raftkit.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A 1 GiB snapshot moves between two nodes with well under 64 MiB of heap: the transfer runs in a
 * child JVM limited to {@value #HEAP_MB} MiB of heap, which would fail with OutOfMemoryError if
 * streaming held the image (or any large part of it) in memory.
 */
class SnapshotMemoryTest {

    private static final int HEAP_MB = 48;
    private static final long ONE_GIB = 1L << 30;

    @Test
    void aOneGibSnapshotStreamsWithinASmallHeap() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(java, "-Xmx" + HEAP_MB + "m", "-XX:+UseSerialGC",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"),
                SnapshotMemoryProbe.class.getName(), Long.toString(ONE_GIB)))
                .redirectErrorStream(true).start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()),
                r -> new Thread(r, "probe-output").start());

        boolean exited = p.waitFor(3, TimeUnit.MINUTES);
        if (!exited) {
            p.destroyForcibly();
        }
        String out = output.get(30, TimeUnit.SECONDS);
        assertTrue(exited, "the 1 GiB transfer did not finish within 3 minutes:\n" + out);
        assertEquals(0, p.exitValue(), "the 1 GiB transfer failed with " + HEAP_MB + " MiB of heap:\n" + out);
        String ok = out.lines().filter(l -> l.startsWith("OK ")).findFirst().orElseThrow();
        String[] f = ok.split(" ");
        System.out.printf("1 GiB snapshot streamed in %s ms, peak heap %d MiB (limit %d MiB)%n",
                f[3], Long.parseLong(f[2]) >> 20, HEAP_MB);
    }

    private static String readAll(InputStream in) {
        try (in) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toString(StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "(output unreadable: " + e + ")";
        }
    }
}
