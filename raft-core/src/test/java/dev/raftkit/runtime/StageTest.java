package dev.raftkit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The serial-run contract every runtime stage relies on; driven by hand, so no thread races. */
class StageTest {

    /** An executor that queues tasks until the test runs them, one at a time. */
    private static final class ManualExecutor implements java.util.concurrent.Executor {
        final Queue<Runnable> tasks = new ArrayDeque<>();

        @Override
        public void execute(Runnable r) {
            tasks.add(r);
        }

        void runNext() {
            tasks.remove().run();
        }
    }

    /**
     * Found as a flaky FailStopTest: the apply stage was signalled to fail its waiting futures
     * while a run was busy; the run had consumed the queue, so {@code hasInput} said no, the
     * signal was dropped and the futures waited forever. A signal during a run now always gets a
     * later run, whatever {@code hasInput} says.
     */
    @Test
    void aSignalDuringARunGetsAnotherRunEvenWithNothingQueued() {
        ManualExecutor executor = new ManualExecutor();
        AtomicInteger runs = new AtomicInteger();
        AtomicBoolean failed = new AtomicBoolean();
        AtomicBoolean sawFailure = new AtomicBoolean();
        Stage[] stage = new Stage[1];
        stage[0] = new Stage("test", executor, () -> {
            if (runs.incrementAndGet() == 1) {
                // Another thread fails the server and signals while this run is busy.
                failed.set(true);
                stage[0].signal();
            } else if (failed.get()) {
                sawFailure.set(true);
            }
            return false;
        }, () -> false, t -> { });

        stage[0].signal();
        assertEquals(1, executor.tasks.size(), "the first signal schedules one run");
        executor.runNext();
        assertEquals(1, executor.tasks.size(), "the signal made during the run scheduled another");
        executor.runNext();
        assertTrue(sawFailure.get(), "the second run saw what the signal announced");
        assertTrue(executor.tasks.isEmpty(), "and nothing more is scheduled without a new signal");
    }

    @Test
    void signalsWhileScheduledCoalesceIntoOneRun() {
        ManualExecutor executor = new ManualExecutor();
        AtomicInteger runs = new AtomicInteger();
        Stage stage = new Stage("test", executor, () -> {
            runs.incrementAndGet();
            return false;
        }, () -> false, t -> { });
        stage.signal();
        stage.signal();
        stage.signal();
        assertEquals(1, executor.tasks.size());
        executor.runNext();
        assertEquals(1, runs.get());
        assertTrue(executor.tasks.isEmpty(), "signals before the run began are served by it");
    }

    @Test
    void queuedInputSeenAfterARunGetsAnotherRun() {
        ManualExecutor executor = new ManualExecutor();
        Queue<Integer> input = new ArrayDeque<>();
        AtomicInteger consumed = new AtomicInteger();
        Stage stage = new Stage("test", executor, () -> {
            Integer v = input.poll();
            if (v != null) {
                consumed.incrementAndGet();
            }
            return false;
        }, () -> !input.isEmpty(), t -> { });
        input.add(1);
        input.add(2);
        stage.signal();
        executor.runNext();
        executor.runNext();
        assertEquals(2, consumed.get());
        assertTrue(executor.tasks.isEmpty());
    }
}
