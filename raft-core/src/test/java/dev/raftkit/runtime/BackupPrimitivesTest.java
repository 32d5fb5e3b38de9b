package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.LogCompactedException;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** snapshotNow, the log-retention pin and readCommitted: the runtime's building blocks for backups. */
class BackupPrimitivesTest {

    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void snapshotNowCoversTheAppliedIndexAndReadCommittedReturnsTheLogAfterIt() throws Exception {
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), b -> b.snapshotThresholds(1_000_000, 1L << 40)).startAll();
        ClientSession session = cluster.openSession();
        for (int i = 0; i < 20; i++) {
            cluster.submit(session, put("k" + i, "v"));
        }
        RaftServer follower = cluster.running().stream().filter(s -> !s.status().isLeader()).findFirst().orElseThrow();
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 20);
        follower.retainLogFrom(1);
        SnapshotDescriptor d = follower.snapshotNow().get(10, TimeUnit.SECONDS);
        assertTrue(d.meta().index() >= 20, "the snapshot covers the applied commands: " + d);
        assertEquals(d, follower.snapshotNow().get(10, TimeUnit.SECONDS), "nothing applied since: same snapshot");

        for (int i = 20; i < 30; i++) {
            cluster.submit(session, put("k" + i, "w"));
        }
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 30);
        List<Entry> after = follower.readCommitted(d.meta().index() + 1, Long.MAX_VALUE, 1 << 20).get(10, TimeUnit.SECONDS);
        assertEquals(d.meta().index() + 1, after.get(0).index());
        assertTrue(after.size() >= 10, "the ten later commands are committed: " + after);
        assertTrue(after.get(after.size() - 1).index() <= follower.status().commit(), "never past the commit index");
        // The pin at 1 kept everything, although a snapshot at d was taken.
        assertEquals(1, follower.readCommitted(1, 1, 1).get(10, TimeUnit.SECONDS).get(0).index());

        follower.releaseLogRetention();
        SnapshotDescriptor later = follower.snapshotNow().get(10, TimeUnit.SECONDS);
        assertTrue(later.meta().index() > d.meta().index());
        // The log writer compacts right after the snapshot is committed, so wait for it.
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> {
            try {
                follower.readCommitted(1, 5, 1 << 20).get(10, TimeUnit.SECONDS);
                return false;
            } catch (ExecutionException gone) {
                assertInstanceOf(LogCompactedException.class, gone.getCause(), "unpinned entries were compacted away");
                return true;
            }
        });
    }
}
