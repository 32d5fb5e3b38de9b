package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link RaftServer#status()} for operators: the leader's view of its followers, uptime, snapshot index, log size. */
class ServerStatusTest {

    private static final Set<Long> NODES = Set.of(1L, 2L, 3L);
    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theLeaderSeesEachFollowersMatchAndLivenessAndOnlyTheLeaderDoes() throws Exception {
        cluster = new RuntimeCluster(NODES, b -> { }).startAll();
        ClientSession session = cluster.openSession();
        for (int i = 0; i < 20; i++) {
            cluster.submit(session, put("k" + i, "v"));
        }
        RaftServer leader = cluster.awaitLeader();
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> {
            ServerStatus s = leader.status();
            return s.followers().size() == 2 && s.followers().values().stream()
                    .allMatch(f -> f.live() && f.lag() == 0 && f.match() == s.lastIndex());
        });
        ServerStatus s = leader.status();
        assertEquals(Set.of(1L, 2L, 3L), union(s.followers().keySet(), leader.id()), "every other member, not itself");
        s.followers().values().forEach(f -> assertTrue(!f.learner() && !f.recovering(), f.toString()));
        assertTrue(s.uptime().toMillis() >= 0, s.uptime().toString());
        assertEquals(-1, s.logBytes(), "the in-memory log does not know its size");
        for (RaftServer other : cluster.running()) {
            if (other.id() != leader.id()) {
                assertTrue(other.status().followers().isEmpty(), "a follower has no view of the others");
            }
        }

        // A follower that stops: the leader stops hearing from it, and it falls behind.
        long gone = s.followers().keySet().iterator().next();
        cluster.stop(gone);
        for (int i = 0; i < 10; i++) {
            cluster.submit(session, put("after" + i, "v"));
        }
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> {
            ServerStatus.Follower f = cluster.awaitLeader().status().followers().get(gone);
            return f != null && !f.live() && f.lag() >= 10;
        });
    }

    @Test
    void theSnapshotIndexIsTheNewestSnapshotStored() throws Exception {
        cluster = new RuntimeCluster(NODES, b -> { }).startAll();
        ClientSession session = cluster.openSession();
        for (int i = 0; i < 5; i++) {
            cluster.submit(session, put("k" + i, "v"));
        }
        RaftServer leader = cluster.awaitLeader();
        assertEquals(0, leader.status().snapshotIndex(), "no snapshot yet");
        long index = leader.snapshotNow().get(RuntimeCluster.TIMEOUT.toSeconds(), TimeUnit.SECONDS).meta().index();
        assertTrue(index > 0);
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> leader.status().snapshotIndex() == index);
    }

    private static Set<Long> union(Set<Long> ids, long one) {
        Set<Long> all = new TreeSet<>(ids);
        all.add(one);
        return all;
    }
}
