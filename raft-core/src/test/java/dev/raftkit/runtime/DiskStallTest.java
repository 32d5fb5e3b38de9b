package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.raftkit.core.Role;
import dev.raftkit.testkit.runtime.HangingLog;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A leader whose disk hangs (an fsync that does not return) steps down within diskStallTicks,
 * another node leads and commits meanwhile, and the stalled node rejoins once its disk answers.
 */
class DiskStallTest {

    private final Map<Long, HangingLog> logs = new ConcurrentHashMap<>();
    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        logs.values().forEach(l -> {
            if (l.hang != null) {
                l.hang.countDown();
            }
        });
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aLeaderWhoseFsyncHangsStepsDownAndAnotherCommits() throws Exception {
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), (id, b) -> b.logStorage(logs.computeIfAbsent(id, k -> new HangingLog()))
                .diskStallTicks(10)).startAll();
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("a", "1"));
        RaftServer stalled = cluster.awaitLeader();
        CountDownLatch release = new CountDownLatch(1);
        logs.get(stalled.id()).hang = release;

        // This write reaches the stalled leader's writer and waits there with its fsync.
        CompletableFuture<byte[]> stuck = session.submit(stalled, session.nextSequence(), put("b", "2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> stalled.status().role() != Role.LEADER);
        RaftServer next = cluster.awaitLeader();
        assertNotEquals(stalled.id(), next.id());
        cluster.submit(session, put("c", "3"));

        release.countDown();
        logs.get(stalled.id()).hang = null;
        // The stuck write either committed through the new leader or failed retryably; the cluster
        // converges with the stalled node a follower again.
        try {
            stuck.get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            assertEquals(true, RuntimeCluster.retryable(e.getCause()), e.toString());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> stalled.status().applied() >= next.status().commit()
                && stalled.status().role() == Role.FOLLOWER);
    }
}
