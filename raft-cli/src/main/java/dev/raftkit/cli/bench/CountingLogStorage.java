package dev.raftkit.cli.bench;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.InitialState;
import dev.raftkit.spi.LogStorage;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link LogStorage} that counts what the log writer asks of the log it wraps: {@link #sync()}
 * calls (each one fdatasync at most) and appended entries, so the benchmark reports fsyncs per
 * second and entries per fsync. Everything else is passed through unchanged.
 */
public final class CountingLogStorage implements LogStorage {

    private final LogStorage delegate;
    private final LongAdder syncs = new LongAdder();
    private final LongAdder entries = new LongAdder();

    public CountingLogStorage(LogStorage delegate) {
        this.delegate = delegate;
    }

    /** {@code sync()} calls so far. */
    public long syncs() {
        return syncs.sum();
    }

    /** Entries appended so far. */
    public long entries() {
        return entries.sum();
    }

    @Override
    public InitialState initialState() {
        return delegate.initialState();
    }

    @Override
    public long firstIndex() {
        return delegate.firstIndex();
    }

    @Override
    public long lastIndex() {
        return delegate.lastIndex();
    }

    @Override
    public long term(long index) {
        return delegate.term(index);
    }

    @Override
    public List<Entry> entries(long lo, long hi, long maxBytes) {
        return delegate.entries(lo, hi, maxBytes);
    }

    @Override
    public void append(List<Entry> list) throws IOException {
        delegate.append(list);
        entries.add(list.size());
    }

    @Override
    public void setHardState(HardState hardState) throws IOException {
        delegate.setHardState(hardState);
    }

    @Override
    public void installSnapshot(SnapshotMeta snapshot) throws IOException {
        delegate.installSnapshot(snapshot);
    }

    @Override
    public void sync() throws IOException {
        delegate.sync();
        syncs.increment();
    }

    /** The wrapped log's, so {@code --metrics on} reports the log's size as an unwrapped node would. */
    @Override
    public long sizeBytes() {
        return delegate.sizeBytes();
    }

    @Override
    public int segmentCount() {
        return delegate.segmentCount();
    }

    @Override
    public long usableSpace() throws IOException {
        return delegate.usableSpace();
    }

    @Override
    public String location() {
        return delegate.location();
    }

    @Override
    public void compact(SnapshotMeta snapshot) throws IOException {
        delegate.compact(snapshot);
    }

    @Override
    public void compact(SnapshotMeta snapshot, long keepFrom) throws IOException {
        delegate.compact(snapshot, keepFrom);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
