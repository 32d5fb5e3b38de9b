package dev.raftkit.runtime;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftException;
import dev.raftkit.core.Role;
import dev.raftkit.testkit.runtime.ForwardingLogStorage;
import dev.raftkit.spi.ForwardingStateMachine;
import dev.raftkit.testkit.runtime.LocalNetwork;
import dev.raftkit.testkit.runtime.MapStateMachine;
import dev.raftkit.testkit.runtime.MemorySnapshotStore;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Ready contract point 6: a failed fsync stops the node; nothing is acknowledged after it. */
class FailStopTest {

    /** A log whose sync fails once told to, like a disk that returns EIO. */
    private static final class FailingLog extends ForwardingLogStorage {
        volatile boolean failSync;

        FailingLog() {
            super(MemoryLogStorage.bootstrap(Set.of(1L)));
        }

        @Override
        public void sync() throws IOException {
            if (failSync) {
                throw new IOException("fsync of /data/log_inprogress_1 failed: Input/output error");
            }
        }
    }

    /** A state machine whose apply throws once {@link #broken} is set: a bug in the user's code. */
    static final class BreakingStateMachine extends ForwardingStateMachine {
        volatile boolean broken;

        BreakingStateMachine() {
            super(new MapStateMachine());
        }

        @Override
        public List<byte[]> apply(List<Command> commands) {
            if (broken) {
                throw new IllegalStateException("planted: apply failed");
            }
            return delegate.apply(commands);
        }
    }

    /**
     * A state machine that throws stops the node (fail-stop), and the proposers of the batch it
     * failed on hear so at once instead of waiting for their timeouts: their futures had already
     * left the pending map the stop fails.
     */
    @Test
    void aStateMachineThatThrowsStopsTheServerAndFailsTheBatchItFailedOn() throws Exception {
        BreakingStateMachine sm = new BreakingStateMachine();
        try (LocalNetwork net = new LocalNetwork();
             RaftServer server = RaftServer.builder(RaftConfig.builder(1).build())
                     .logStorage(new MemoryLogStorage()).snapshotStore(new MemorySnapshotStore()).stateMachine(sm)
                     .transport(net.transport(1)).bootstrap(Set.of(1L)).tickMillis(10).start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> server.status().isLeader());
            server.submit(put("a", "1")).get(10, TimeUnit.SECONDS);
            sm.broken = true;
            // On a loaded machine the one-node leader may step down for a slow fsync (the disk-stall
            // bound) and be re-elected: a NOT_LEADER refusal was never proposed, so propose again.
            AtomicReference<RaftException> answer = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> server.submit(put("b", "2")).get(10, TimeUnit.SECONDS));
                RaftException refused = assertInstanceOf(RaftException.class, e.getCause());
                answer.set(refused);
                return refused.reason() != RaftException.Reason.NOT_LEADER;
            });
            RaftException stopped = answer.get();
            assertEquals(RaftException.Reason.STOPPED, stopped.reason());
            assertTrue(stopped.getMessage().contains("the state machine failed applying entries"), stopped.getMessage());
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.status().running());
        }
    }

    @Test
    void aFailedFsyncStopsTheServerAndFailsWaitingRequests() throws Exception {
        FailingLog log = new FailingLog();
        AtomicReference<Throwable> stoppedWith = new AtomicReference<>();
        try (LocalNetwork net = new LocalNetwork();
             RaftServer server = RaftServer.builder(RaftConfig.builder(1).build())
                     .logStorage(log).snapshotStore(new MemorySnapshotStore()).stateMachine(new MapStateMachine())
                     .transport(net.transport(1)).tickMillis(10)
                     .listener(new RaftListener() {
                         @Override
                         public void onStopped(Throwable cause) {
                             stoppedWith.set(cause);
                         }
                     }).start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> server.status().isLeader());
            server.submit(put("a", "1")).get(10, TimeUnit.SECONDS);

            log.failSync = true;
            CompletableFuture<byte[]> lost = server.submit(put("b", "2"));
            ExecutionException e = assertThrows(ExecutionException.class, () -> lost.get(10, TimeUnit.SECONDS));
            RaftException stopped = assertInstanceOf(RaftException.class, e.getCause());
            assertEquals(RaftException.Reason.STOPPED, stopped.reason());
            assertTrue(stopped.getMessage().contains("Input/output error"), stopped.getMessage());

            assertFalse(server.status().running());
            assertInstanceOf(IOException.class, server.status().failure());
            await().atMost(Duration.ofSeconds(10)).until(() -> stoppedWith.get() != null);
            // New work is refused at once.
            assertThrows(ExecutionException.class, () -> server.submit(put("c", "3")).get(1, TimeUnit.SECONDS));
        }
    }

    /**
     * Issue 12, "a stopped node strands its clients": a leader whose disk failed stopped by design
     * but went on reporting LEADER of its term. It now reports that it leads nothing (role
     * FOLLOWER, no leader, not running, state STOPPED), and its refusals carry no leader hint
     * pointing back at itself.
     */
    @Test
    void aStoppedLeaderReportsStoppedNotLeader() throws Exception {
        FailingLog log = new FailingLog();
        try (LocalNetwork net = new LocalNetwork();
             RaftServer server = RaftServer.builder(RaftConfig.builder(1).build())
                     .logStorage(log).snapshotStore(new MemorySnapshotStore()).stateMachine(new MapStateMachine())
                     .transport(net.transport(1)).tickMillis(10).start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> server.status().isLeader());
            assertEquals(Role.LEADER, server.status().role());
            assertEquals(1, server.status().leader());
            long term = server.status().term();

            log.failSync = true;
            RaftException lost = assertInstanceOf(RaftException.class, assertThrows(ExecutionException.class,
                    () -> server.submit(put("b", "2")).get(10, TimeUnit.SECONDS)).getCause());
            assertEquals(RaftException.Reason.STOPPED, lost.reason());
            assertTrue(lost.retryable(), "retry elsewhere");

            ServerStatus s = server.status();
            assertFalse(s.running());
            assertNotEquals(Role.LEADER, s.role(), "a stopped node leads nothing");
            assertEquals(0, s.leader());
            assertEquals("STOPPED", s.state());
            assertEquals(term, s.term());
            RaftException later = assertInstanceOf(RaftException.class, assertThrows(
                    ExecutionException.class, () -> server.submit(put("c", "3")).get(1, TimeUnit.SECONDS)).getCause());
            assertEquals(0, later.leaderHint());
        }
    }

    /**
     * A tick that reaches a stopped node's raft loop must not keep it busy: the loop dropped every
     * input but ticks, so it ran again at once, forever (found by the simulator, seed 333: a
     * disk-full fail-stop followed by a tick, 9.5 million loop rounds in one virtual instant).
     */
    @Test
    void aStoppedLoopDoesNotSpinOnTicks() throws Exception {
        FailingLog log = new FailingLog();
        java.util.concurrent.atomic.AtomicLong loopRuns = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.ExecutorService loopThread = java.util.concurrent.Executors.newSingleThreadExecutor();
        AtomicReference<Runnable> tick = new AtomicReference<>();
        try (LocalNetwork net = new LocalNetwork();
             RaftServer server = RaftServer.builder(RaftConfig.builder(1).build())
                     .logStorage(log).snapshotStore(new MemorySnapshotStore()).stateMachine(new MapStateMachine())
                     .transport(net.transport(1))
                     .raftLoopExecutor(task -> loopThread.execute(() -> {
                         loopRuns.incrementAndGet();
                         task.run();
                     }))
                     .tickSource(t -> {
                         tick.set(t);
                         return () -> { };
                     }).start()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                tick.get().run();
                return server.status().isLeader();
            });
            log.failSync = true;
            assertThrows(ExecutionException.class, () -> server.submit(put("b", "2")).get(10, TimeUnit.SECONDS));
            assertFalse(server.status().running());
            for (int i = 0; i < 3; i++) {
                tick.get().run();
            }
            long before = loopRuns.get();
            // Held for a while: a spinning loop would run millions of rounds here.
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                    .until(() -> loopRuns.get() - before < 20);
        } finally {
            loopThread.shutdownNow();
        }
    }
}
