package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code raftkit bench backup} on a small slice (4 MiB, an encrypted chain of three): it runs, prints every
 * step, and its figures are sane (positive, finite, the bytes what the chain holds); never timings.
 */
class BackupBenchCommandTest {

    @TempDir
    Path dir;

    @Test
    void aShortBackupBenchmarkMeasuresEveryStepAndCleansUp() throws Exception {
        Path csv = dir.resolve("out.csv");
        Path work = Files.createDirectories(dir.resolve("work"));
        CliRun r = CliRun.of("bench", "backup", "--state", "4MiB", "--value-bytes", "16384", "--increments", "2",
                "--increment", "512KiB", "--nodes", "2", "--rounds", "2", "--parallelism", "2", "--dir", work.toString(),
                "--csv", csv.toString(), "--encrypted");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().contains("chain of 3 encrypted backups"), r.all());
        assertTrue(r.out().matches("(?s).*raw disk: [0-9.]+ MB/s sequential write of 4.0 MiB \\+ fsync \\(median of 3, .*"), r.all());
        assertTrue(r.out().contains("speed-up of 2 threads over sequential"), r.all());
        List<String> lines = Files.readAllLines(csv);
        assertEquals("csv,step,threads,directories,bytes,runs,median_s,min_s,max_s,mb_per_s,raw_disk_mb_per_s",
                lines.get(0));
        Map<String, String[]> steps = new TreeMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            assertEquals(11, f.length, line);
            steps.put(f[1] + "/" + f[2], f);
            assertTrue(r.out().contains(line), "the CSV file holds what was printed: " + line);
            long bytes = Long.parseLong(f[4]);
            double median = Double.parseDouble(f[6]);
            double min = Double.parseDouble(f[7]);
            double max = Double.parseDouble(f[8]);
            double rate = Double.parseDouble(f[9]);
            assertTrue(bytes > 0 && median > 0 && min <= median && median <= max && rate > 0
                    && Double.isFinite(rate) && Double.parseDouble(f[10]) > 0, line);
        }
        assertEquals(List.of("2 separate restores/1", "cold restore + node applied/2", "differential backup/1",
                "full backup/1", "hot restore of a live node/1", "incremental backup/1",
                "restore into 1 directory/1", "restore into 1 directory/2", "restore into 2 directories/1",
                "restore into 2 directories/2"), List.copyOf(steps.keySet()));
        // The full backup holds the 4 MiB of values (and the keys, the snapshot's framing).
        long full = Long.parseLong(steps.get("full backup/1")[4]);
        assertTrue(full >= 4L << 20 && full < 5L << 20, "full backup bytes " + full);
        // The differential holds both increments' entries; the hot restore switched to the full backup's state.
        assertTrue(Long.parseLong(steps.get("differential backup/1")[4])
                > Long.parseLong(steps.get("incremental backup/1")[4]), r.all());
        assertTrue(Long.parseLong(steps.get("hot restore of a live node/1")[4]) >= 4L << 20, r.all());
        long one = Long.parseLong(steps.get("restore into 1 directory/1")[4]);
        assertTrue(one > full, "a restore writes the snapshot and the increments' entries: " + one);
        assertEquals(2 * one, Long.parseLong(steps.get("restore into 2 directories/2")[4]));
        assertEquals(2 * one, Long.parseLong(steps.get("2 separate restores/1")[4]));
        assertTrue(r.out().contains("2 directories in one call against 2 separate restores"), r.all());
        assertEquals("2", steps.get("restore into 1 directory/2")[5], "two rounds");
        try (Stream<Path> s = Files.list(work)) {
            assertFalse(s.findAny().isPresent(), "the benchmark deletes everything it wrote");
        }
    }

    @Test
    void badSizesAreRefused() {
        CliRun r = CliRun.of("bench", "backup", "--state", "lots");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("--state: 'lots' is not a byte count"), r.all());
        r = CliRun.of("bench", "backup", "--state", "1MiB", "--nodes", "0");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.err().contains("--nodes, --rounds and --parallelism must be at least 1"), r.all());
    }
}
