package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The demo runs in the default build through the same command a user types, so it never rots. */
class DemoTest {

    @Test
    void theTourSucceedsAndNarratesEveryStep(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new Raftkit());
        cl.setOut(new PrintWriter(out));
        int exit = cl.execute("demo", "--data", dir.resolve("demo").toString(), "--writes", "200");
        String text = out.toString();
        assertEquals(0, exit, text);
        for (String step : new String[] {"Election: node", "Failover: node", "none lost", "Full backup from follower",
                "incremental backup: entries", "Verified the backup chain", "seeded from the backup chain", "promoted to voter", "Cluster back: node"}) {
            assertTrue(text.contains(step), "missing step '" + step + "' in:\n" + text);
        }
        String[] lines = text.strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("demo ok: 600 writes acknowledged, 0 lost"), lines[lines.length - 1]);
        assertTrue(Files.exists(dir.resolve("demo/backups")));
    }

    @Test
    void aNonEmptyDataDirectoryIsRefused(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("precious.txt"), "keep me");
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new Raftkit());
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("demo", "--data", dir.toString()));
        assertTrue(err.toString().contains("is not empty"), err.toString());
        assertEquals("keep me", Files.readString(dir.resolve("precious.txt")));
    }
}
