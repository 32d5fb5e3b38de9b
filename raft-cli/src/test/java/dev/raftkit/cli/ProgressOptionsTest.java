package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The commands that show progress: each has {@code --quiet}, and progress never reaches stdout
 * (the reporter's own arithmetic and cadence are in {@link ProgressTest}).
 */
class ProgressOptionsTest {

    @Test
    void everyLongCommandHasQuiet() {
        for (List<String> command : List.of(List.of("sim"), List.of("jepsen"), List.of("bench"),
                List.of("backup", "full"), List.of("backup", "incremental"), List.of("restore"))) {
            List<String> args = new ArrayList<>(command);
            args.add("--help");
            CliRun r = CliRun.of(args.toArray(String[]::new));
            assertEquals(0, r.exit(), r.all());
            assertTrue(r.out().contains("--quiet"), command + " --help names --quiet: " + r.out());
        }
    }

    @Test
    void simPrintsItsSummaryOnStdoutAndWithQuietNothingOnStderr() {
        CliRun r = CliRun.of("sim", "--seeds", "2", "--ticks", "300", "--quiet");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().trim().matches("2 runs, 0 violations, .*"), "the summary only: " + r.out());
        assertEquals("", r.err(), "--quiet: no progress");
        CliRun loud = CliRun.of("sim", "--seeds", "2", "--ticks", "300");
        assertEquals(0, loud.exit(), loud.all());
        assertFalse(loud.out().contains("seeds (") || loud.out().contains("... "), "no progress on stdout: " + loud.out());
    }
}
