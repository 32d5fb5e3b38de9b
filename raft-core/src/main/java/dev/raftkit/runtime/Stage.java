package dev.raftkit.runtime;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Runs one thread's work (raft loop, log writer, apply) as a serial task on an executor: a
 * producer queues input and calls {@link #signal()}; at most one run is scheduled or running at a
 * time, so the stage's state has one owner even on a shared executor, and the same code runs on
 * dedicated threads in production and on one thread with virtual time in a simulation.
 *
 * <p>No lost wake-ups: a run clears {@code scheduled} only after its body, then re-checks for
 * input; a producer queues before signalling, so either that re-check sees its input or its
 * signal finds {@code scheduled} clear and schedules a new run.
 */
final class Stage {

    private final String name;
    private final Executor executor;
    /** One round of a stage's work; may throw, which is fail-stop. */
    @FunctionalInterface
    interface Round {
        boolean run() throws Exception;
    }

    private final Round body;
    private final BooleanSupplier hasInput;
    private final Consumer<Throwable> onFailure;
    private final AtomicBoolean scheduled = new AtomicBoolean();

    /**
     * @param body      one round of work; returns true if more work is ready (the stage runs again)
     * @param hasInput  whether producers queued input since; read after a round ends
     * @param onFailure called with anything the body throws (fail-stop)
     */
    Stage(String name, Executor executor, Round body, BooleanSupplier hasInput, Consumer<Throwable> onFailure) {
        this.name = name;
        this.executor = executor;
        this.body = body;
        this.hasInput = hasInput;
        this.onFailure = onFailure;
    }

    void signal() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                executor.execute(this::run);
            } catch (RejectedExecutionException stopping) {
                // The executor is shutting down with the server; nothing more will run here.
                scheduled.set(false);
            }
        }
    }

    private void run() {
        boolean more = false;
        try {
            more = body.run();
        } catch (Throwable t) {
            onFailure.accept(t);
        }
        scheduled.set(false);
        if (more || hasInput.getAsBoolean()) {
            signal();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
