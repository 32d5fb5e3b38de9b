package dev.raftkit.core.log;

import java.util.List;

/**
 * A run of consecutive entries following a known position: {@code prev} is the entry just before
 * the first one. Validated where data enters the core (message decode, storage reads, tests), so
 * the protocol code can trust it: indexes are contiguous and terms never decrease.
 */
public record LogSlice(EntryId prev, List<Entry> entries) {

    public LogSlice {
        entries = List.copyOf(entries);
        validate(prev, entries);
    }

    /**
     * Checks that {@code entries} follow {@code prev} contiguously with non-decreasing terms.
     *
     * @throws IllegalArgumentException naming the first entry that breaks the rule
     */
    public static void validate(EntryId prev, List<Entry> entries) {
        // Plain longs, no EntryId per entry: this runs for every entry sent and received.
        long lastIndex = prev.index();
        long lastTerm = prev.term();
        for (int i = 0, n = entries.size(); i < n; i++) {
            Entry e = entries.get(i);
            if (e.index() != lastIndex + 1) {
                throw new IllegalArgumentException("log slice not contiguous: entry " + e.id() + " follows "
                        + (i == 0 ? prev : entries.get(i - 1).id()));
            }
            if (e.term() < lastTerm) {
                throw new IllegalArgumentException("log slice term goes backwards: entry " + e.id() + " follows "
                        + (i == 0 ? prev : entries.get(i - 1).id()));
            }
            lastIndex = e.index();
            lastTerm = e.term();
        }
    }

    public EntryId last() {
        return entries.isEmpty() ? prev : entries.get(entries.size() - 1).id();
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }
}
