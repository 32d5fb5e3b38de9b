package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.ReadMode;
import dev.raftkit.jepsen.real.BackupNemesis;
import dev.raftkit.jepsen.real.JepsenOptions;
import dev.raftkit.jepsen.real.JepsenResult;
import dev.raftkit.jepsen.real.JepsenRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code backup} nemesis on real processes: backups taken during the run are verified and
 * restored at the end (the run is valid), and a backup damaged after it was taken makes the run
 * INVALID, naming it.
 */
class JepsenBackupNemesisTest {

    private static JepsenOptions options(Path report) {
        return JepsenOptions.of(3, Duration.ofSeconds(12), List.of("backup"), 17, List.of(ReadMode.LINEARIZABLE), report);
    }

    @Test
    void backupsTakenDuringTheRunAreVerifiedAndRestored(@TempDir Path dir) throws Exception {
        StringWriter out = new StringWriter();
        JepsenResult r = new JepsenRun(options(dir.resolve("report")), JepsenCommand.nodeCommand("96m"),
                new PrintWriter(out, true)).run();

        assertTrue(r.valid(), r.problems() + "\n" + out);
        String backups = Files.readString(dir.resolve("report").resolve("backups.txt"));
        assertTrue(backups.matches("(?s)backups: taken=[1-9]\\d* chains=[1-9]\\d* verified=[1-9]\\d* restored=[1-9].*"),
                backups);
        // Every backup taken, in every chain of every root (not only each root's newest chain).
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("taken=(\\d+) chains=\\d+ verified=(\\d+) restored=(\\d+)")
                .matcher(backups);
        assertTrue(m.find(), backups);
        int taken = Integer.parseInt(m.group(1));
        assertTrue(Integer.parseInt(m.group(2)) >= taken && Integer.parseInt(m.group(3)) >= taken, backups);
        // Each backup's restored state was checked against the history, as a read while it was taken.
        assertTrue(r.backups() != null && r.backups().readsChecked() == taken, r.backups() + "; " + backups);
        assertTrue(Files.readString(dir.resolve("report").resolve("history.jsonl")).contains("\"process\":2000000,"),
                "the first backup's reads are in the history");
        assertTrue(r.summaryLine().contains("backups taken=" + taken), r.summaryLine());
    }

    @Test
    void aBackupDamagedAfterItWasTakenMakesTheRunInvalid(@TempDir Path dir) throws Exception {
        Path[] damaged = new Path[1];
        StringWriter out = new StringWriter();
        JepsenResult r = new JepsenRun(options(dir.resolve("report")), JepsenCommand.nodeCommand("96m"),
                new PrintWriter(out, true)).testingBeforeBackupAudit(taken -> {
                    assertFalse(taken.isEmpty(), "the nemesis took no backup");
                    BackupNemesis.Taken t = taken.get(0);
                    damaged[0] = t.directory();
                    flipAByteOfTheLargestFile(t.directory());
                }).run();

        assertFalse(r.valid(), "a damaged backup must be caught\n" + out);
        String name = damaged[0].getFileName().toString();
        assertTrue(r.problems().stream().anyMatch(p -> p.contains(name)), "names backup " + name + ": " + r.problems());
    }

    private static void flipAByteOfTheLargestFile(Path backup) {
        try (Stream<Path> files = Files.walk(backup)) {
            Path f = files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("manifest"))
                    .max((a, b) -> Long.compare(size(a), size(b))).orElseThrow();
            byte[] bytes = Files.readAllBytes(f);
            bytes[bytes.length / 2] ^= 0x01;
            Files.write(f, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
