package dev.raftkit.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The helpers that keep hostile input out of logs and replies. */
class UntrustedAndThrottleTest {

    @Test
    void untrustedTextIsQuotedCutAndStrippedOfControlCharacters() {
        assertEquals("'prod-1'", Untrusted.quote("prod-1"));
        assertEquals("'null'", Untrusted.quote(null));
        assertEquals("'a?b'", Untrusted.quote("a\nb"));
        String cut = Untrusted.quote("y".repeat(1 << 20));
        assertTrue(cut.length() < Untrusted.MAX_CHARS + 40, cut);
        assertTrue(cut.endsWith("… (1048576 characters)"), cut);
        // A surrogate pair is never split at the cut.
        String emoji = "x".repeat(Untrusted.MAX_CHARS - 1) + "\uD83D\uDE00" + "tail";
        String q = Untrusted.quote(emoji);
        assertFalse(Character.isHighSurrogate(q.charAt(q.indexOf('\'', 1) - 1)), q);
    }

    @Test
    void aThrottleLogsOncePerKeyAndInterval() {
        LogThrottle t = new LogThrottle();
        for (int i = 0; i < 1000; i++) {
            t.shouldLog("cluster:127.0.0.1");
        }
        assertEquals(1, t.logged());
    }

    @Test
    void aThrottleBoundsTheKeysLoggedPerInterval() {
        LogThrottle t = new LogThrottle();
        for (int i = 0; i < 10_000; i++) {
            t.shouldLog("from:10.0." + (i / 256) + "." + (i % 256));
        }
        assertEquals(LogThrottle.MAX_KEYS, t.logged());
        // Once the interval passed, keys expire and new ones are logged again.
        LogThrottle quick = new LogThrottle(0);
        for (int i = 0; i < 3 * LogThrottle.MAX_KEYS; i++) {
            assertTrue(quick.shouldLog("k" + i));
        }
    }
}
