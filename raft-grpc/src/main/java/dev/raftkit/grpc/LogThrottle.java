package dev.raftkit.grpc;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides whether a repeated warning is worth a log line: the first time for a key, then at most
 * once per interval. A misconfigured peer retries every second or two, a hostile one as fast as it
 * can; its refusal should be loud once, not fill the disk.
 *
 * <p>Keys name the reason and the remote <em>host</em> (see {@link RemoteAddressInterceptor#host}),
 * never the remote port or anything else the caller chooses freely: each new connection has a new
 * port, so a port in the key would give every refused stream its own line. The number of keys is
 * bounded too: when {@link #MAX_KEYS} keys were logged within one interval, further new keys are
 * suppressed until old ones expire, so no sequence of requests yields more than about
 * {@code MAX_KEYS} lines per interval.
 */
final class LogThrottle {

    static final long DEFAULT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(30);
    static final int MAX_KEYS = 256;

    private final long intervalNanos;
    private final Map<String, Long> lastLogged = new ConcurrentHashMap<>();
    private final AtomicLong logged = new AtomicLong();

    LogThrottle() {
        this(DEFAULT_INTERVAL_NANOS);
    }

    LogThrottle(long intervalNanos) {
        this.intervalNanos = intervalNanos;
    }

    /** True if a warning for {@code key} should be logged now. */
    boolean shouldLog(String key) {
        long now = System.nanoTime();
        Long previous = lastLogged.get(key);
        if (previous != null && now - previous < intervalNanos) {
            return false;
        }
        if (previous == null && lastLogged.size() >= MAX_KEYS) {
            for (Iterator<Long> it = lastLogged.values().iterator(); it.hasNext(); ) {
                if (now - it.next() >= intervalNanos) {
                    it.remove();
                }
            }
            if (lastLogged.size() >= MAX_KEYS) {
                return false;
            }
        }
        // Two threads may both pass for a new key; one extra line is harmless.
        lastLogged.put(key, now);
        logged.incrementAndGet();
        return true;
    }

    /** Warnings let through so far (for tests that bound the log lines an attack produces). */
    long logged() {
        return logged.get();
    }
}
