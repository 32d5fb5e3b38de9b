package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.Status;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Snapshots, log compaction and InstallSnapshot; membership changes and leadership transfer. */
class SnapshotAndMembershipTest {

    private RuntimeCluster cluster;
    private final Map<Long, AtomicInteger> installed = new ConcurrentHashMap<>();
    private final Map<Long, AtomicInteger> taken = new ConcurrentHashMap<>();

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private RaftListener counting(long id) {
        return new RaftListener() {
            @Override
            public void onSnapshotInstalled(SnapshotMeta snapshot) {
                installed.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            }

            @Override
            public void onSnapshotTaken(SnapshotDescriptor snapshot) {
                taken.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
            }
        };
    }

    @Test
    void aNodeBehindTheCompactedLogCatchesUpByInstallSnapshot() {
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), (id, b) -> b.snapshotThresholds(50, 1 << 30)
                .listener(counting(id))).startAll();
        RaftServer leader = cluster.awaitLeader();
        long lagging = leader.id() == 3 ? 2 : 3;
        cluster.net.isolate(lagging);
        ClientSession session = cluster.openSession();
        for (int i = 0; i < 300; i++) {
            cluster.submit(session, put("s" + i, "v"));
        }
        // The majority snapshotted and compacted past everything the lagging node holds.
        long laggingApplied = cluster.server(lagging).status().applied();
        RaftServer now = cluster.awaitLeader();
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> {
            Status st = now.detailedStatus().get();
            return st.firstIndex() > laggingApplied + 1;
        });
        // Listeners hear of snapshots on the event thread, after the state changed: wait for the event.
        await("the leader took snapshots").atMost(RuntimeCluster.TIMEOUT)
                .until(() -> taken.getOrDefault(now.id(), new AtomicInteger()).get() > 0);

        cluster.net.heal();
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 300);
        await("node " + lagging + " caught up by InstallSnapshot").atMost(RuntimeCluster.TIMEOUT)
                .until(() -> installed.getOrDefault(lagging, new AtomicInteger()).get() > 0);
        // And it keeps up with new entries after the snapshot.
        for (int i = 300; i < 320; i++) {
            cluster.submit(session, put("s" + i, "w"));
        }
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 320);

        // A restart of the node that installed a snapshot resumes from it.
        cluster.stop(lagging);
        RaftServer back = cluster.start(lagging);
        assertTrue(back.status().applied() >= 50);
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 320);
    }

    @Test
    void addALearnerPromoteItRemoveAVoterAndTransferLeadership() {
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), b -> { }).startAll();
        ClientSession session = cluster.openSession();
        for (int i = 0; i < 50; i++) {
            cluster.submit(session, put("m" + i, "v"));
        }
        cluster.start(4);
        ConfState withLearner = cluster.retry(l -> l.addLearner(4));
        assertTrue(withLearner.isLearner(4), withLearner.toString());
        cluster.awaitSameState(Set.of(1L, 2L, 3L, 4L), 50);

        ConfState promoted = cluster.retry(l -> l.promote(4));
        assertEquals(Set.of(1L, 2L, 3L, 4L), promoted.voters());

        ConfState removed = cluster.retry(l -> l.remove(1));
        assertEquals(Set.of(2L, 3L, 4L), removed.voters());
        cluster.stop(1);

        RaftServer leader = cluster.awaitLeader();
        long target = leader.id() == 4 ? 2 : 4;
        cluster.retry(l -> l.transferLeadership(target));
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> cluster.server(target).status().isLeader());

        for (int i = 50; i < 60; i++) {
            cluster.submit(session, put("m" + i, "w"));
        }
        cluster.awaitSameState(Set.of(2L, 3L, 4L), 60);
        assertEquals(Set.of(2L, 3L, 4L), cluster.server(4).status().conf().voters());
    }
}
