package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.ForwardingStateMachine;
import dev.raftkit.testkit.runtime.MapStateMachine;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** RaftServer.stateDigest, snapshotNowWithDigest and StateReplay: the digest of exactly one index. */
class StateDigestTest {

    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void replicasAgreeAndAReplayOfSnapshotAndEntriesReachesTheLiveDigest() throws Exception {
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), b -> b.snapshotThresholds(1_000_000, 1L << 40)).startAll();
        ClientSession session = cluster.openSession();
        for (int i = 0; i < 20; i++) {
            cluster.submit(session, put("k" + (i % 7), "v" + i));
        }
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 20);
        RaftServer follower = cluster.running().stream().filter(s -> !s.status().isLeader()).findFirst().orElseThrow();
        long followerId = follower.id();
        follower.retainLogFrom(1);
        DigestedSnapshot snap = follower.snapshotNowWithDigest().get(10, TimeUnit.SECONDS);
        assertEquals(snap.snapshot().meta().index(), snap.state().index());
        assertNotNull(snap.state().digest());
        assertTrue(snap.state().logTimeMillis() > 0, "the leader stamped the commands: " + snap.state());

        for (int i = 20; i < 35; i++) {
            cluster.submit(session, put("k" + (i % 11), "w" + i));
        }
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 35);
        StateDigestAt live = follower.stateDigest().get(10, TimeUnit.SECONDS);
        assertNotEquals(snap.state().digest(), live.digest());
        // Every replica at the same applied index holds the same digest (nothing is written now).
        for (RaftServer s : cluster.running()) {
            StateDigestAt other = s.stateDigest().get(10, TimeUnit.SECONDS);
            if (other.index() == live.index()) {
                assertEquals(live.digest(), other.digest(), "node " + s.id() + " at " + other.index());
            }
        }

        // Offline: the snapshot, then the entries after it up to the live index.
        MapStateMachine scratch = new MapStateMachine();
        StateReplay replay = new StateReplay(scratch);
        try (SnapshotReader r = cluster.snapshots(followerId).open(snap.snapshot())) {
            replay.restore(snap.snapshot().meta(), r.input());
        }
        assertEquals(snap.state(), replay.state());
        List<Entry> after = follower.readCommitted(snap.state().index() + 1, live.index(), 1 << 20)
                .get(10, TimeUnit.SECONDS);
        replay.apply(after);
        assertEquals(live, replay.state(), "replayed entry by entry, with the sessions' decisions");
        long stamped = after.stream().filter(e -> StateReplay.leaderTimeMillis(e).isPresent()).count();
        assertTrue(stamped >= 15, "the commands carry the leader's time: " + stamped);
    }

    @Test
    void aDigestThatThrowsFailsOnlyItsRequestAndTheNodeGoesOn() throws Exception {
        AtomicBoolean broken = new AtomicBoolean(true);
        cluster = new RuntimeCluster(Set.of(1L), b -> b.stateMachine(new ForwardingStateMachine(new MapStateMachine()) {
            @Override
            public Optional<String> stateDigest() {
                if (broken.get()) {
                    throw new IllegalStateException("planted: no digest today");
                }
                return delegate.stateDigest();
            }
        })).startAll();
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("a", "1"));
        RaftServer s = cluster.server(1);
        ExecutionException e = assertThrows(ExecutionException.class, () -> s.stateDigest().get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getMessage().contains("planted"), e.toString());
        ExecutionException snap = assertThrows(ExecutionException.class,
                () -> s.snapshotNowWithDigest().get(10, TimeUnit.SECONDS));
        assertTrue(snap.getCause().getMessage().contains("planted"), snap.toString());
        cluster.submit(session, put("b", "2")); // still applying
        broken.set(false);
        assertNotNull(s.stateDigest().get(10, TimeUnit.SECONDS).digest());
        assertEquals(s.status().applied(), s.snapshotNowWithDigest().get(10, TimeUnit.SECONDS).state().index());
    }
}
