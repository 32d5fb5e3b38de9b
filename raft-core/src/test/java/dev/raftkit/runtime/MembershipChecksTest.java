package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.testkit.runtime.RuntimeCluster;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Membership changes are checked before they are proposed: a voter is added only as a learner that
 * is live and has caught up, and a change that would leave the voters without a live quorum is
 * refused with the arithmetic unless forced.
 */
class MembershipChecksTest {

    private RuntimeCluster cluster;

    @AfterEach
    void tearDown() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static RaftException refusal(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(5, TimeUnit.SECONDS));
        return assertInstanceOf(RaftException.class, e.getCause());
    }

    /** The finding: voters [1, 3, 98, 99] (98 and 99 do not exist) left the cluster without a quorum for good. */
    @Test
    void addingNonExistentVotersIsRefusedAndTheClusterKeepsQuorum() {
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), b -> { }).startAll();
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("before", "v"));
        RaftServer leader = cluster.awaitLeader();

        for (long ghost : new long[] {98, 99}) {
            RaftException direct = refusal(leader.addVoter(ghost));
            assertEquals(RaftException.Reason.INVALID, direct.reason());
            assertTrue(direct.getMessage().contains("node " + ghost + " is not a learner")
                    && direct.getMessage().contains("add it as a learner first"), direct.getMessage());
        }
        // As learners they are harmless, but they are never promoted: they never answer.
        cluster.retry(l -> l.addLearner(98));
        RaftException promote = refusal(cluster.awaitLeader().promote(98));
        assertEquals(RaftException.Reason.NOT_CAUGHT_UP, promote.reason());
        assertTrue(promote.getMessage().contains("learner 98 has not answered the leader"), promote.getMessage());

        // Removing node 2 would now leave [1, 3] — fine, both live — but the ghosts never vote.
        assertEquals(Set.of(1L, 2L, 3L), cluster.awaitLeader().status().conf().voters());
        cluster.submit(session, put("after", "v"));
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 2);
    }

    @Test
    void removingANodeThatWouldLeaveNoLiveQuorumIsRefusedUnlessForced() {
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), b -> { }).startAll();
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("k", "v"));
        RaftServer leader = cluster.awaitLeader();
        long[] followers = Set.of(1L, 2L, 3L).stream().filter(id -> id != leader.id()).sorted()
                .mapToLong(Long::longValue).toArray();
        long down = followers[0];
        long removed = followers[1];

        cluster.net.isolate(down);
        long isolatedAt = leader.loop.tickCount();
        // One election timeout (10 ticks) and a margin later, the leader no longer counts it live.
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> leader.loop.tickCount() > isolatedAt + 12);

        RaftException refused = refusal(leader.remove(removed));
        assertEquals(RaftException.Reason.INVALID, refused.reason());
        Set<Long> left = new TreeSet<>(Set.of(leader.id(), down));
        String expected = "removing node " + removed + " leaves voters " + left.toString().replace(" ", "")
                + " of which 1 is live [" + leader.id() + "]; a quorum needs 2";
        assertTrue(refused.getMessage().contains(expected), refused.getMessage());
        assertEquals(Set.of(1L, 2L, 3L), leader.status().conf().voters(), "nothing was proposed");
        // The cluster still commits.
        cluster.submit(session, put("k2", "v"));

        // Forced, it goes through; once the missing node is back the two voters commit again.
        ConfState forced = cluster.retry(l -> l.remove(removed, true));
        assertEquals(left, forced.voters());
        cluster.stop(removed);
        cluster.net.heal();
        cluster.submit(session, put("k3", "v"));
        cluster.awaitSameState(left, 3);
    }

    @Test
    void aLearnerThatCaughtUpIsPromotedAndAddVoterPromotesIt() {
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), b -> { }).startAll();
        ClientSession session = cluster.openSession();
        for (int i = 0; i < 20; i++) {
            cluster.submit(session, put("m" + i, "v"));
        }
        cluster.start(4);
        cluster.retry(l -> l.addLearner(4));
        cluster.awaitSameState(Set.of(1L, 2L, 3L, 4L), 20);
        ConfState promoted = cluster.retry(l -> l.addVoter(4));
        assertEquals(Set.of(1L, 2L, 3L, 4L), promoted.voters());
    }

    @Test
    void aRecoveringMemberIsNotLiveForAQuorumNorPromoted() {
        // A wiped member answers heartbeats but neither votes nor counts toward a commit until it
        // has caught up (§3.8): removing the one healthy follower would leave no live quorum.
        cluster = new RuntimeCluster(Set.of(1L, 2L, 3L), b -> { }).startAll();
        ClientSession session = cluster.openSession();
        cluster.submit(session, put("k", "v"));
        RaftServer leader = cluster.awaitLeader();
        long[] followers = Set.of(1L, 2L, 3L).stream().filter(id -> id != leader.id()).sorted()
                .mapToLong(Long::longValue).toArray();
        long wiped = followers[0];
        long healthy = followers[1];
        // It hears heartbeats but no appends, so it stays recovering.
        cluster.net.dropIf(m -> m instanceof AppendEntries && m.to() == wiped);
        cluster.restartWiped(wiped);
        assertTrue(cluster.server(wiped).status().recovering());
        // A few heartbeat rounds (every 2 ticks) and the leader has its answers, which say recovering.
        long restartedAt = leader.loop.tickCount();
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> leader.loop.tickCount() > restartedAt + 6);

        RaftException refused = refusal(leader.remove(healthy));
        assertEquals(RaftException.Reason.INVALID, refused.reason());
        assertTrue(refused.getMessage().contains("of which 1 is live [" + leader.id() + "]"), refused.getMessage());
        assertEquals(Set.of(1L, 2L, 3L), leader.status().conf().voters(), "nothing was proposed");

        // Once it may catch up, it counts again.
        cluster.net.heal();
        await().atMost(RuntimeCluster.TIMEOUT).until(() -> !cluster.server(wiped).status().recovering());
        ConfState removed = cluster.retry(l -> l.remove(healthy));
        assertEquals(Set.of(leader.id(), wiped), removed.voters());
    }
}
