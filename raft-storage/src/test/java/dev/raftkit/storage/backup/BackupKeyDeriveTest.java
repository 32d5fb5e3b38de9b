package dev.raftkit.storage.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link BackupKey#derive}: the same key file gives the same derived key, another purpose or key another. */
class BackupKeyDeriveTest {

    @TempDir
    Path dir;

    @Test
    void aDerivedKeyDependsOnTheKeyAndThePurposeOnly() throws Exception {
        Path file = dir.resolve("k");
        BackupKey created = BackupKey.createFile(file, new SecureRandom());
        BackupKey loaded = BackupKey.load(file);
        byte[] a = created.derive("raftkit sql table artifact");
        assertEquals(32, a.length);
        assertArrayEquals(a, loaded.derive("raftkit sql table artifact"), "every node loading the file derives the same");
        assertFalse(Arrays.equals(a, loaded.derive("another purpose")));
        assertFalse(Arrays.equals(a, BackupKey.generate(new SecureRandom()).derive("raftkit sql table artifact")));
    }
}
