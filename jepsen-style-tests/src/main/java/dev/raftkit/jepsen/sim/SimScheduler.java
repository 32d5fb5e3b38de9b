package dev.raftkit.jepsen.sim;

import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;

/**
 * The run's only thread of control: a queue of events in virtual time (microseconds), ties broken
 * by insertion order, so a run is a pure function of what is scheduled. Every stage of every
 * simulated {@link dev.raftkit.runtime.RaftServer} runs on one of its {@link Lane}s.
 */
final class SimScheduler {

    /** A scheduled action; ties broken by insertion order so the run is deterministic. */
    private record Event(long time, long seq, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            int c = Long.compare(time, o.time);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private long now;
    private long seq;
    private long events;
    private Lane running;

    /** Virtual time of the event being run. */
    long now() {
        return now;
    }

    /**
     * Virtual time as seen by the code running now: the event's time plus the device time the
     * running lane task has spent so far (its fsyncs), so what it sends after an fsync leaves after it.
     */
    long localNow() {
        return running == null ? now : now + running.spent;
    }

    long events() {
        return events;
    }

    /** Runs {@code action} {@code delay} microseconds after {@link #localNow()}. */
    void schedule(long delay, Runnable action) {
        queue.add(new Event(localNow() + delay, seq++, action));
    }

    /** The lane whose task runs now, or null outside any lane. */
    Lane runningLane() {
        return running;
    }

    /** Charges {@code micros} of device time to the lane task running now (none outside a lane). */
    void spend(long micros) {
        if (running != null) {
            running.spent += micros;
        }
    }

    /**
     * Runs events up to virtual time {@code end} while {@code go} holds; then, unless {@code go}
     * stopped it, sets the clock to {@code end}.
     */
    void runUntil(long end, BooleanSupplier go) {
        while (!queue.isEmpty()) {
            if (!go.getAsBoolean()) {
                return;
            }
            Event e = queue.peek();
            if (e.time() > end) {
                break;
            }
            queue.poll();
            now = e.time();
            events++;
            e.action().run();
        }
        now = Math.max(now, end);
    }

    /**
     * One thread of one simulated server (raft loop, log writer, apply, snapshot pool, events):
     * a serial executor whose tasks run one per event. A task's fsyncs keep the lane busy for
     * their simulated latency. A lane of a crashed server refuses new tasks and drops its queue
     * (the process is gone); a paused server's lanes hold their tasks until it resumes.
     */
    final class Lane implements Executor {
        private final String name;
        private final BooleanSupplier alive;
        private final BooleanSupplier paused;
        private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        private boolean pumping;
        private boolean held;
        /** When the lane began holding a task back (paused, or its disk hung), or -1. */
        private long heldSince = -1;
        private long busyUntil;
        private long spent;
        private final Runnable onError;

        /**
         * @param alive   false once the process this lane belongs to has crashed
         * @param paused  true while the process is frozen
         * @param onError called (with the lane running) if a task throws: a bug, reported by the caller
         */
        Lane(String name, BooleanSupplier alive, BooleanSupplier paused, Runnable onError) {
            this.name = name;
            this.alive = alive;
            this.paused = paused;
            this.onError = onError;
        }

        @Override
        public void execute(Runnable task) {
            if (!alive.getAsBoolean()) {
                throw new RejectedExecutionException(name + ": the simulated process has crashed");
            }
            tasks.add(task);
            if (!pumping) {
                pumping = true;
                schedule(Math.max(0, busyUntil - localNow()), this::pump);
            }
        }

        /** Since when a task has waited here to run (see {@link #release}), or -1 if none waits. */
        long heldSince() {
            return heldSince;
        }

        /** Runs held tasks again after a pause. */
        void release() {
            if (held) {
                held = false;
                heldSince = -1;
                schedule(0, this::pump);
            }
        }

        private void pump() {
            if (!alive.getAsBoolean()) {
                tasks.clear();
                pumping = false;
                return;
            }
            if (paused.getAsBoolean()) {
                if (!held) {
                    heldSince = now;
                }
                held = true;
                return;
            }
            Runnable task = tasks.poll();
            Lane outer = running;
            running = this;
            spent = 0;
            try {
                task.run();
            } catch (RuntimeException | Error e) {
                lastError = e;
                onError.run();
            } finally {
                running = outer;
            }
            busyUntil = now + spent;
            spent = 0;
            if (tasks.isEmpty()) {
                pumping = false;
            } else {
                queue.add(new Event(busyUntil, seq++, this::pump));
            }
        }

        Throwable lastError;

        @Override
        public String toString() {
            return name;
        }
    }
}
