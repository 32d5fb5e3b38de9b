package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.storage.backup.BackupManifest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code raftkit backup verify --deep}, the state check of {@code raftkit restore} and
 * {@code restore --time}, on backups of a one-node cluster started by {@code raftkit server}.
 */
class StateCheckCliTest {

    @TempDir
    Path dir;

    private CliServers servers;

    @AfterEach
    void stopAll() {
        if (servers != null) {
            servers.close();
        }
    }

    private CliRun cli(String... args) {
        return CliServers.cliAt(servers.cluster(1), args);
    }

    private static CliRun exit(int code, CliRun r) {
        assertEquals(code, r.exit(), r.all());
        return r;
    }

    @Test
    void deepVerifyAndRestoreCompareTheStateAndATimeOutsideTheChainIsRefused() throws Exception {
        servers = new CliServers(1);
        servers.start(1, dir.resolve("n1"), "1", List.of());
        await().atMost(CliServers.WAIT).until(() -> cli("kv", "put", "k", "v").exit() == 0);
        for (int i = 0; i < 5; i++) {
            exit(0, cli("kv", "put", "a" + i, "x" + i));
        }
        exit(0, cli("backup", "full", "--dir", "chain"));
        for (int i = 0; i < 5; i++) {
            exit(0, cli("kv", "put", "b" + i, "y" + i));
        }
        exit(0, cli("backup", "incremental", "--dir", "chain"));
        Path chain = dir.resolve("backups").resolve("chain");
        Path full = chain.resolve("000001-full");
        Path incr = chain.resolve("000002-incr");

        String deep = exit(0, CliRun.of("backup", "verify", "--dir", chain.toString(), "--deep", "--scratch",
                dir.resolve("scratch").toString())).out();
        assertTrue(deep.contains("000002-incr") && deep.contains("state digest matches (sha256:"), deep);
        assertTrue(deep.contains("deep: the state rebuilt in a kv state machine matches 2 of 2 recorded digests"), deep);
        try (var left = Files.list(dir.resolve("scratch"))) {
            assertEquals(0, left.count(), "the scratch copy is gone");
        }
        CliRun wrongKind = exit(1, CliRun.of("backup", "verify", "--dir", chain.toString(), "--deep", "--sm", "sql"));
        assertTrue(wrongKind.err().contains("raftkit backup verify: the chain is not usable"), wrongKind.all());
        exit(2, CliRun.of("backup", "verify", "--dir", chain.toString(), "--sm", "sql")); // --sm without --deep

        String restored = exit(0, CliRun.of("restore", "--from", chain.toString(), "--data",
                dir.resolve("r-all").toString())).out();
        assertTrue(restored.contains("state checked: the rebuilt kv state matches the digests of 2 of 2 backups"),
                restored);

        // By time: the full backup's log time restores to the full backup; outside the chain: refused.
        BackupManifest f = BackupManifest.read(full);
        BackupManifest last = BackupManifest.read(incr);
        String atFull = exit(0, CliRun.of("restore", "--from", chain.toString(), "--data",
                dir.resolve("r-time").toString(), "--time", f.lastTime().toString())).out();
        assertTrue(atFull.contains("index " + f.lastIndex() + ", the last entry at or before it"), atFull);
        assertTrue(atFull.contains("restored to index " + f.lastIndex()), atFull);
        CliRun late = exit(2, CliRun.of("restore", "--from", chain.toString(), "--data",
                dir.resolve("r-late").toString(), "--time", last.lastTime().plusSeconds(60).toString()));
        assertTrue(late.err().contains("this chain covers " + f.lastTime()) && late.err().contains("to "
                + last.lastTime()), late.all());
        assertFalse(Files.exists(dir.resolve("r-late")));
        exit(2, CliRun.of("restore", "--from", chain.toString(), "--data", dir.resolve("r-both").toString(),
                "--time", f.lastTime().toString(), "--index", Long.toString(f.lastIndex())));

        // A backup that claims another state (manifest re-signed: checksums cannot see it).
        Path manifest = incr.resolve(BackupManifest.FILE_NAME);
        resign(manifest, "state-digest=" + last.stateDigest(), "state-digest=" + f.stateDigest());
        exit(0, CliRun.of("backup", "verify", "--dir", chain.toString()));
        CliRun bad = exit(1, CliRun.of("backup", "verify", "--dir", chain.toString(), "--deep"));
        assertTrue(bad.err().contains("backup 000002-incr records state digest " + f.stateDigest()
                + " at index " + last.lastIndex()) && bad.err().contains(last.stateDigest()), bad.all());
        CliRun refused = exit(1, CliRun.of("restore", "--from", chain.toString(), "--data",
                dir.resolve("r-bad").toString()));
        assertTrue(refused.err().contains("restore failed (nothing was written): ")
                && refused.err().contains("000002-incr"), refused.all());
        assertFalse(Files.exists(dir.resolve("r-bad")));
    }

    @Test
    void timesAreReadWithTheirZoneAndALocalTimeWithoutOneIsRefused() {
        Instant utc = Instant.parse("2026-12-07T10:00:00Z");
        assertEquals(utc, RestoreCommand.parseTime("2026-12-07T10:00:00Z"));
        assertEquals(utc, RestoreCommand.parseTime("2026-12-07T11:00:00+01:00"));
        assertEquals(utc, RestoreCommand.parseTime("2026-12-07T11:00:00 Europe/Paris"));
        assertEquals(utc, RestoreCommand.parseTime("2026-12-07T11:00:00+01:00[Europe/Paris]"));
        IllegalArgumentException noZone = assertThrows(IllegalArgumentException.class,
                () -> RestoreCommand.parseTime("2026-12-07T10:00:00"));
        assertTrue(noZone.getMessage().contains("has no zone"), noZone.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RestoreCommand.parseTime("yesterday"));
        assertThrows(IllegalArgumentException.class, () -> RestoreCommand.parseTime("2026-12-07T10:00:00 Mars/Olympus"));
    }

    /** Replaces one line of a plaintext manifest and writes a new crc32c line over it. */
    private static void resign(Path manifest, String from, String to) throws Exception {
        String text = Files.readString(manifest, StandardCharsets.UTF_8);
        assertTrue(text.contains(from + "\n"), text);
        String body = text.substring(0, text.lastIndexOf("crc32c=")).replace(from + "\n", to + "\n");
        CRC32C crc = new CRC32C();
        crc.update(body.getBytes(StandardCharsets.UTF_8));
        String hex = HexFormat.of().toHexDigits((int) crc.getValue());
        Files.writeString(manifest, body + "crc32c=" + hex + "\n", StandardCharsets.UTF_8);
    }
}
