package dev.raftkit.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.node.RaftNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's version of "a wiped node rejoining under its old id": three {@code raftkit
 * server --bootstrap 1,2,3} commands; follower 3 stops; 20 keys are acknowledged by leader 1 and
 * follower 2; 2 stops and its data directory is emptied; 1 stops; 3 and then 2 are started again
 * with exactly the commands they were first started with. Founding again would give 2 an empty
 * log and no memory of its vote, elect 3, and lose the 20 keys (thesis §3.8). Instead 2 finds that
 * the cluster exists, rejoins recovering, and the keys are all there once 1 is back.
 */
class WipedFounderTest {

    @TempDir
    Path dir;

    private CliServers servers;

    @AfterEach
    void stopAll() {
        if (servers != null) {
            servers.close();
        }
    }

    private CliServers.Running start(long id, long... peers) throws Exception {
        return servers.start(id, dir.resolve("n" + id), "1,2,3", List.of(), peers);
    }

    private static CliRun ok(CliRun r) {
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    @Test
    void aFounderWhoseDirectoryWasEmptiedRejoinsRecoveringAndNoAcknowledgedKeyIsLost() throws Exception {
        servers = new CliServers(1, 2, 3);
        start(1, 2, 3);
        start(2, 1, 3);
        start(3, 1, 2);
        String all = servers.cluster(1, 2, 3);
        await().atMost(CliServers.WAIT).until(() -> CliServers.cliAt(all, "status").exit() == 0);
        ok(CliServers.cliAt(all, "transfer", "--to", "1"));

        servers.stop(3);
        for (int i = 0; i < 20; i++) {
            ok(CliServers.cliAt(servers.cluster(1, 2), "kv", "put", "k" + i, "v" + i));
        }
        servers.stop(2);
        emptyDirectory(dir.resolve("n2"));
        servers.stop(1);

        start(3, 1, 2);
        CliServers.Running wiped = start(2, 1, 3);
        // Node 3 cannot be elected on node 2's vote, so nothing may answer as if the keys were never
        // written: the read either waits for a leader until it gives up, or finds the value.
        CliRun read = CliRun.of("kv", "get", "k0", "-c", servers.cluster(2, 3), "--cluster-id", CliServers.CLUSTER,
                "--timeout", "3");
        assertFalse(read.err().contains("not found"), read.all());
        assertTrue(read.exit() != 0 || read.out().equals("v0\n"), read.all());

        assertTrue(wiped.out().toString().contains("RECOVERING: the data directory is empty but the cluster already"
                + " exists"), wiped.out().toString());
        RaftNode node2 = wiped.command().ready.get(CliServers.WAIT.toSeconds(), TimeUnit.SECONDS);
        assertTrue(node2.server().status().recovering());
        String status = CliServers.cliAt(servers.cluster(2, 3), "status").out();
        assertTrue(status.contains("node 2 is recovering"), status);

        start(1, 2, 3);
        for (int i = 0; i < 20; i++) {
            assertEquals("v" + i + "\n", ok(CliServers.cliAt(all, "kv", "get", "k" + i)).out());
        }
        await().atMost(CliServers.WAIT).until(() -> !node2.server().status().recovering());
        ok(CliServers.cliAt(all, "kv", "put", "after", "x"));
        await().atMost(CliServers.WAIT).until(() -> node2.server().status().applied()
                >= servers.running(1).command().ready.get().server().status().commit());
    }

    private static void emptyDirectory(Path d) throws IOException {
        try (Stream<Path> files = Files.walk(d)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(d)) {
                    Files.delete(p);
                }
            }
        }
    }
}
