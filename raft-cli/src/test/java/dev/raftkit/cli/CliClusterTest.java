package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three {@code raftkit server} commands in this JVM over loopback gRPC, driven only through the
 * client commands a person would type: the key-value store, status, membership, leadership
 * transfer, online backups, and a node replaced from the backup chain that catches up.
 */
class CliClusterTest {

    private static final Duration WAIT = CliServers.WAIT;

    @TempDir
    Path dir;

    private CliServers servers;

    @AfterEach
    void stopAll() {
        if (servers != null) {
            servers.close();
        }
    }

    private String client(long id) {
        return servers.client(id);
    }

    private String cluster(long... ids) {
        return servers.cluster(ids);
    }

    private CliServers.Running startServer(long id, Path data, String bootstrap, long... peers) throws Exception {
        return servers.start(id, data, bootstrap, List.of(), peers);
    }

    private void stopServer(long id) throws Exception {
        servers.stop(id);
    }

    /** A client command against nodes 1-3 (ids discovered), with a generous timeout. */
    private CliRun cli(String... args) {
        return cliAt(cluster(1, 2, 3), args);
    }

    private static CliRun cliAt(String addresses, String... args) {
        return CliServers.cliAt(addresses, args);
    }

    private static CliRun ok(CliRun r) {
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    @Test
    void aClusterRunByHandServesBacksUpChangesMembersAndRestoresANode() throws Exception {
        servers = new CliServers(1, 2, 3, 4, 5);
        CliServers.Running first = startServer(1, dir.resolve("n1"), "1,2,3", 2, 3);
        startServer(2, dir.resolve("n2"), "1,2,3", 1, 3);
        startServer(3, dir.resolve("n3"), "1,2,3", 1, 2);
        assertTrue(first.out().toString().contains("node 1 of cluster 'cli-test' (kv) ready"), first.out().toString());
        await().atMost(WAIT).until(() -> cli("status").exit() == 0);

        // The key-value store, every answer as a person would read it.
        assertTrue(ok(cli("kv", "put", "user/1", "ada")).out().startsWith("user/1: version "));
        assertEquals("ada\n", ok(cli("kv", "get", "user/1")).out());
        CliRun casFailed = cli("kv", "cas", "user/1", "bob", "--if-value", "eve");
        assertEquals(3, casFailed.exit(), casFailed.all());
        assertTrue(casFailed.err().contains("condition did not hold: 'user/1' holds 'ada'"), casFailed.all());
        ok(cli("kv", "cas", "user/1", "bob", "--if-value", "ada"));
        ok(cli("kv", "cas", "user/2", "cy", "--if-absent"));
        ok(cli("kv", "put", "other", "x"));
        String scan = ok(cli("kv", "scan", "user/")).out();
        assertTrue(scan.matches("user/1 = bob \\(version \\d+\\)\nuser/2 = cy \\(version \\d+\\)\n"), scan);
        assertEquals("other: deleted\n", ok(cli("kv", "del", "other")).out());
        CliRun missing = cli("kv", "get", "other");
        assertEquals(3, missing.exit(), missing.all());
        assertTrue(missing.err().contains("key 'other' not found"), missing.all());

        String status = ok(cli("status")).out();
        assertTrue(status.contains("voters [1, 2, 3], learners []"), status);
        assertEquals(1, Pattern.compile("(?m)^\\d+ +LEADER ").matcher(status).results().count(), status);
        String json = ok(cli("status", "--json")).out();
        assertTrue(json.startsWith("{\"nodes\":[{\"address\":") && json.endsWith("\"healthy\":true}\n"), json);
        assertTrue(json.contains("\"voters\":[1,2,3],\"learners\":[]"), json);
        assertEquals(1, Pattern.compile("\"role\":\"LEADER\"").matcher(json).results().count(), json);
        assertEquals(3, Pattern.compile("\"reachable\":true").matcher(json).results().count(), json);

        // Online backups taken by node 1 into a directory on its (this) host, then verified locally.
        Path backups = dir.resolve("backups");
        String full = ok(cli("backup", "full", "--dir", backups.toString(), "--node", "1")).out();
        assertTrue(full.startsWith("full backup by node 1: snapshot at index "), full);
        ok(cli("kv", "put", "after/full", "1"));
        // A snapshot on request: at the node's applied index, past the full backup's.
        String snap = ok(cli("snapshot", "--node", "2")).out();
        assertTrue(snap.matches("node 2 took a snapshot at index \\d+ \\(term \\d+, \\d+ bytes\\)\n"), snap);
        CliRun wrongCluster = CliRun.of("snapshot", "-c", "1=" + servers.client(1), "--cluster-id", "other");
        assertEquals(1, wrongCluster.exit(), wrongCluster.all());
        String incremental = ok(cli("backup", "incremental", "--dir", backups.toString(), "--node", "1")).out();
        assertTrue(incremental.startsWith("incremental backup by node 1: entries "), incremental);
        String verified = ok(CliRun.of("backup", "verify", "--dir", backups.toString())).out();
        assertTrue(verified.contains("chain OK: cluster 'cli-test', 1 full + 1 incremental"), verified);
        // The same for scripts: one JSON object each.
        String snapJson = ok(cli("snapshot", "--node", "2", "--json")).out();
        assertTrue(snapJson.matches("\\{\"node\":2,\"index\":\\d+,\"term\":\\d+,\"bytes\":\\d+}\n"), snapJson);
        String incJson = ok(cli("backup", "incremental", "--dir", backups.toString(), "--node", "1", "--json")).out();
        assertTrue(incJson.startsWith("{\"node\":1,\"directory\":") && incJson.contains("\"kind\":\"incremental\"")
                && incJson.contains("\"fallbackReason\":null"), incJson);
        String verifiedJson = ok(CliRun.of("backup", "verify", "--dir", backups.toString(), "--json")).out();
        assertTrue(verifiedJson.startsWith("{\"ok\":true,\"cluster\":\"cli-test\",\"backups\":[{")
                && verifiedJson.contains("],\"encrypted\":false,\"path\":\"") && verifiedJson.endsWith(",\"skipped\":null}\n"),
                verifiedJson);
        assertEquals(3, Pattern.compile("\"kind\":").matcher(verifiedJson).results().count(), verifiedJson);
        // A differential: everything since the full backup, so the path is the full backup and it.
        ok(cli("kv", "put", "after/incremental", "1"));
        String differential = ok(cli("backup", "differential", "--dir", backups.toString(), "--node", "1")).out();
        assertTrue(differential.startsWith("differential backup by node 1: entries "), differential);
        String viaDiff = ok(CliRun.of("backup", "verify", "--dir", backups.toString())).out();
        assertTrue(viaDiff.contains("1 full + 1 differential + 0 incremental, restorable to any index in ")
                && Pattern.compile("\\(uses 000001-full \\+ 000004-diff\\)").matcher(viaDiff).find(), viaDiff);

        // Membership: node 4 starts empty, is told about, joins as a learner, is promoted, leads, leaves.
        startServer(4, dir.resolve("n4"), null, 1, 2, 3);
        String added = ok(cli("member", "add", "4", "--address", servers.memberAddress(4)))
                .out();
        assertTrue(added.startsWith("node 4 added as a learner; voters now [1, 2, 3]"), added);
        assertTrue(ok(cli("member", "promote", "4")).out().startsWith("node 4 promoted; voters now [1, 2, 3, 4]"));
        assertEquals("node 4 leads now\n", ok(cli("transfer", "--to", "4")).out());
        assertEquals("node 1 leads now\n", ok(cli("transfer", "--to", "1")).out());
        assertTrue(ok(cli("member", "remove", "4")).out().startsWith("node 4 removed; voters now [1, 2, 3]"));
        stopServer(4);

        // Node 3 is lost. It may not come back under its id with older data: it acknowledged
        // entries the backup lacks, and a quorum counted on them (§3.8; the leader would also keep
        // its old match index and never back off). So it is removed, and a new node 5 seeded from
        // the backup chain joins as a learner, needing only the entries since the backup.
        stopServer(3);
        String survivors = cluster(1, 2);
        assertTrue(ok(cliAt(survivors, "member", "remove", "3")).out().startsWith("node 3 removed; voters now [1, 2]"));
        Path restored = dir.resolve("n5");
        CliRun badIndex = CliRun.of("restore", "--from", backups.toString(), "--data", restored.toString(), "--index", "1");
        assertEquals(2, badIndex.exit(), badIndex.all());
        assertTrue(badIndex.err().contains("--index 1 is outside this chain"), badIndex.all());
        String restore = ok(CliRun.of("restore", "--from", backups.toString(), "--data", restored.toString())).out();
        assertTrue(restore.contains("restored to index "), restore);
        assertTrue(restore.contains(": 000001-full + 000004-diff..."), "says which backups it used: " + restore);
        ok(cliAt(survivors, "kv", "put", "after/restore", "2"));
        startServer(5, restored, null, 1, 2);
        ok(cliAt(survivors, "member", "add", "5", "--address", servers.memberAddress(5)));
        assertTrue(ok(cliAt(survivors, "member", "promote", "5")).out().startsWith("node 5 promoted; voters now [1, 2, 5]"));
        // Stale reads at node 5 alone show what it holds: the backup's keys, then what it missed.
        String node5 = "5=" + client(5);
        await().atMost(WAIT).until(() -> CliRun.of("kv", "get", "-c", node5, "--cluster-id", "cli-test", "--read", "stale",
                "after/restore").exit() == 0);
        CliRun fromBackup = CliRun.of("kv", "get", "-c", node5, "--cluster-id", "cli-test", "--read", "stale", "after/full");
        assertEquals("1\n", fromBackup.out(), fromBackup.all());
        await().atMost(WAIT).until(() -> cliAt(cluster(1, 2, 5), "status").exit() == 0);
    }
}
