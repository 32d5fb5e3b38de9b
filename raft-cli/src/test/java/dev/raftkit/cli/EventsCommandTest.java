package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.runtime.ProtocolEvent;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code raftkit events}: a running node's protocol events, followed through its admin service. */
class EventsCommandTest {

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
    void eventsFollowsANodeAndStopsAfterCount() throws Exception {
        servers = new CliServers(1, 2, 3);
        servers.start(1, dir.resolve("n1"), "1,2,3", List.of(), 2, 3);
        servers.start(2, dir.resolve("n2"), "1,2,3", List.of(), 1, 3);
        servers.start(3, dir.resolve("n3"), "1,2,3", List.of(), 1, 2);
        await().atMost(CliServers.WAIT).until(() -> cli("status").exit() == 0);

        // The recent past, as a person reads it: the node's first events (its configuration).
        CliRun human = cli("events", "--node", "2", "--since", "5m", "--count", "3");
        assertEquals(0, human.exit(), human.all());
        String[] lines = human.out().split("\n");
        assertEquals(3, lines.length, human.out());
        for (String line : lines) {
            assertTrue(line.matches("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z node 2( term \\d+)? [a-z-]+: .+"), line);
        }
        assertTrue(lines[0].contains(" conf-applied: "), lines[0]);

        // Live, as JSON lines of the shared schema: leadership moves to node 3 and back while the
        // command follows it; it stops after two events.
        CompletableFuture<CliRun> live = CompletableFuture.supplyAsync(
                () -> cli("events", "--node", "3", "--json", "--count", "2"));
        for (int i = 0; !live.isDone() && i < 20; i++) {
            cli("transfer", "--to", i % 2 == 0 ? "3" : "1");
        }
        await().atMost(CliServers.WAIT).until(live::isDone);
        CliRun json = live.get();
        assertEquals(0, json.exit(), json.all());
        List<String> events = List.of(json.out().split("\n"));
        assertEquals(2, events.size(), json.out());
        for (String line : events) {
            ProtocolEvent e = ProtocolEvent.fromJson(line);
            assertEquals(3, e.node(), line);
            assertTrue(e.term() > 0, line);
            assertEquals(line, e.toJson());
        }
    }

    @Test
    void badArgumentsAndAWrongClusterAreRefused() throws Exception {
        servers = new CliServers(1);
        servers.start(1, dir.resolve("n1"), "1", List.of());
        await().atMost(CliServers.WAIT).until(() -> CliServers.cliAt(servers.client(1), "status").exit() == 0);

        CliRun zero = CliServers.cliAt(servers.client(1), "events", "--count", "0");
        assertEquals(2, zero.exit(), zero.all());
        assertTrue(zero.err().contains("--count 0 must be at least 1"), zero.all());

        CliRun other = CliRun.of("events", "-c", "1=" + servers.client(1), "--cluster-id", "other", "--count", "1");
        assertEquals(1, other.exit(), other.all());
        assertTrue(other.err().contains("node 1: could not follow the events of the node at " + servers.client(1)
                + ": FAILED_PRECONDITION (node 1 belongs to cluster 'cli-test', not 'other'"), other.all());
    }
}
