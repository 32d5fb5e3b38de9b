package dev.raftkit.storage.backup;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded pool one parallel restore runs its work on: {@code parallelism} daemon threads named
 * {@value #THREAD_PREFIX}{@code <restore>-<n>} (docs/threads.md, "Threads of a restore"), taking
 * tasks in the order they were submitted. Each restore makes its own and shuts it down before it
 * returns, so no thread outlives the call. A null pool (parallelism 1) runs every task on the
 * caller's thread when it is submitted: the sequential restore, with no thread of its own, which
 * the simulator relies on.
 */
final class RestoreWorkers implements AutoCloseable {

    /** The prefix of every restore worker thread's name. */
    static final String THREAD_PREFIX = "raftkit-restore-";
    private static final AtomicInteger RESTORES = new AtomicInteger();

    private final ExecutorService pool;

    /** A task's work; it may throw what a restore throws. */
    interface Work<T> {
        T run() throws IOException;
    }

    /** A submitted task: {@link #get()} waits for it and rethrows what it threw, as it threw it. */
    interface Task<T> {
        T get() throws IOException;
    }

    private RestoreWorkers(int parallelism) {
        int restore = RESTORES.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, THREAD_PREFIX + restore + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        // FIFO: a task submitted earlier starts no later than one submitted after it, which the
        // restore's decoders rely on (an appender never waits for a decoder that cannot start).
        this.pool = new ThreadPoolExecutor(parallelism, parallelism, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                threads);
    }

    /** A pool of {@code parallelism} threads, or null (run everything on the caller) for 1. */
    static RestoreWorkers of(int parallelism) {
        if (parallelism < 1) {
            throw new IllegalArgumentException("a restore's parallelism must be at least 1, got " + parallelism);
        }
        return parallelism == 1 ? null : new RestoreWorkers(parallelism);
    }

    /** Runs {@code work} on {@code workers}, or at once on this thread if {@code workers} is null. */
    static <T> Task<T> submit(RestoreWorkers workers, Work<T> work) {
        if (workers == null) {
            T value;
            IOException failure = null;
            try {
                value = work.run();
            } catch (IOException e) {
                value = null;
                failure = e;
            }
            T v = value;
            IOException f = failure;
            return () -> {
                if (f != null) {
                    throw f;
                }
                return v;
            };
        }
        Future<T> f = workers.pool.submit(() -> {
            try {
                return work.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return () -> {
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for a restore worker");
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof UncheckedIOException u) {
                    throw u.getCause();
                }
                if (c instanceof RuntimeException r) {
                    throw r;
                }
                if (c instanceof Error err) {
                    throw err;
                }
                throw new IOException(c);
            }
        };
    }

    /** Hands {@code r} to a worker thread, without waiting for it. */
    void execute(Runnable r) {
        pool.execute(r);
    }

    /**
     * Stops taking tasks and waits for the running ones to end: every task of a restore ends by
     * itself once the restore has failed (it checks the restore's abort flag), so no deadline.
     */
    @Override
    public void close() {
        pool.shutdown();
        boolean interrupted = false;
        while (true) {
            try {
                if (pool.awaitTermination(1, TimeUnit.SECONDS)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
