package dev.raftkit.grpc;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential reconnect back-off with jitter: {@code min}, then doubling up to {@code max}, each
 * delay drawn uniformly from its upper half so that peers that failed together do not retry in
 * lock step. Not thread-safe: owned by one send lane.
 */
final class Backoff {

    private final long minNanos;
    private final long maxNanos;
    private int failures;

    Backoff(Duration min, Duration max) {
        this.minNanos = min.toNanos();
        this.maxNanos = max.toNanos();
    }

    /** Records a failure and returns how long to wait before the next attempt. */
    long nextDelayNanos() {
        failures = Math.min(failures + 1, 40);
        long delay = minNanos;
        for (int i = 1; i < failures && delay < maxNanos; i++) {
            delay *= 2;
        }
        delay = Math.min(delay, maxNanos);
        return delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
    }

    /** Forgets past failures: the next failure waits {@code min} again. */
    void reset() {
        failures = 0;
    }

    int failures() {
        return failures;
    }
}
