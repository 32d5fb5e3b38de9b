package dev.raftkit.storage.backup;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.runtime.ClientSession;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.storage.FileIo;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backup taken on a follower holds every write acknowledged before it was asked for: the
 * follower first applies a read index from the leader (thesis §6.4), because it learns that an
 * entry committed only from the leader's next message. A follower that reaches no leader still
 * takes the backup, of what it has applied, and says so.
 */
class FollowerBackupTest {

    @TempDir
    Path tmp;

    @Test
    void aFollowersBackupHoldsEveryWriteAcknowledgedBeforeIt() throws Exception {
        try (RuntimeCluster cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), b -> { })) {
            cluster.startAll();
            ClientSession session = cluster.openSession();
            RaftServer follower = follower(cluster);
            for (int round = 0; round < 3; round++) {
                // The follower misses the messages that commit these writes; a majority acknowledges them.
                cluster.net.isolate(follower.id());
                for (int i = 0; i < 5; i++) {
                    cluster.submit(session, put("k" + round + "-" + i, "v"));
                }
                long acknowledged = cluster.awaitLeader().status().applied();
                cluster.net.heal();

                BackupService backups = new BackupService(follower, cluster.snapshots(follower.id()), "c",
                        tmp.resolve("round-" + round));
                BackupService.Result r = backups.full();

                assertNull(r.staleReason(), "the follower reached the leader for a read index");
                assertTrue(r.manifest().lastIndex() >= acknowledged, "the backup ends at " + r.manifest().lastIndex()
                        + ", before the acknowledged write at " + acknowledged);
            }
        }
    }

    @Test
    void aFollowerCutOffFromEveryLeaderStillBacksUpWhatItHasAppliedAndSaysSo() throws Exception {
        try (RuntimeCluster cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), b -> { })) {
            cluster.startAll();
            ClientSession session = cluster.openSession();
            cluster.submit(session, put("k", "v"));
            RaftServer follower = follower(cluster);
            cluster.awaitSameState(Set.of(1L, 2L, 3L), 1);
            cluster.net.isolate(follower.id());
            long applied = follower.status().applied();

            BackupService.Result r = new BackupService(follower, cluster.snapshots(follower.id()), "c",
                    tmp.resolve("backups")).full();

            assertNotNull(r.staleReason(), "an isolated follower cannot know what the cluster acknowledged");
            assertTrue(r.staleReason().contains("no read index"), r.staleReason());
            assertEquals(applied, r.manifest().lastIndex(), "it backs up what it had applied");
            BackupChain.verify(BackupChain.backupDirs(FileIo.real(), tmp.resolve("backups")));
        }
    }

    private static RaftServer follower(RuntimeCluster cluster) throws Exception {
        RaftServer leader = cluster.awaitLeader();
        return cluster.running().stream().filter(s -> s.id() != leader.id()).findFirst().orElseThrow();
    }
}
