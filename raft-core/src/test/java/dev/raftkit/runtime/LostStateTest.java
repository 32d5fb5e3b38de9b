package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.bytes;
import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static dev.raftkit.testkit.runtime.MapStateMachine.string;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.HardState;
import dev.raftkit.core.ReadMode;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, bug 1, on real servers: a follower whose data directory is emptied and that restarts
 * under its old id must not help elect a leader that lacks the writes it acknowledged (§3.8).
 */
class LostStateTest {

    private static final Set<Long> NODES = Set.of(1L, 2L, 3L);
    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aWipedFollowerRejoiningUnderItsOldIdLosesNoAcknowledgedWriteAndVotesOnceCaughtUp() {
        cluster = new RuntimeCluster(NODES, b -> { }).startAll();
        long l = cluster.awaitLeader().id();
        long f = NODES.stream().filter(id -> id != l).findFirst().orElseThrow();
        long g = NODES.stream().filter(id -> id != l && id != f).findFirst().orElseThrow();

        cluster.stop(g);
        var session = cluster.openSession();
        for (int i = 0; i < 20; i++) {
            cluster.submit(session, put("k" + i, "v" + i)); // acknowledged by L and F only
        }
        cluster.stop(f);
        cluster.stop(l);
        cluster.start(g);
        RaftServer wiped = cluster.restartWiped(f);
        assertTrue(wiped.status().recovering(), "a node with no state that is not founding starts recovering");
        assertTrue(cluster.log(f).hardState().recovering(), "the flag is durable before the node runs");

        // G lacks the 20 writes; F, empty, must not give it the vote it needs.
        await().during(Duration.ofSeconds(1)).atMost(RuntimeCluster.TIMEOUT)
                .until(() -> cluster.running().stream().noneMatch(s -> s.status().isLeader()));

        cluster.start(l);
        for (int i = 0; i < 20; i += 1) {
            String key = "k" + i;
            assertEquals("v" + i, string(cluster.retry(s -> s.read(bytes(key), ReadMode.LINEARIZABLE))),
                    "acknowledged write " + key);
        }
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> !cluster.server(f).status().recovering());
        HardState hs = cluster.log(f).hardState();
        assertFalse(hs.recovering(), "leaving recovery is durable");
        assertNotEquals(0, hs.vote(), "it records a vote for the leader it caught up from");

        // F votes again: with L gone, G and F elect a leader only if F grants its vote.
        long leader = cluster.awaitLeader().id();
        cluster.stop(leader);
        long next = cluster.awaitLeader().id();
        assertNotEquals(leader, next);
        for (int i = 0; i < 20; i += 7) {
            String key = "k" + i;
            assertEquals("v" + i, string(cluster.retry(s -> s.read(bytes(key), ReadMode.LINEARIZABLE))));
        }
    }
}
