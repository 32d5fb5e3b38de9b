package dev.raftkit.storage;

import java.io.Closeable;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log's preallocation thread ({@code raftkit-log-preallocator <dir>}, daemon), which fills its
 * {@link SpareSegment}s. Owned by the log: the thread starts at the first task (a log opened only
 * to be read never starts one) and {@link #close} stops and joins it, so a closed log leaves no
 * thread behind. It was once one pool for the whole process, whose idle threads outlived every log
 * by a minute and could not be told apart from a leak.
 *
 * <p>Threads: {@link #execute} is called by the log's writer thread, {@link #close} by whichever
 * thread closes the log; both are safe from any thread. Tasks run one at a time, in order.
 */
final class Preallocator implements Executor, Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(Preallocator.class);
    static final String THREAD_PREFIX = "raftkit-log-preallocator";
    private static final Runnable STOP = () -> { };

    private final String name;
    private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
    private Thread thread; // guarded by this
    private boolean closed; // guarded by this

    Preallocator(Path dir) {
        // The directory in the name tells one log's thread from another's in a thread dump.
        this.name = THREAD_PREFIX + " " + dir;
    }

    /** The name of this log's thread. */
    String threadName() {
        return name;
    }

    /**
     * Queues {@code task}, starting the thread if this is the first; never blocks.
     *
     * @throws RejectedExecutionException once closed
     */
    @Override
    public synchronized void execute(Runnable task) {
        if (closed) {
            throw new RejectedExecutionException(name + " is closed");
        }
        if (thread == null) {
            thread = new Thread(this::run, name);
            // A log its owner never closes must not keep the JVM alive.
            thread.setDaemon(true);
            thread.start();
        }
        tasks.add(task);
    }

    private void run() {
        while (true) {
            Runnable task;
            try {
                task = tasks.take();
            } catch (InterruptedException e) {
                // Only close() ends this thread: ending on a stray interrupt would leave a queued
                // task's future incomplete and the writer waiting for its spare forever.
                continue;
            }
            if (task == STOP) {
                return;
            }
            try {
                task.run();
            } catch (RuntimeException e) {
                // SpareSegment's tasks report through their future; anything else must not kill the thread.
                LOG.warn("{}: a preallocation task failed", name, e);
            }
        }
    }

    /**
     * Lets queued tasks finish, then stops the thread and waits for it to end. Blocks while a task
     * runs: the caller stops a filling first ({@link SpareSegment#close}) so that is short.
     * Idempotent; keeps the caller's interrupt status.
     */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            t = thread;
        }
        if (t == null) {
            return;
        }
        tasks.add(STOP);
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true; // joining anyway: the promise is that no thread is left behind
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
