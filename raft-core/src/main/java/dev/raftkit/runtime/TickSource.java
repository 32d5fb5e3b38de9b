package dev.raftkit.runtime;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Where a server's logical time comes from: the core counts time only in ticks (docs/architecture.md, section The pure core).
 * The default ticks on a timer; a test or the simulator injects its own to drive time by hand.
 */
public interface TickSource {

    /**
     * Starts calling {@code tick} once per tick, from any thread; returns a handle that stops it.
     * {@code tick} never blocks (it bumps a counter and wakes the raft loop).
     */
    AutoCloseable start(Runnable tick);

    /** A tick every {@code periodMillis} on a daemon timer thread named after {@code name}. */
    static TickSource every(long periodMillis, String name) {
        if (periodMillis <= 0) {
            throw new IllegalArgumentException("tick period must be positive, got " + periodMillis + " ms");
        }
        return tick -> {
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            });
            ScheduledFuture<?> f = timer.scheduleAtFixedRate(tick, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
            return () -> {
                f.cancel(false);
                timer.shutdownNow();
            };
        };
    }
}
