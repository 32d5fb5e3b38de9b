package dev.raftkit.jepsen.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Runs many seeds, on a few threads (each run is independent and single-threaded, so runs in
 * parallel are still each a pure function of their seed).
 */
public final class SimRunner {

    /** What many runs added up to. */
    /**
     * What many runs added up to; {@code longestSeed} took {@code longestNanos} of wall time, the
     * most of any run.
     */
    public record Summary(long runs, List<SimResult> failures, long events, long operations, long wallNanos,
                          long longestSeed, long longestNanos) {
        public double eventsPerSecond() {
            return wallNanos == 0 ? 0 : events * 1e9 / wallNanos;
        }

        /** The closing line: {@code N runs, V violations, …}. */
        public String line() {
            return String.format("%d runs, %d violations, %d operations, %d events in %.1f s (%,.0f events/s;"
                            + " longest run seed %d, %.2f s)", runs, failures.size(), operations, events, wallNanos / 1e9,
                    eventsPerSecond(), longestSeed, longestNanos / 1e9);
        }
    }

    private SimRunner() {
    }

    /**
     * Runs seeds {@code firstSeed .. firstSeed + count - 1} of {@code base} on {@code threads}
     * threads, calling {@code onResult} (from any of them) after each run.
     */
    public static Summary run(SimOptions base, long firstSeed, long count, int threads, Consumer<SimResult> onResult) {
        long started = System.nanoTime();
        List<SimResult> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicLong events = new AtomicLong();
        AtomicLong operations = new AtomicLong();
        AtomicLong next = new AtomicLong(firstSeed);
        long[] longest = {0, -1}; // seed, nanos; guarded by itself
        long end = firstSeed + count;
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "sim-worker");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                workers.add(pool.submit(() -> {
                    for (long seed = next.getAndIncrement(); seed < end; seed = next.getAndIncrement()) {
                        SimResult r = Simulator.run(base.withSeed(seed));
                        events.addAndGet(r.events());
                        operations.addAndGet(r.history().size());
                        synchronized (longest) {
                            if (r.wallNanos() > longest[1]) {
                                longest[0] = seed;
                                longest[1] = r.wallNanos();
                            }
                        }
                        if (!r.ok()) {
                            failures.add(r);
                        }
                        onResult.accept(r);
                    }
                }));
            }
            for (Future<?> w : workers) {
                w.get();
            }
        } catch (Exception e) {
            throw new IllegalStateException("simulation worker failed: " + e.getMessage(), e);
        } finally {
            pool.shutdownNow();
        }
        List<SimResult> sorted = new ArrayList<>(failures);
        sorted.sort((a, b) -> Long.compare(a.options().seed(), b.options().seed()));
        return new Summary(count, sorted, events.get(), operations.get(), System.nanoTime() - started, longest[0],
                Math.max(0, longest[1]));
    }

    /** The first seed in {@code firstSeed ..} (up to {@code count} seeds) whose run fails, or null. */
    public static SimResult firstFailure(SimOptions base, long firstSeed, long count) {
        for (long seed = firstSeed; seed < firstSeed + count; seed++) {
            SimResult r = Simulator.run(base.withSeed(seed));
            if (!r.ok()) {
                return r;
            }
        }
        return null;
    }
}
