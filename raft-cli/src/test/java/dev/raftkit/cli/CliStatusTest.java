package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.Role;
import dev.raftkit.grpc.NodeStatus;
import dev.raftkit.testkit.http.JsonReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code raftkit status} beyond roles and indexes: each follower's lag and health, each server's
 * version, uptime, snapshot index and log size, in the table and in {@code --json}, and
 * {@code --watch}; against three {@code raftkit server} commands in this JVM.
 */
class CliStatusTest {

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
        return CliServers.cliAt(servers.cluster(1, 2, 3), args);
    }

    @Test
    void theTableAndTheJsonShowLagHealthVersionUptimeSnapshotAndLogSize() throws Exception {
        servers = new CliServers(1, 2, 3);
        servers.start(1, dir.resolve("n1"), "1,2,3", List.of(), 2, 3);
        servers.start(2, dir.resolve("n2"), "1,2,3", List.of(), 1, 3);
        servers.start(3, dir.resolve("n3"), "1,2,3", List.of(), 1, 2);
        await().atMost(CliServers.WAIT).until(() -> cli("status").exit() == 0);
        for (int i = 0; i < 5; i++) {
            assertEquals(0, cli("kv", "put", "k" + i, "v" + i).exit());
        }
        CliRun snap = cli("snapshot", "--node", "2");
        assertEquals(0, snap.exit(), snap.all());
        Matcher at = Pattern.compile("at index (\\d+)").matcher(snap.out());
        assertTrue(at.find(), snap.out());
        long snapshotIndex = Long.parseLong(at.group(1));

        // Every follower caught up: the leader sees a lag of 0 once its last entry is acknowledged.
        await().atMost(CliServers.WAIT).until(() -> {
            CliRun r = cli("status", "--json");
            return r.exit() == 0 && nodes(r).stream().filter(n -> !"LEADER".equals(n.get("role")))
                    .allMatch(n -> Long.valueOf(0).equals(n.get("lag")));
        });
        CliRun j = cli("status", "--json");
        List<Map<String, Object>> nodes = nodes(j);
        assertEquals(3, nodes.size(), j.all());
        for (Map<String, Object> n : nodes) {
            assertEquals("ok", n.get("health"), n.toString());
            assertTrue(String.valueOf(n.get("version")).matches("\\d+\\.\\d+\\.\\d+.*"), "a Maven version: " + n);
            assertTrue((Long) n.get("uptimeMillis") > 0, n.toString());
            assertTrue((Long) n.get("logBytes") > 0, "every log holds the entries: " + n);
            if ("LEADER".equals(n.get("role"))) {
                assertTrue(n.containsKey("lag") && n.get("lag") == null, "the leader lags nobody: " + n);
            } else {
                assertEquals(0L, n.get("lag"), n.toString());
            }
            if ((Long) n.get("id") == 2) {
                assertTrue((Long) n.get("snapshotIndex") >= snapshotIndex, "node 2 snapshotted: " + n);
            }
        }

        String table = cli("status").out();
        String header = table.lines().findFirst().orElseThrow();
        assertTrue(header.matches("NODE +ROLE +TERM +LEADER +COMMIT +APPLIED +LAST +ADDRESS +LAG +HEALTH +SNAPSHOT"
                + " +LOG +UPTIME +VERSION"), header);
        List<String> rows = table.lines().filter(l -> l.matches("\\d+ +(LEADER|FOLLOWER) .*")).toList();
        assertEquals(3, rows.size(), table);
        for (String row : rows) {
            // ... ADDRESS LAG HEALTH SNAPSHOT LOG UPTIME VERSION
            Matcher m = Pattern.compile("127\\.0\\.0\\.1:\\d+ +(-|\\d+) +ok +(\\d+) +\\d+(\\.\\d)? (B|KiB|MiB) +"
                    + "(\\d+s|\\d+m\\d\\ds) +\\d+\\.\\d+\\.\\d+\\S*$").matcher(row);
            assertTrue(m.find(), row);
            assertEquals(row.contains("LEADER"), m.group(1).equals("-"), "a lag for followers only: " + row);
        }

        // A node that stopped: unreachable in both forms, the others still read.
        servers.stop(3);
        CliRun down = cli("status", "--json");
        assertEquals(1, down.exit(), down.all());
        Map<String, Object> three = nodes(down).get(2);
        assertEquals(false, three.get("reachable"), three.toString());
        assertEquals("unreachable", three.get("health"));
        CliRun downTable = cli("status");
        assertTrue(downTable.out().lines().anyMatch(l -> l.matches("\\?\\s+UNREACHABLE(\\s+-){5}\\s+"
                + Pattern.quote(servers.client(3)))), downTable.all());
    }

    @Test
    void watchRefreshesTheTableUntilItsCount() throws Exception {
        servers = new CliServers(1);
        servers.start(1, dir.resolve("n1"), "1", List.of());
        await().atMost(CliServers.WAIT).until(() -> CliServers.cliAt(servers.cluster(1), "status").exit() == 0);
        CliRun r = CliServers.cliAt(servers.cluster(1), "status", "--watch", "100ms", "--count", "2");
        assertEquals(0, r.exit(), r.all());
        String[] tables = r.out().split("\n\n");
        assertEquals(2, tables.length, "two tables, a blank line between (no terminal here): " + r.out());
        for (String t : tables) {
            assertTrue(t.startsWith("NODE "), t);
            assertTrue(Pattern.compile("(?m)^1 +LEADER ").matcher(t).find(), t);
        }
        CliRun json = CliServers.cliAt(servers.cluster(1), "status", "--watch", "100ms", "--count", "2", "--json");
        assertEquals(0, json.exit(), json.all());
        List<String> lines = json.out().lines().toList();
        assertEquals(2, lines.size(), "one object per refresh: " + json.out());
        long first = uptimeOf(lines.get(0));
        long second = uptimeOf(lines.get(1));
        assertTrue(second >= first + 100, "refreshed, not repeated: " + first + " then " + second);

        // --watch alone: every 2 s.
        CliRun byDefault = CliServers.cliAt(servers.cluster(1), "status", "--watch", "--count", "2", "--json");
        assertEquals(0, byDefault.exit(), byDefault.all());
        List<String> twoLines = byDefault.out().lines().toList();
        assertEquals(2, twoLines.size(), byDefault.out());
        assertTrue(uptimeOf(twoLines.get(1)) - uptimeOf(twoLines.get(0)) >= 2000, byDefault.out());

        CliRun badCount = CliServers.cliAt(servers.cluster(1), "status", "--count", "2");
        assertEquals(2, badCount.exit(), badCount.all());
        assertTrue(badCount.err().contains("--count needs --watch"), badCount.all());
    }

    @Test
    void healthIsTheLeadersView() {
        NodeStatus follower = status(2, Role.FOLLOWER, true, false, List.of());
        NodeStatus leader = status(1, Role.LEADER, true, false, List.of(
                new NodeStatus.Follower(2, 90, 10, true, false, false),
                new NodeStatus.Follower(3, 0, 100, true, false, false),
                new NodeStatus.Follower(4, 50, 50, false, false, false),
                new NodeStatus.Follower(5, 0, 100, true, true, false)));
        assertEquals("ok", StatusCommand.health(follower, leader, 100));
        assertEquals(10L, StatusCommand.lag(follower, leader));
        assertEquals("lagging", StatusCommand.health(status(3, Role.FOLLOWER, true, false, List.of()), leader, 100));
        assertEquals("ok", StatusCommand.health(status(3, Role.FOLLOWER, true, false, List.of()), leader, 101));
        assertEquals("unreachable", StatusCommand.health(status(4, Role.FOLLOWER, true, false, List.of()), leader, 100),
                "the leader has not heard from it, whatever this client reached");
        assertEquals("recovering", StatusCommand.health(status(5, Role.FOLLOWER, true, false, List.of()), leader, 100));
        assertEquals("recovering", StatusCommand.health(status(6, Role.FOLLOWER, true, true, List.of()), null, 100));
        assertEquals("stopped", StatusCommand.health(status(2, Role.FOLLOWER, false, false, List.of()), leader, 100));
        assertEquals("ok", StatusCommand.health(leader, leader, 100));
        assertNull(StatusCommand.lag(leader, leader));
        assertNull(StatusCommand.lag(follower, null), "no leader answered: no lag known");
        assertEquals("ok", StatusCommand.health(follower, null, 100));
    }

    @Test
    void sizesAndUptimesReadShort() {
        assertEquals("812 B", StatusCommand.bytes(812));
        assertEquals("4.0 KiB", StatusCommand.bytes(4096));
        assertEquals("63.2 MiB", StatusCommand.bytes((long) (63.2 * 1024 * 1024)));
        assertEquals("42s", StatusCommand.uptime(Duration.ofMillis(42_900)));
        assertEquals("3m05s", StatusCommand.uptime(Duration.ofSeconds(185)));
        assertEquals("2h00m", StatusCommand.uptime(Duration.ofHours(2)));
        assertEquals("3d04h", StatusCommand.uptime(Duration.ofHours(76)));
    }

    private static NodeStatus status(long id, Role role, boolean running, boolean recovering,
                                     List<NodeStatus.Follower> followers) {
        return new NodeStatus(id, role, 3, 1, 100, 100, 100, List.of(1L, 2L, 3L), List.of(), null, running, recovering,
                "0.1.0", Duration.ofSeconds(5), 0, 1024, followers);
    }

    /** The first node's uptime in one line of {@code status --json}. */
    @SuppressWarnings("unchecked")
    private static long uptimeOf(String jsonLine) {
        return (Long) ((List<Map<String, Object>>) JsonReader.object(jsonLine).get("nodes")).get(0).get("uptimeMillis");
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> nodes(CliRun r) {
        return (List<Map<String, Object>>) JsonReader.object(r.out()).get("nodes");
    }
}
