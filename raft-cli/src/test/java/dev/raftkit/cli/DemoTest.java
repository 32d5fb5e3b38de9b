package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo runs in the default build through the same command a user types, so it never rots. */
class DemoTest {

    @Test
    void theTourSucceedsAndNarratesEveryStep(@TempDir Path dir) throws Exception {
        CliRun run = CliRun.of("demo", "--data", dir.resolve("demo").toString(), "--writes", "200");
        String text = run.out();
        assertEquals(0, run.exit(), run.all());
        for (String step : new String[] {"Election: node", "Failover: node", "none lost", "Full backup from follower",
                "incremental backup: entries", "Verified the backup chain", "seeded from the backup chain", "promoted to voter", "Cluster back: node"}) {
            assertTrue(text.contains(step), "missing step '" + step + "' in:\n" + text);
        }
        String[] lines = text.strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("demo ok: 500 writes acknowledged, 0 lost"), lines[lines.length - 1]);
        assertTrue(Files.exists(dir.resolve("demo/backups")));
    }

    @Test
    void aNonEmptyDataDirectoryIsRefused(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("precious.txt"), "keep me");
        CliRun run = CliRun.of("demo", "--data", dir.toString());
        assertEquals(2, run.exit());
        assertTrue(run.err().contains("is not empty"), run.all());
        assertEquals("keep me", Files.readString(dir.resolve("precious.txt")));
    }
}
