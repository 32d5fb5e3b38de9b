package dev.raftkit.cli.demo;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backup tour checks its steps against the real state: a damaged chain fails it, naming the step and the file. */
class BackupTourTest {

    @Test
    void aDamagedChainFailsTheVerifyStepSayingWhatWasExpectedAndSeen(@TempDir Path dir) {
        StringWriter text = new StringWriter();
        AtomicReference<Path> damaged = new AtomicReference<>();
        BackupTour tour = new BackupTour(new PrintWriter(text), dir.resolve("demo"), 50, chain -> {
            // The full backup's snapshot, in the real chain this time: every restore path needs it.
            try (var backups = Files.list(chain)) {
                Path full = backups.filter(p -> p.getFileName().toString().endsWith("-full")).findFirst().orElseThrow();
                try (var files = Files.list(full)) {
                    Path victim = files.filter(p -> !p.getFileName().toString().equals("manifest"))
                            .max((x, y) -> Long.compare(x.toFile().length(), y.toFile().length())).orElseThrow();
                    byte[] bytes = Files.readAllBytes(victim);
                    bytes[bytes.length / 2] ^= 0x01;
                    Files.write(victim, bytes);
                    damaged.set(victim);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, tour::run, text::toString);
        assertTrue(e.getMessage().startsWith("step 3: expected verify --deep to pass (exit 0); saw exit 1"),
                e.getMessage());
        assertTrue(e.getMessage().contains(damaged.get().toString()), e.getMessage());
        assertTrue(text.toString().contains("2. More writes and an incremental"), text.toString());
    }
}
