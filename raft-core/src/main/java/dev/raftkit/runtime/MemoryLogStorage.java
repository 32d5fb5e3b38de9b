package dev.raftkit.runtime;

import dev.raftkit.core.Bootstrap;
import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.InitialState;
import dev.raftkit.core.log.LogCompactedException;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.core.log.LogUnavailableException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A {@link LogStorage} in memory: everything is "durable" as soon as it is written. For tests, the
 * simulator (which models durability itself) and nodes that need no disk. Thread-safe.
 */
public final class MemoryLogStorage implements LogStorage {

    private HardState hardState = HardState.EMPTY;
    private SnapshotMeta snapshot = SnapshotMeta.EMPTY;
    /** Entries after the snapshot: {@code entries.get(i)} has index {@code snapshot.index() + 1 + i}. */
    private final ArrayList<Entry> entries = new ArrayList<>();

    /** An empty log. */
    public MemoryLogStorage() {
    }

    /** A founding member's log for a new cluster of {@code voters}; see {@link Bootstrap}. */
    public static MemoryLogStorage bootstrap(Set<Long> voters) {
        MemoryLogStorage storage = new MemoryLogStorage();
        storage.append(Bootstrap.entries(voters));
        storage.setHardState(Bootstrap.hardState(voters));
        return storage;
    }

    /** A deep copy, for tests that model a crash by keeping only what was durable. */
    public synchronized MemoryLogStorage copy() {
        MemoryLogStorage c = new MemoryLogStorage();
        c.hardState = hardState;
        c.snapshot = snapshot;
        c.entries.addAll(entries);
        return c;
    }

    @Override
    public synchronized InitialState initialState() {
        return new InitialState(hardState, snapshot);
    }

    public synchronized HardState hardState() {
        return hardState;
    }

    public synchronized SnapshotMeta snapshot() {
        return snapshot;
    }

    @Override
    public synchronized long firstIndex() {
        return snapshot.index() + 1;
    }

    @Override
    public synchronized long lastIndex() {
        return snapshot.index() + entries.size();
    }

    @Override
    public synchronized long term(long index) {
        if (index == snapshot.index()) {
            return snapshot.term();
        }
        checkRange(index);
        return entries.get(offset(index)).term();
    }

    @Override
    public synchronized List<Entry> entries(long lo, long hi, long maxBytes) {
        if (lo > hi) {
            throw new IllegalArgumentException("invalid range [" + lo + ", " + hi + ")");
        }
        if (lo == hi) {
            return List.of();
        }
        checkRange(lo);
        checkRange(hi - 1);
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = lo; i < hi; i++) {
            Entry e = entries.get(offset(i));
            bytes += e.sizeBytes();
            if (!out.isEmpty() && bytes > maxBytes) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    @Override
    public synchronized void append(List<Entry> newEntries) {
        if (newEntries.isEmpty()) {
            return;
        }
        long first = newEntries.get(0).index();
        if (first <= snapshot.index()) {
            throw new IllegalStateException("append at " + first + " overwrites snapshot at " + snapshot.index());
        }
        if (first > lastIndex() + 1) {
            throw new IllegalStateException("append at " + first + " leaves a gap after " + lastIndex());
        }
        LogSlice.validate(new EntryId(term(first - 1), first - 1), newEntries);
        while (lastIndex() >= first) {
            entries.remove(entries.size() - 1);
        }
        entries.addAll(newEntries);
    }

    @Override
    public synchronized void setHardState(HardState hs) {
        hardState = hs;
    }

    @Override
    public synchronized void installSnapshot(SnapshotMeta meta) {
        snapshot = meta;
        entries.clear();
    }

    @Override
    public void sync() {
        // Everything is durable at once in memory.
    }

    @Override
    public synchronized void compact(SnapshotMeta meta) {
        if (meta.index() <= snapshot.index()) {
            return;
        }
        if (meta.index() > lastIndex()) {
            throw new IllegalStateException("compact to " + meta.index() + " beyond last index " + lastIndex());
        }
        if (term(meta.index()) != meta.term()) {
            throw new IllegalStateException("compact to " + meta.last() + " but the log holds term "
                    + term(meta.index()) + " there");
        }
        entries.subList(0, offset(meta.index()) + 1).clear();
        snapshot = meta;
    }

    @Override
    public void close() {
    }

    private int offset(long index) {
        return (int) (index - snapshot.index() - 1);
    }

    private void checkRange(long index) {
        if (index <= snapshot.index()) {
            throw new LogCompactedException(index, snapshot.index() + 1);
        }
        if (index > lastIndex()) {
            throw new LogUnavailableException(index, lastIndex());
        }
    }
}
