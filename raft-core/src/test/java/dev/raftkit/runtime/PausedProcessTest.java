package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.testkit.runtime.HangingLog;
import dev.raftkit.testkit.runtime.LocalNetwork;
import dev.raftkit.testkit.runtime.MapStateMachine;
import dev.raftkit.testkit.runtime.MemorySnapshotStore;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A process stopped for a while (SIGSTOP, a long GC pause) resumes with its timer catching up: many
 * ticks at once, taken by the raft loop in one round, while the write its log writer had in flight
 * is still finishing. That time is no evidence against the disk — the writer was stopped too — so
 * the node must not fail stop as if its disk were stuck; a hung fsync on a running node still does.
 */
class PausedProcessTest {

    @Test
    void ticksCaughtUpAfterAPauseDoNotCountAgainstTheDiskButTicksTakenOneByOneDo() throws Exception {
        HangingLog log = new HangingLog();
        ExecutorService loopThread = Executors.newSingleThreadExecutor();
        AtomicReference<Runnable> tick = new AtomicReference<>();
        CountDownLatch hang = new CountDownLatch(1);
        try (LocalNetwork net = new LocalNetwork();
             RaftServer server = RaftServer.builder(RaftConfig.builder(1).build())
                     .logStorage(log).snapshotStore(new MemorySnapshotStore()).stateMachine(new MapStateMachine())
                     .transport(net.transport(1)).bootstrap(Set.of(1L))
                     .diskStallTicks(5).diskStuckTicks(25)
                     .raftLoopExecutor(loopThread)
                     .tickSource(t -> {
                         tick.set(t);
                         return () -> { };
                     }).start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                tick.get().run();
                return server.status().isLeader();
            });
            log.hang = hang;
            CompletableFuture<byte[]> write = server.submit(put("a", "1"));
            loopThread.submit(() -> { }).get(10, TimeUnit.SECONDS); // the loop handed it to the writer, which hangs

            // The process stops: the loop does not run while 100 ticks (4× diskStuckTicks) pass.
            CountDownLatch resume = new CountDownLatch(1);
            loopThread.execute(() -> waitFor(resume));
            for (int i = 0; i < 100; i++) {
                tick.get().run();
            }
            resume.countDown();
            loopThread.submit(() -> { }).get(10, TimeUnit.SECONDS); // the loop took the 100 ticks
            assertNull(server.status().failure(), "a pause is not a stuck disk");
            assertTrue(server.status().running());

            // The writer finishes once resumed; the node carries on leading.
            hang.countDown();
            log.hang = null;
            write.get(10, TimeUnit.SECONDS);
            assertTrue(server.status().isLeader());

            // A hung fsync on a running node: every tick is taken as it comes, and it fails stop.
            CountDownLatch hungForGood = new CountDownLatch(1);
            log.hang = hungForGood;
            server.submit(put("b", "2"));
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    tick.get().run();
                    loopThread.submit(() -> { }).get(10, TimeUnit.SECONDS);
                    return server.status().failure() != null;
                });
                assertTrue(server.status().failure().getMessage().contains("limit diskStuckTicks 25"),
                        server.status().failure().getMessage());
            } finally {
                hungForGood.countDown();
            }
        } finally {
            loopThread.shutdownNow();
        }
    }

    private static void waitFor(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
