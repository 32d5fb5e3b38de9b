package dev.raftkit.jepsen.real;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The disk nemesis damages only files recovery reads: segments, never the spare or temporary files. */
class DiskFaultsTest {

    private static final String OPEN = "log_inprogress_00000000000000000101";
    private static final String CLOSED = "log_00000000000000000001-00000000000000000100";

    @Test
    void flipsBitsOnlyInClosedSegments(@TempDir Path data) throws Exception {
        Path log = Files.createDirectories(data.resolve("log"));
        byte[] ones = new byte[4096];
        java.util.Arrays.fill(ones, (byte) 1);
        Files.write(log.resolve("log_spare.tmp"), ones);
        Files.write(log.resolve(OPEN), ones);
        Files.write(log.resolve(CLOSED), ones);
        for (int seed = 0; seed < 20; seed++) {
            String what = DiskFaults.flipBit(data, new Random(seed));
            assertTrue(what.contains("in closed segment " + CLOSED), what);
        }
        assertArrayEquals(ones, Files.readAllBytes(log.resolve("log_spare.tmp")), "the spare is never touched");
        assertArrayEquals(ones, Files.readAllBytes(log.resolve(OPEN)), "a flip targets acknowledged, closed data");
    }

    @Test
    void withoutAClosedSegmentTearsTheOpenOneNotTheSpare(@TempDir Path data) throws Exception {
        Path log = Files.createDirectories(data.resolve("log"));
        Files.write(log.resolve("log_spare.tmp"), new byte[4096]);
        Files.write(log.resolve(OPEN), new byte[] {1, 2, 3, 0, 0, 0});
        String what = DiskFaults.flipBit(data, new Random(1));
        assertTrue(what.startsWith("no closed segment yet; tore the tail of " + OPEN), what);
        assertArrayEquals(new byte[4096], Files.readAllBytes(log.resolve("log_spare.tmp")), "the spare is never touched");
    }
}
