package dev.raftkit.core;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.LogCompactedException;
import dev.raftkit.core.log.LogReader;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.log.LogUnavailableException;
import dev.raftkit.core.log.LogView;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's log: the durable part (read through {@link LogReader}) followed by the {@link Unstable}
 * part, plus the commit and apply positions.
 *
 * <p>Invariant: {@code applied <= applying <= committed <= lastIndex()}, and committed entries are
 * handed out for application only once they are durable locally.
 */
final class RaftLog implements LogView {

    private final LogReader storage;
    private final Unstable unstable;
    /** Cap on the bytes handed out for application and not yet applied. */
    private final long maxApplyingBytes;
    /** Handed-out batches not yet applied: {last index, bytes}, oldest first. */
    private final ArrayDeque<long[]> applyingBatches = new ArrayDeque<>();
    private long applyingBytes;
    private long committed;
    /** Committed entries up to here have been handed out for application. */
    private long applying;
    /** The state machine has applied up to here. */
    private long applied;
    /**
     * The newest snapshot the stored log starts after, as the runtime told us ({@link #compacted},
     * or an installed snapshot once durable). Lagging followers get this one.
     */
    private SnapshotMeta stored;

    public RaftLog(LogReader storage, long maxApplyingBytes) {
        this.storage = storage;
        this.stored = storage.initialState().snapshot();
        this.maxApplyingBytes = maxApplyingBytes;
        this.unstable = new Unstable(storage.lastIndex() + 1);
        long first = storage.firstIndex();
        this.committed = first - 1;
        this.applying = first - 1;
        this.applied = first - 1;
    }

    @Override
    public long committed() { return committed; }
    public long applying() { return applying; }
    @Override
    public long applied() { return applied; }

    @Override
    public long firstIndex() {
        long i = unstable.maybeFirstIndex();
        return i >= 0 ? i : storage.firstIndex();
    }

    @Override
    public long lastIndex() {
        long i = unstable.maybeLastIndex();
        return i >= 0 ? i : storage.lastIndex();
    }

    @Override
    public EntryId lastEntryId() {
        long last = lastIndex();
        return new EntryId(term(last), last);
    }

    /** The highest index known to be durable here (0 while an incoming snapshot is not). */
    @Override
    public long lastStableIndex() {
        return unstable.snapshot != null ? 0 : unstable.offset - 1;
    }

    /**
     * The term at {@code index}.
     *
     * @throws LogCompactedException  below the snapshot
     * @throws LogUnavailableException beyond the last entry
     */
    @Override
    public long term(long index) {
        long t = unstable.maybeTerm(index);
        if (t >= 0) {
            return t;
        }
        long first = firstIndex();
        if (index < first - 1) {
            throw new LogCompactedException(index, first);
        }
        long last = lastIndex();
        if (index > last) {
            throw new LogUnavailableException(index, last);
        }
        return storage.term(index);
    }

    /** The term at {@code index}, or 0 if it is out of range. */
    @Override
    public long termOrZero(long index) {
        return Math.max(0, termOrMinusOne(index));
    }

    /** Log Matching (§3.5): does this log hold the entry {@code id}? */
    @Override
    public boolean matchTerm(EntryId id) {
        return termOrMinusOne(id.index()) == id.term();
    }

    /**
     * The term at {@code index}, or -1 if it is out of range. Range checks rather than exceptions:
     * lagging followers probe out of range all the time, and exceptions cost far more than a check.
     */
    private long termOrMinusOne(long index) {
        long t = unstable.maybeTerm(index);
        if (t >= 0) {
            return t;
        }
        if (index < firstIndex() - 1 || index > lastIndex()) {
            return -1;
        }
        return storage.term(index);
    }

    /**
     * Follower side of AppendEntries (§3.5): if this log matches {@code slice.prev()}, keeps the
     * entries that agree, replaces the first conflicting one and everything after it, and returns
     * the index of the last entry of the slice; otherwise returns -1 and changes nothing.
     */
    public long maybeAppend(LogSlice slice, long leaderCommit) {
        if (!matchTerm(slice.prev())) {
            return -1;
        }
        long lastNew = slice.last().index();
        long conflict = findConflict(slice.entries());
        if (conflict > 0) {
            if (conflict <= committed) {
                throw new IllegalStateException("entry " + conflict + " conflicts with committed entry "
                        + committed + ": a leader tried to overwrite committed state");
            }
            int from = (int) (conflict - slice.prev().index() - 1);
            append(slice.entries().subList(from, slice.entries().size()));
        }
        commitTo(Math.min(leaderCommit, lastNew));
        return lastNew;
    }

    /** Index of the first entry that is not in this log, or 0 if every entry is. */
    private long findConflict(List<Entry> ents) {
        for (Entry e : ents) {
            if (!matchTerm(e.id())) {
                return e.index();
            }
        }
        return 0;
    }

    /**
     * The last position at or below {@code index} whose term is at most {@code term}: where this
     * log may agree with a log that has {@code term} at {@code index}. Used by both sides of the
     * fast back-off, so one rejection skips a whole term. Returns term 0 where the log is compacted.
     */
    public EntryId findConflictByTerm(long index, long term) {
        for (long i = index; i > 0; i--) {
            long t;
            try {
                t = term(i);
            } catch (LogCompactedException | LogUnavailableException e) {
                return new EntryId(0, i);
            }
            if (t <= term) {
                return new EntryId(t, i);
            }
        }
        return EntryId.ZERO;
    }

    /** Appends (a leader's own entries, or a follower's accepted ones); returns the new last index. */
    public long append(List<Entry> ents) {
        if (ents.isEmpty()) {
            return lastIndex();
        }
        long after = ents.get(0).index() - 1;
        if (after < committed) {
            throw new IllegalStateException("append after " + after + " would overwrite committed " + committed);
        }
        unstable.truncateAndAppend(ents);
        return lastIndex();
    }

    public void commitTo(long index) {
        if (index > committed) {
            if (index > lastIndex()) {
                throw new IllegalStateException("commit " + index + " beyond last index " + lastIndex());
            }
            committed = index;
        }
    }

    /**
     * Commits up to {@code at} if this log holds it. The caller passes its current term, so only
     * an entry of the current term is committed by counting replicas (§5.4.2, Figure 8); earlier
     * entries commit with it.
     */
    public boolean maybeCommit(EntryId at) {
        if (at.index() > committed && termOrZero(at.index()) == at.term()) {
            commitTo(at.index());
            return true;
        }
        return false;
    }

    public void appliedTo(long index) {
        if (index > committed && index > applied) {
            throw new IllegalStateException("applied " + index + " beyond committed " + committed);
        }
        applied = Math.max(applied, index);
        applying = Math.max(applying, applied);
        while (!applyingBatches.isEmpty() && applyingBatches.peekFirst()[0] <= applied) {
            applyingBytes -= applyingBatches.pollFirst()[1];
        }
    }

    /** The highest committed index that may be handed out now: durable here, no snapshot pending. */
    private long maxAppliable() {
        if (unstable.snapshot != null) {
            return applying;
        }
        return Math.min(committed, unstable.offset - 1);
    }

    /**
     * Whether committed entries can be handed out now: some are durable and not handed out, and
     * what was handed out before and is not applied yet is under the byte cap. The cap is the
     * back-pressure of a slow state machine: without it, committed entries would pile up in the
     * driver's apply queue without bound (etcd bounds them the same way).
     */
    public boolean hasNextCommittedEntries() {
        return maxAppliable() > applying && applyingBytes < maxApplyingBytes;
    }

    /**
     * Committed, durable entries not yet handed out, within what is left of the byte cap (at least
     * one, so the pending bytes may cross the cap by one entry, as in etcd).
     */
    public List<Entry> nextCommittedEntries() {
        long hi = maxAppliable();
        if (hi <= applying || applyingBytes >= maxApplyingBytes) {
            return List.of();
        }
        return slice(applying + 1, hi + 1, maxApplyingBytes - applyingBytes);
    }

    /** Marks committed entries up to {@code index}, of {@code bytes} in all, as handed out. */
    public void acceptApplying(long index, long bytes) {
        if (index > applying) {
            applying = index;
            applyingBatches.addLast(new long[] {index, bytes});
            applyingBytes += bytes;
        }
    }

    /** Bytes handed out for application and not yet applied. */
    public long applyingBytes() {
        return applyingBytes;
    }

    public boolean hasNextUnstableEntries() {
        return unstable.hasNextEntries();
    }

    public List<Entry> nextUnstableEntries() {
        return unstable.nextEntries();
    }

    public SnapshotMeta nextUnstableSnapshot() {
        return unstable.nextSnapshot();
    }

    public boolean hasPendingSnapshot() {
        return unstable.snapshot != null;
    }

    public void acceptUnstable() {
        unstable.acceptInProgress();
        if (unstable.snapshot != null) {
            applying = Math.max(applying, unstable.snapshot.index());
        }
    }

    /**
     * A token for the entries handed out now: pass it back to {@link #stableTo} with their
     * acknowledgement, which is ignored if entries were overwritten in between (the ABA rule).
     */
    public long unstableOverwrites() {
        return unstable.overwrites;
    }

    /** Entries up to {@code id} are durable, for a Ready handed out under {@code overwritesAtReady}. */
    public void stableTo(EntryId id, long overwritesAtReady) {
        unstable.stableTo(id, overwritesAtReady);
    }

    public void stableSnapshotTo(long index) {
        if (unstable.snapshot != null && unstable.snapshot.index() == index) {
            compacted(unstable.snapshot);
        }
        unstable.stableSnapshotTo(index);
    }

    /** The stored log now starts after {@code snapshot} (the runtime compacted it). */
    public void compacted(SnapshotMeta snapshot) {
        if (snapshot.index() > stored.index()) {
            stored = snapshot;
        }
    }

    /** The snapshot a lagging follower should get: a pending incoming one, or the stored one. */
    @Override
    public SnapshotMeta snapshot() {
        return unstable.snapshot != null ? unstable.snapshot : stored;
    }

    /** Replaces the whole log by {@code s} (InstallSnapshot, follower side). */
    public void restore(SnapshotMeta s) {
        committed = s.index();
        unstable.restore(s);
    }

    /** Entries from {@code lo} to the end, at most {@code maxBytes} (at least one). */
    public List<Entry> entriesFrom(long lo, long maxBytes) {
        long last = lastIndex();
        return lo > last ? List.of() : slice(lo, last + 1, maxBytes);
    }

    /**
     * Entries in [lo, hi) within {@code maxBytes} (always at least one), read from storage and
     * then from the unstable part.
     *
     * @throws LogCompactedException if {@code lo} is compacted
     */
    @Override
    public List<Entry> slice(long lo, long hi, long maxBytes) {
        if (lo > hi) {
            throw new IllegalArgumentException("invalid slice [" + lo + "," + hi + ")");
        }
        long first = firstIndex();
        if (lo < first) {
            throw new LogCompactedException(lo, first);
        }
        if (hi > lastIndex() + 1) {
            throw new LogUnavailableException(hi - 1, lastIndex());
        }
        if (lo == hi) {
            return List.of();
        }
        List<Entry> out = new ArrayList<>();
        long budget = maxBytes;
        if (lo < unstable.offset) {
            List<Entry> stored = storage.entries(lo, Math.min(hi, unstable.offset), maxBytes);
            if (stored.isEmpty()) {
                throw new IllegalStateException("storage returned no entries for [" + lo + "," + hi + ")");
            }
            // Storage is a gateway: what it returns must be a contiguous run starting at lo.
            LogSlice.validate(new EntryId(0, lo - 1), stored);
            for (Entry e : stored) {
                budget -= e.sizeBytes();
            }
            out.addAll(stored);
            if (out.size() < Math.min(hi, unstable.offset) - lo || budget <= 0) {
                return out;
            }
        }
        if (hi > unstable.offset) {
            for (Entry e : unstable.slice(Math.max(lo, unstable.offset), hi)) {
                if (!out.isEmpty() && budget - e.sizeBytes() < 0) {
                    break;
                }
                budget -= e.sizeBytes();
                out.add(e);
            }
        }
        return out;
    }
}
