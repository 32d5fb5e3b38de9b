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
 * <p>No lost wake-ups: every signal sets {@code signalled}, which a run clears before its body;
 * after the body the run clears {@code scheduled} and runs again if it was signalled meanwhile,
 * asked for more, or sees input. A signal during a run therefore always gets a later run, even
 * when what it announced is not in a queue {@code hasInput} can see (a failure flag, a stop):
 * without that, a stage signalled to fail its waiting futures while it was busy would go idle
 * with them still waiting.
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
    private final AtomicBoolean signalled = new AtomicBoolean();

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
        signalled.set(true);
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
        signalled.set(false);
        try {
            more = body.run();
        } catch (Throwable t) {
            onFailure.accept(t);
        }
        scheduled.set(false);
        if (more || signalled.get() || hasInput.getAsBoolean()) {
            signal();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
