package dev.raftkit.grpc;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Decides whether a repeated warning is worth a log line: the first time for a key, then at most
 * once per interval. A misconfigured peer retries every second or two; its refusal should be
 * loud once, not fill the disk.
 */
final class LogThrottle {

    private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int MAX_KEYS = 1024;

    private final Map<String, Long> lastLogged = new ConcurrentHashMap<>();

    /** True if a warning for {@code key} should be logged now. */
    boolean shouldLog(String key) {
        long now = System.nanoTime();
        if (lastLogged.size() > MAX_KEYS) {
            lastLogged.clear();
        }
        Long previous = lastLogged.get(key);
        if (previous != null && now - previous < INTERVAL_NANOS) {
            return false;
        }
        lastLogged.put(key, now);
        return true;
    }
}
