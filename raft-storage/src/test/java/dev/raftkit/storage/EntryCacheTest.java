package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.testkit.property.Gens;
import dev.raftkit.testkit.property.Property;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link EntryCache} never serves an entry the log no longer holds, and stays within its bound. */
class EntryCacheTest {

    private static Entry entry(long index, long term, int size) {
        return Entry.normal(term, index, new byte[size]);
    }

    /**
     * Appends runs of entries, each run cutting the log back by up to three blocks first (a new
     * leader overwriting a suffix), then checks every index: the cache returns the log's entry
     * there or nothing, never an overwritten one; small entries are always hits while everything fits.
     */
    @Test
    void servesOnlyWhatTheLogHolds() {
        var runs = Gens.lists(Gens.pairs(Gens.ints(0, 3 * EntryCache.BLOCK), Gens.ints(1, 2 * EntryCache.BLOCK)), 1, 12);
        Property.forAll(runs).name("entry cache = log or miss").tries(300).check(script -> {
            EntryCache cache = new EntryCache(1 << 20);
            List<Entry> log = new ArrayList<>();
            long first = 5; // a log that does not start at a block boundary
            long term = 1;
            for (var run : script) {
                int keep = Math.max(0, log.size() - run.first());
                if (keep < log.size()) {
                    cache.truncateFrom(first + keep);
                    log.subList(keep, log.size()).clear();
                }
                term++;
                for (int k = 0; k < run.second(); k++) {
                    long index = first + log.size();
                    // Some entries are too large to cache: their slots must not keep an older entry.
                    Entry e = entry(index, term, (index * 7 + term) % 5 == 0 ? 5_000 : 10);
                    cache.put(e);
                    log.add(e);
                }
                for (int k = 0; k < log.size(); k++) {
                    Entry got = cache.get(first + k);
                    assertTrue(got == null || got.equals(log.get(k)), "index " + (first + k) + ": cached "
                            + got + " but the log holds " + log.get(k));
                    if (log.get(k).data().length < 100) {
                        assertEquals(log.get(k), got, "index " + (first + k) + " was evicted with room to spare");
                    }
                }
            }
        });
    }

    @Test
    void evictsOldBlocksBeyondItsBound() {
        EntryCache cache = new EntryCache(64 * 1024);
        for (long i = 1; i <= 10_000; i++) {
            cache.put(entry(i, 1, 100));
        }
        assertNull(cache.get(1), "the oldest entries are evicted");
        assertEquals(entry(10_000, 1, 100), cache.get(10_000));
        long cached = 0;
        for (long i = 1; i <= 10_000; i++) {
            cached += cache.get(i) == null ? 0 : 1;
        }
        // 64 KiB of ~120 B entries is about 500; the unsealed tail adds at most one block.
        assertTrue(cached > EntryCache.BLOCK && cached < 700, "cached " + cached + " entries");
    }

    @Test
    void largeEntriesAreReadFromDisk() {
        EntryCache cache = new EntryCache(256 * 1024);
        cache.put(entry(1, 1, 512));
        cache.put(entry(2, 1, 2048));
        assertEquals(entry(1, 1, 512), cache.get(1));
        assertNull(cache.get(2), "an entry over 1/256 of the bound is not cached");
    }

    @Test
    void clearForgetsEverything() {
        EntryCache cache = new EntryCache(1 << 20);
        for (long i = 1; i <= 200; i++) {
            cache.put(entry(i, 1, 10));
        }
        cache.clear();
        for (long i = 1; i <= 200; i++) {
            assertNull(cache.get(i));
        }
    }
}
