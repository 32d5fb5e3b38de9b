package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node writes backups only under its {@code --backup-root}, never into its data directory, and
 * encrypts them with its {@code --backup-key}; reading them back needs that key. One-node clusters
 * started by {@code raftkit server}, driven by the client commands.
 */
class BackupRootTest {

    @TempDir
    Path dir;

    private CliServers servers;

    @AfterEach
    void stopAll() {
        if (servers != null) {
            servers.close();
        }
    }

    private Path data() {
        return dir.resolve("n1");
    }

    private Path root() {
        return dir.resolve("backups");
    }

    private void startNode(String... extra) throws Exception {
        servers = new CliServers(1);
        servers.start(1, data(), "1", List.of(extra));
        await().atMost(CliServers.WAIT).until(() -> cli("kv", "put", "k", "v").exit() == 0);
    }

    private CliRun cli(String... args) {
        return CliServers.cliAt(servers.cluster(1), args);
    }

    private static CliRun failed(CliRun r, String expected) {
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.err().contains(expected), "expected '" + expected + "' in\n" + r.all());
        return r;
    }

    private static CliRun ok(CliRun r) {
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    private static List<String> tree(Path top) throws Exception {
        try (Stream<Path> s = Files.walk(top)) {
            return s.map(p -> top.relativize(p).toString()).sorted().toList();
        }
    }

    /** The finding: a full backup could be written to any absolute path, the node's own log/ included. */
    @Test
    void aBackupIntoTheNodesOwnLogDirectoryIsRefused() throws Exception {
        startNode();
        Path log = data().resolve("log");
        List<String> before = tree(data());
        failed(cli("backup", "full", "--dir", log.toString()), "PERMISSION_DENIED: backup directory '" + log
                + "' is not under node 1's backup root " + root().toRealPath());
        // Through a link inside the root, too: the real path decides.
        Files.createDirectories(root());
        Files.createSymbolicLink(root().resolve("sneaky"), log);
        failed(cli("backup", "full", "--dir", "sneaky"), "leads outside node 1's backup root");
        failed(cli("backup", "full", "--dir", "sneaky/deeper"), "leads outside node 1's backup root");
        failed(cli("backup", "full", "--dir", "../n1/log"), "contains '..'");
        assertEquals(before, tree(data()), "nothing was written into the data directory");
        // The node keeps serving.
        ok(cli("kv", "put", "after", "refusals"));
        assertEquals("refusals\n", ok(cli("kv", "get", "after")).out());
    }

    @Test
    void aBackupOutsideTheBackupRootIsRefusedAndARelativeDirIsUnderIt() throws Exception {
        startNode();
        Path elsewhere = dir.resolve("elsewhere");
        failed(cli("backup", "full", "--dir", elsewhere.toString()), "is not under node 1's backup root");
        assertFalse(Files.exists(elsewhere));
        String longName = "/x".repeat(3000);
        CliRun tooLong = failed(cli("backup", "full", "--dir", longName), "is not a usable path name");
        assertTrue(tooLong.err().length() < 2000, "the request is not echoed whole: " + tooLong.err().length());

        String full = ok(cli("backup", "full", "--dir", "nightly")).out();
        Path nightly = root().toRealPath().resolve("nightly");
        assertTrue(full.contains("in " + nightly.resolve("000001-full")), full);
        ok(cli("backup", "incremental", "--dir", nightly.toString())); // absolute inside the root: fine
        assertTrue(ok(CliRun.of("backup", "verify", "--dir", nightly.toString())).out()
                .contains("chain OK: cluster 'cli-test', 1 full + 1 incremental"));
    }

    @Test
    void aScheduledNodeSaysWhatItRanAndWhatIsDueAndDifferentialsJoinItsChain() throws Exception {
        startNode("--backup-schedule", "full=7d,incremental=1h", "--backup-keep-chains", "2");
        await().atMost(CliServers.WAIT).until(() -> cli("backup", "policy").out().contains("ran (1):"));
        String policy = ok(cli("backup", "policy", "--node", "1")).out();
        assertTrue(policy.startsWith("node 1: schedule full=7d,incremental=1h, keep 2 chains, into "
                + root().toRealPath()), policy);
        assertTrue(policy.contains("  full  index "), policy);
        assertTrue(policy.contains("failed (0):"), policy);
        assertTrue(policy.contains("\n  full every 7d, next ") && policy.contains("\n  incremental every 1h, next "),
                policy);
        String json = ok(cli("backup", "policy", "--json")).out();
        assertTrue(json.startsWith("{\"node\":1,\"scheduled\":true,\"schedule\":\"full=7d,incremental=1h\","
                + "\"keepChains\":2,") && json.contains("\"ran\":[{\"at\":") && json.contains("\"taken\":\"full\""),
                json);
        // A differential by hand into the same root follows the scheduled full backup.
        ok(cli("kv", "put", "k2", "v2"));
        String diff = ok(cli("backup", "differential", "--json")).out();
        assertTrue(diff.contains("\"kind\":\"differential\"") && diff.contains("\"fallbackReason\":null"), diff);
        assertTrue(ok(CliRun.of("backup", "verify", "--dir", root().toString())).out()
                .contains("1 full + 1 differential + 0 incremental"));
    }

    @Test
    void aNodeWithoutAScheduleSaysSo() throws Exception {
        startNode();
        assertTrue(ok(cli("backup", "policy")).out().startsWith("node 1 has no backup schedule"));
    }

    @Test
    void aNodeWithoutABackupRootRefusesBackupsSayingHowToAllowThem() throws Exception {
        servers = new CliServers(1);
        servers.defaultBackupRoot = false;
        servers.start(1, data(), "1", List.of());
        await().atMost(CliServers.WAIT).until(() -> cli("kv", "put", "k", "v").exit() == 0);
        failed(cli("backup", "full", "--dir", dir.resolve("b").toString()), "FAILED_PRECONDITION: node 1 takes no"
                + " backups: it was started without --backup-root; restart it with --backup-root DIR");
        assertFalse(Files.exists(dir.resolve("b")));
    }

    @Test
    void encryptedBackupsNeedTheirKeyAndAWrongKeyIsNamedAsSuch() throws Exception {
        Path key = dir.resolve("backup.key");
        String generated = ok(CliRun.of("backup", "keygen", "--out", key.toString())).out();
        assertTrue(generated.startsWith("backup key "), generated);
        assertEquals(2, CliRun.of("backup", "keygen", "--out", key.toString()).exit(), "never overwritten");
        startNode("--backup-key", key.toString());
        ok(cli("backup", "full", "--dir", "enc"));
        ok(cli("kv", "put", "k2", "v2"));
        ok(cli("backup", "incremental", "--dir", "enc"));
        Path enc = root().resolve("enc");

        failed(CliRun.of("backup", "verify", "--dir", enc.toString()), "is encrypted (key id ");
        assertTrue(ok(CliRun.of("backup", "verify", "--dir", enc.toString(), "--key", key.toString())).out()
                .contains("1 full + 1 incremental, restorable to any index in"));
        Path other = dir.resolve("other.key");
        ok(CliRun.of("backup", "keygen", "--out", other.toString()));
        failed(CliRun.of("backup", "verify", "--dir", enc.toString(), "--key", other.toString()),
                "was encrypted with a different key");
        failed(CliRun.of("restore", "--from", enc.toString(), "--data", dir.resolve("r-wrong").toString(), "--key",
                other.toString()), "was encrypted with a different key");
        assertFalse(Files.exists(dir.resolve("r-wrong")));
        String restored = ok(CliRun.of("restore", "--from", enc.toString(), "--data", dir.resolve("r").toString(),
                "--key", key.toString())).out();
        assertTrue(restored.contains("restored to index "), restored);
    }
}
