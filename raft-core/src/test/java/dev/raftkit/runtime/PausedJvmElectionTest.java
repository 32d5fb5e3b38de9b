package dev.raftkit.runtime;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.testkit.runtime.LocalNetwork;
import dev.raftkit.testkit.runtime.MapStateMachine;
import dev.raftkit.testkit.runtime.MemorySnapshotStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three nodes in one JVM, each raft loop on a thread of its own and ticked by hand, with
 * CheckQuorum (so lease reads) on. A pause of the whole process (a long GC pause) stops every loop
 * while the timers keep counting; on resuming, every node finds many ticks at once
 * ({@code RaftCore.tick(long)}). No follower may take them as an election timeout and no leader
 * as a failed quorum check, since the others were stopped just as long; a leader that truly stops
 * is still replaced, during a pause or after one.
 */
class PausedJvmElectionTest {

    private static final List<Long> IDS = List.of(1L, 2L, 3L);
    private final List<RaftServer> servers = new ArrayList<>();
    private final List<ExecutorService> loops = new ArrayList<>();
    private final List<AtomicReference<Runnable>> ticks = new ArrayList<>();
    private LocalNetwork net;

    @AfterEach
    void tearDown() {
        servers.forEach(RaftServer::close);
        loops.forEach(ExecutorService::shutdownNow);
        if (net != null) {
            net.close();
        }
    }

    private void start() throws Exception {
        net = new LocalNetwork();
        for (long id : IDS) {
            ExecutorService loop = Executors.newSingleThreadExecutor();
            AtomicReference<Runnable> tick = new AtomicReference<>();
            loops.add(loop);
            ticks.add(tick);
            servers.add(RaftServer.builder(RaftConfig.builder(id).electionTicks(10).heartbeatTicks(1)
                            .checkQuorum(true).build())
                    .logStorage(new MemoryLogStorage()).snapshotStore(new MemorySnapshotStore())
                    .stateMachine(new MapStateMachine()).transport(net.transport(id)).bootstrap(Set.copyOf(IDS))
                    .raftLoopExecutor(loop)
                    .tickSource(t -> {
                        tick.set(t);
                        return () -> { };
                    }).start());
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            tickAll(Set.copyOf(IDS));
            return leader() != null;
        });
    }

    /** One tick to each of {@code ids}, then waits until their loops have taken it. */
    private void tickAll(Set<Long> ids) throws Exception {
        for (int i = 0; i < IDS.size(); i++) {
            if (ids.contains(IDS.get(i))) {
                ticks.get(i).get().run();
            }
        }
        for (int i = 0; i < IDS.size(); i++) {
            if (ids.contains(IDS.get(i))) {
                loops.get(i).submit(() -> { }).get(10, TimeUnit.SECONDS);
            }
        }
    }

    /** {@code n} ticks from every node's timer, taken by no loop yet (they are held). */
    private void timersRunWhileLoopsAreHeld(int n) {
        for (int t = 0; t < n; t++) {
            ticks.forEach(tick -> tick.get().run());
        }
    }

    /** Holds a loop's thread, as a stopped process would, until {@code latch} opens. */
    private static void waitFor(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private RaftServer leader() {
        return servers.stream().filter(s -> s.status().isLeader()).findFirst().orElse(null);
    }

    private long maxTerm() {
        return servers.stream().mapToLong(s -> s.status().term()).max().orElseThrow();
    }

    @Test
    void ticksPiledUpWhileTheWholeJvmWasPausedStartNoElection() throws Exception {
        start();
        RaftServer leader = leader();
        long term = maxTerm();
        for (int round = 0; round < 5; round++) {
            CountDownLatch resume = new CountDownLatch(1);
            loops.forEach(l -> l.execute(() -> waitFor(resume)));
            timersRunWhileLoopsAreHeld(60); // six election timeouts
            resume.countDown();
            for (int t = 0; t < 3; t++) {
                tickAll(Set.copyOf(IDS));
            }
        }
        assertEquals(term, maxTerm(), "no election after the pauses");
        assertTrue(leader.status().isLeader(), "the leader still leads");
    }

    @Test
    void aLeaderWhoseLoopStopsIsStillReplacedByFollowersTakingTicksOneByOne() throws Exception {
        start();
        RaftServer leader = leader();
        long term = maxTerm();
        int stopped = servers.indexOf(leader);
        CountDownLatch resume = new CountDownLatch(1);
        loops.get(stopped).execute(() -> waitFor(resume));
        assertReplacedByTheOthersTicking(leader, term, resume);
    }

    @Test
    void aLeaderThatStaysStoppedAfterAPauseIsReplacedOnceTheFollowersResume() throws Exception {
        start();
        RaftServer leader = leader();
        long term = maxTerm();
        int stopped = servers.indexOf(leader);
        CountDownLatch followersResume = new CountDownLatch(1);
        CountDownLatch leaderResumes = new CountDownLatch(1);
        for (int i = 0; i < IDS.size(); i++) {
            CountDownLatch latch = i == stopped ? leaderResumes : followersResume;
            loops.get(i).execute(() -> waitFor(latch));
        }
        timersRunWhileLoopsAreHeld(60);
        followersResume.countDown();
        // The burst holds each follower's timer short of expiring; single ticks then expire it.
        assertReplacedByTheOthersTicking(leader, term, leaderResumes);
    }

    /**
     * Ticks every node but {@code leader}, one tick at a time, until one of them leads in a term
     * after {@code term}; then lets {@code leader}'s loop go on ({@code resume}).
     */
    private void assertReplacedByTheOthersTicking(RaftServer leader, long term, CountDownLatch resume)
            throws Exception {
        Set<Long> others = new java.util.HashSet<>(IDS);
        others.remove(IDS.get(servers.indexOf(leader)));
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                tickAll(others);
                return servers.stream().anyMatch(s -> s != leader && s.status().isLeader());
            });
        } finally {
            resume.countDown();
        }
        assertTrue(maxTerm() > term, "a new term");
    }
}
