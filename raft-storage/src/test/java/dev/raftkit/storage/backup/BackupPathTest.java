package dev.raftkit.storage.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.storage.FileIo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which backups a restore uses ({@link BackupChain#plan}): every shape of chain, built by hand in
 * a root (a snapshot file of a few bytes, real entry files), so each path is known in advance.
 */
class BackupPathTest {

    @TempDir
    Path tmp;

    /** Writes backups into one root: each call is the next backup, in sequence order. */
    static final class Root {
        final Path dir;
        private final Map<String, BackupManifest> byName = new HashMap<>();
        private long sequence;
        /** The creation time written into the next manifests. */
        Instant createdAt = Instant.EPOCH;

        Root(Path dir) {
            this.dir = dir;
        }

        /** A full backup at {@code index}. */
        String full(String name, long index) throws IOException {
            Path d = next(BackupKind.FULL);
            Files.writeString(d.resolve(BackupLayout.SNAPSHOT), "state at " + index);
            return publish(name, d, new BackupManifest(name, "c", BackupKind.FULL, sequence, null, 1, 0, 0, index, 1,
                    ConfState.ofVoters(Set.of(1L)), createdAt, null,
                    List.of(BackupFile.measure(d.resolve(BackupLayout.SNAPSHOT)))));
        }

        /** An incremental or differential backup after {@code parent}, up to {@code to}. */
        String entries(String name, BackupKind kind, String parent, long to) throws IOException {
            BackupManifest p = byName.get(parent);
            Path d = next(kind);
            try (EntryFile.Writer w = new EntryFile.Writer(d.resolve(EntryFile.NAME), p.lastIndex(), 1,
                    to - p.lastIndex())) {
                for (long i = p.lastIndex() + 1; i <= to; i++) {
                    w.append(new Entry(1, i, EntryType.NORMAL, ("e" + i).getBytes(StandardCharsets.UTF_8)));
                }
                w.finish(p.lastIndex());
            }
            return publish(name, d, new BackupManifest(name, "c", kind, sequence, parent, 1, p.lastIndex(), 1, to, 1,
                    ConfState.ofVoters(Set.of(1L)), createdAt, null,
                    List.of(BackupFile.measure(d.resolve(EntryFile.NAME)))));
        }

        String incr(String name, String parent, long to) throws IOException {
            return entries(name, BackupKind.INCREMENTAL, parent, to);
        }

        String diff(String name, String full, long to) throws IOException {
            return entries(name, BackupKind.DIFFERENTIAL, full, to);
        }

        Path dirOf(String name) {
            BackupManifest m = byName.get(name);
            return dir.resolve(BackupLayout.dirName(m.sequence(), m.kind()));
        }

        private Path next(BackupKind kind) throws IOException {
            sequence++;
            return Files.createDirectories(dir.resolve(BackupLayout.dirName(sequence, kind)));
        }

        private String publish(String name, Path d, BackupManifest m) throws IOException {
            Files.write(d.resolve(BackupManifest.FILE_NAME), m.encode());
            byName.put(name, m);
            return name;
        }
    }

    private static List<String> ids(BackupChain chain) {
        return chain.backups().stream().map(b -> b.manifest().id()).toList();
    }

    private static List<String> plan(Root r, long target) throws IOException {
        return ids(BackupChain.plan(r.dir, null, target));
    }

    @Test
    void aFullBackupAloneRestoresItsOwnIndexOnly() throws Exception {
        Root r = new Root(tmp.resolve("root"));
        r.full("F", 10);
        assertEquals(List.of("F"), plan(r, BackupRestore.LATEST));
        assertEquals(List.of("F"), plan(r, 10));
        BackupException e = assertThrows(BackupException.class, () -> plan(r, 11));
        assertTrue(e.getMessage().contains("restores index 11"), e.getMessage());
    }

    @Test
    void theLatestDifferentialAtOrBelowTheTargetThenItsIncrements() throws Exception {
        Root r = new Root(tmp.resolve("root"));
        r.full("F", 10);
        r.incr("I1", "F", 20);
        r.incr("I2", "I1", 30);
        r.diff("D1", "F", 30);
        r.incr("I3", "D1", 40);
        r.incr("I4", "I3", 50);
        r.diff("D2", "F", 50);
        r.incr("I5", "D2", 60);
        assertEquals(List.of("F", "D2", "I5"), plan(r, BackupRestore.LATEST));
        assertEquals(List.of("F", "D2", "I5"), plan(r, 55));
        assertEquals(List.of("F", "D2"), plan(r, 50));
        // A differential is read only up to the target: one file instead of D1 + I3 + I4.
        assertEquals(List.of("F", "D2"), plan(r, 45));
        assertEquals(List.of("F", "D2"), plan(r, 35), "among one-step paths, D2 is the only one holding 35");
        assertEquals(List.of("F", "I1"), plan(r, 15), "one increment is shorter than a differential to 30");
        assertEquals(List.of("F", "D1"), plan(r, 25), "D1 holds 25 in one step, I1 + I2 take two");
        assertEquals(List.of("F"), plan(r, 10));
        BackupChain chain = BackupChain.plan(r.dir, null, 55);
        assertEquals(r.dirOf("F").getFileName() + " + " + r.dirOf("D2").getFileName() + " + "
                + r.dirOf("I5").getFileName(), chain.describePath());
        assertTrue(chain.notes().isEmpty(), chain.notes().toString());
        // discover is the path to the newest backup
        assertEquals(List.of("F", "D2", "I5"), ids(BackupChain.discover(r.dir)));
    }

    @Test
    void fullPlusDifferentialsOnly() throws Exception {
        Root r = new Root(tmp.resolve("root"));
        r.full("F", 10);
        r.diff("D1", "F", 20);
        r.diff("D2", "F", 30);
        r.diff("D3", "F", 40);
        assertEquals(List.of("F", "D3"), plan(r, BackupRestore.LATEST));
        assertEquals(List.of("F", "D2"), plan(r, 25));
        assertEquals(List.of("F", "D1"), plan(r, 11));
    }

    @Test
    void incrementsAcrossTwoFullBackupsUseTheNewestFullAtOrBelowTheTarget() throws Exception {
        Root r = new Root(tmp.resolve("root"));
        r.full("F1", 10);
        r.incr("I1", "F1", 20);
        r.incr("I2", "I1", 30);
        r.full("F2", 30);
        r.incr("I3", "F2", 40);
        r.diff("D", "F2", 50);
        assertEquals(List.of("F2", "D"), plan(r, BackupRestore.LATEST));
        assertEquals(List.of("F2", "I3"), plan(r, 35));
        assertEquals(List.of("F2"), plan(r, 30), "the newer full backup is at 30 itself");
        assertEquals(List.of("F1", "I1", "I2"), plan(r, 25), "below F2: the older chain");
        assertEquals(List.of("F1", "I1"), plan(r, 20));
    }

    @Test
    void aDamagedDifferentialFallsBackToTheLongerValidPathAndSaysSo() throws Exception {
        Root r = new Root(tmp.resolve("root"));
        r.full("F", 10);
        r.incr("I1", "F", 20);
        r.incr("I2", "I1", 30);
        r.diff("D", "F", 30);
        Path entries = r.dirOf("D").resolve(EntryFile.NAME);
        byte[] bytes = Files.readAllBytes(entries);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(entries, bytes);

        BackupChain chain = BackupChain.plan(r.dir, null, BackupRestore.LATEST);
        assertEquals(List.of("F", "I1", "I2"), ids(chain));
        assertEquals(1, chain.notes().size(), chain.notes().toString());
        assertTrue(chain.notes().get(0).startsWith("skipped " + r.dirOf("D").getFileName()), chain.notes().get(0));
        assertTrue(chain.notes().get(0).contains(entries.toString()), "names the damaged file: " + chain.notes());

        // And it restores through the increments.
        Path data = tmp.resolve("data");
        BackupRestore.Result restored = BackupRestore.restore(chain.backups().stream().map(BackupChain.Backup::dir)
                .toList(), data, BackupRestore.LATEST);
        assertEquals(30, restored.lastIndex());
    }

    @Test
    void aDamagedDifferentialThatLaterIncrementsNeedIsRefusedNamingIt() throws Exception {
        Root r = new Root(tmp.resolve("root"));
        r.full("F", 10);
        r.diff("D", "F", 30);
        r.incr("I", "D", 40);
        Path entries = r.dirOf("D").resolve(EntryFile.NAME);
        byte[] bytes = Files.readAllBytes(entries);
        bytes[bytes.length - 3] ^= 0x40;
        Files.write(entries, bytes);
        BackupException e = assertThrows(BackupException.class, () -> plan(r, BackupRestore.LATEST));
        assertEquals(entries, e.file(), e.getMessage());
    }

    @Test
    void aDifferentialMustFollowItsFullBackupDirectly() throws Exception {
        Root r = new Root(tmp.resolve("root"));
        r.full("F", 10);
        r.incr("I1", "F", 20);
        r.diff("D", "F", 30);
        BackupException e = assertThrows(BackupException.class,
                () -> BackupChain.verify(List.of(r.dirOf("F"), r.dirOf("I1"), r.dirOf("D"))));
        assertEquals(r.dirOf("D").resolve(BackupManifest.FILE_NAME), e.file());
        assertTrue(e.getMessage().contains("follows that full backup directly"), e.getMessage());
        BackupChain.verify(List.of(r.dirOf("F"), r.dirOf("D")));
    }

    @Test
    void partialDirectoriesLeftByAKilledBackupAreRemoved() throws Exception {
        Root r = new Root(tmp.resolve("root"));
        r.full("F", 10);
        Path partial = Files.createDirectories(r.dir.resolve(BackupLayout.PARTIAL_PREFIX + "killed"));
        Files.writeString(partial.resolve("entries"), "half");
        assertEquals(List.of(partial), BackupService.removePartials(FileIo.real(), r.dir));
        assertTrue(Files.notExists(partial));
        assertTrue(Files.exists(r.dirOf("F")), "backups are kept");
        assertEquals(List.of(), BackupService.removePartials(FileIo.real(), r.dir));
    }
}
