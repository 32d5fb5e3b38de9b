package dev.raftkit.testkit.runtime;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.Entry;
import dev.raftkit.runtime.MemoryLogStorage;
import dev.raftkit.core.log.InitialState;
import dev.raftkit.spi.LogStorage;
import java.io.IOException;
import java.util.List;

/**
 * A {@link LogStorage} that forwards every call to a {@link MemoryLogStorage}: a test overrides the
 * one call it makes misbehave (a sync that fails, or hangs). Calls arrive on the runtime's threads,
 * as for any log.
 */
public class ForwardingLogStorage implements LogStorage {
    protected final MemoryLogStorage delegate;

    public ForwardingLogStorage(MemoryLogStorage delegate) {
        this.delegate = delegate;
    }

    @Override public InitialState initialState() { return delegate.initialState(); }
    @Override public long firstIndex() { return delegate.firstIndex(); }
    @Override public long lastIndex() { return delegate.lastIndex(); }
    @Override public long term(long index) { return delegate.term(index); }
    @Override public List<Entry> entries(long lo, long hi, long maxBytes) { return delegate.entries(lo, hi, maxBytes); }
    @Override public void append(List<Entry> entries) throws IOException { delegate.append(entries); }
    @Override public void setHardState(HardState hs) throws IOException { delegate.setHardState(hs); }
    @Override public void installSnapshot(SnapshotMeta s) throws IOException { delegate.installSnapshot(s); }
    @Override public void compact(SnapshotMeta s) throws IOException { delegate.compact(s); }
    @Override public void sync() throws IOException { delegate.sync(); }
    @Override public long usableSpace() throws IOException { return delegate.usableSpace(); }
    @Override public String location() { return delegate.location(); }
    @Override public void close() throws IOException { }
}
