package dev.raftkit.core;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import java.util.ArrayList;
import java.util.List;

/**
 * The part of the log not yet known to be durable: an optional incoming snapshot and the entries
 * after it (or after the stable log). Entries handed out in a Ready are "in progress": still here
 * (they are not durable yet) but never handed out again. They leave only when an acknowledgement
 * proves them durable and they have not been overwritten since (the ABA rule).
 */
final class Unstable {

    SnapshotMeta snapshot;
    boolean snapshotInProgress;
    final ArrayList<Entry> entries = new ArrayList<>();
    /** Index of {@code entries.get(0)}, or where the next entry would go. */
    long offset;
    /** Entries at or above this index have not been handed out yet. */
    long offsetInProgress;
    /**
     * Counts the times held entries were replaced (or the whole log restored). A Ready handed out
     * under an earlier count may describe entries that are gone, even if an entry with the same id
     * is back by now (A-B-A), so its acknowledgement proves nothing; see {@link #stableTo}.
     */
    long overwrites;

    Unstable(long offset) {
        this.offset = offset;
        this.offsetInProgress = offset;
    }

    /** Index after the snapshot, if there is one, else -1. */
    long maybeFirstIndex() {
        return snapshot == null ? -1 : snapshot.index() + 1;
    }

    /** Last index held here, or -1 if nothing. */
    long maybeLastIndex() {
        if (!entries.isEmpty()) {
            return offset + entries.size() - 1;
        }
        return snapshot == null ? -1 : snapshot.index();
    }

    /** Term at {@code index} if known here, else -1. */
    long maybeTerm(long index) {
        if (index < offset) {
            return snapshot != null && snapshot.index() == index ? snapshot.term() : -1;
        }
        long last = maybeLastIndex();
        if (last < 0 || index > last) {
            return -1;
        }
        return entries.get((int) (index - offset)).term();
    }

    /** Entries not yet handed out. */
    List<Entry> nextEntries() {
        int from = (int) (offsetInProgress - offset);
        return from >= entries.size() ? List.of() : List.copyOf(entries.subList(from, entries.size()));
    }

    boolean hasNextEntries() {
        return offsetInProgress - offset < entries.size();
    }

    SnapshotMeta nextSnapshot() {
        return snapshot == null || snapshotInProgress ? null : snapshot;
    }

    /** Marks everything held now as handed out. */
    void acceptInProgress() {
        if (!entries.isEmpty()) {
            offsetInProgress = offset + entries.size();
        }
        if (snapshot != null) {
            snapshotInProgress = true;
        }
    }

    /**
     * Entries up to {@code id} are durable, as acknowledged for a Ready handed out when
     * {@link #overwrites} was {@code overwritesAtReady}. Ignored if entries were replaced since:
     * the term check alone is not enough. Step by step: Ready 1 holds 2@1; leader 2 overwrites it
     * with 2@2 (Ready 2); leader 3, whose log has 2@1, writes 2@1 back (not yet handed out). Ready
     * 1's acknowledgement then names an entry that is here again, but the storage will hold 2@2
     * once Ready 2 is written, and the re-appended 2@1 would never be handed out to be written.
     */
    void stableTo(EntryId id, long overwritesAtReady) {
        if (overwritesAtReady != overwrites) {
            return;
        }
        long term = maybeTerm(id.index());
        if (term < 0 || id.index() < offset || term != id.term()) {
            return;
        }
        int n = (int) (id.index() + 1 - offset);
        entries.subList(0, n).clear();
        offset = id.index() + 1;
        offsetInProgress = Math.max(offsetInProgress, offset);
    }

    void stableSnapshotTo(long index) {
        if (snapshot != null && snapshot.index() == index) {
            snapshot = null;
            snapshotInProgress = false;
        }
    }

    void restore(SnapshotMeta s) {
        overwrites++;
        offset = s.index() + 1;
        offsetInProgress = offset;
        entries.clear();
        snapshot = s;
        snapshotInProgress = false;
    }

    /** Appends, first dropping any held entries at or above the first new index. */
    void truncateAndAppend(List<Entry> ents) {
        long from = ents.get(0).index();
        if (from < offset + entries.size()) {
            overwrites++;
        }
        if (from == offset + entries.size()) {
            entries.addAll(ents);
        } else if (from <= offset) {
            // Replaces everything held here; offsetInProgress follows below.
            entries.clear();
            entries.addAll(ents);
            offset = from;
        } else {
            entries.subList((int) (from - offset), entries.size()).clear();
            entries.addAll(ents);
        }
        offsetInProgress = Math.min(offsetInProgress, from);
    }

    /** Entries in [lo, hi), which must be held here. */
    List<Entry> slice(long lo, long hi) {
        if (lo < offset || hi > offset + entries.size() || lo > hi) {
            throw new IllegalStateException("unstable slice [" + lo + "," + hi + ") out of [" + offset + ","
                    + (offset + entries.size()) + ")");
        }
        return entries.subList((int) (lo - offset), (int) (hi - offset));
    }
}
