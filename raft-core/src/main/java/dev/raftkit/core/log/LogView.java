package dev.raftkit.core.log;

import dev.raftkit.core.SnapshotMeta;
import java.util.List;

/**
 * A read-only view of a node's Raft log: what it holds, what is committed and applied. The core
 * hands it out ({@code RaftCore.log()}) for the runtime's reads, tests and the simulator's invariant
 * checks; only the core changes the log behind it.
 *
 * <p>Not thread-safe: read it on the thread that steps the node, between steps.
 */
public interface LogView {

    /** The highest index known to be committed (§3.5). */
    long committed();

    /** The highest index the state machine has acknowledged applying. */
    long applied();

    /** The first index still held as an entry (the one after the snapshot). */
    long firstIndex();

    /** The last index held, durable or not. */
    long lastIndex();

    /** The id of the last entry (or of the snapshot when the log holds no entry after it). */
    EntryId lastEntryId();

    /** The highest index known to be durable here (0 while an incoming snapshot is not). */
    long lastStableIndex();

    /**
     * The term at {@code index}.
     *
     * @throws LogCompactedException   below the snapshot
     * @throws LogUnavailableException beyond the last entry
     */
    long term(long index);

    /** The term at {@code index}, or 0 if it is out of range. */
    long termOrZero(long index);

    /** Log Matching (§3.5): does this log hold the entry {@code id}? */
    boolean matchTerm(EntryId id);

    /** The newest snapshot this log starts after, as the runtime reported it (or a pending incoming one). */
    SnapshotMeta snapshot();

    /**
     * Entries in [lo, hi) within {@code maxBytes} (always at least one).
     *
     * @throws LogCompactedException if {@code lo} is compacted
     */
    List<Entry> slice(long lo, long hi, long maxBytes);
}
