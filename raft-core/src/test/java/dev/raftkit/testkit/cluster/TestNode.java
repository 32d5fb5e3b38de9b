package dev.raftkit.testkit.cluster;

import dev.raftkit.core.HardState;
import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftCore;
import dev.raftkit.core.Ready;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.AppliedConfChange;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.runtime.MemoryLogStorage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One node of a {@link TestCluster}: the protocol, its durable log, and a trivial state machine
 * (the list of applied entries, with the configuration they imply).
 */
public final class TestNode {

    private RaftCore raft;
    private RaftConfig config;
    private MemoryLogStorage storage;
    final List<Ready> unpersisted = new ArrayList<>();
    boolean crashed;
    /** The state machine: every entry applied, in order (a restored snapshot contributes its entries). */
    private final List<Entry> applied = new ArrayList<>();
    private ConfState appliedConf = ConfState.EMPTY;
    /** State machine images of snapshots taken or received, by last entry. */
    private final Map<EntryId, List<Entry>> snapshots = new HashMap<>();
    /** Data of snapshots received and not yet installed, by snapshot (see TestCluster.deliver). */
    final Map<EntryId, List<Entry>> incomingSnapshots = new HashMap<>();

    TestNode(RaftConfig config, MemoryLogStorage storage) {
        this.config = config;
        this.storage = storage;
        this.raft = new RaftCore(config, storage);
    }

    public long id() {
        return config.id();
    }

    public RaftCore raft() {
        return raft;
    }

    public RaftConfig config() {
        return config;
    }

    public MemoryLogStorage storage() {
        return storage;
    }

    public boolean crashed() {
        return crashed;
    }

    /** Entries applied to the state machine, in order. */
    public List<Entry> applied() {
        return applied;
    }

    public long appliedIndex() {
        return applied.isEmpty() ? storage.snapshot().index() : applied.get(applied.size() - 1).index();
    }

    /** The configuration as of the applied index, from the applied entries alone. */
    public ConfState appliedConf() {
        return appliedConf;
    }

    public List<Ready> unpersisted() {
        return unpersisted;
    }

    void write(Ready r) {
        if (r.snapshot() != null) {
            storage.installSnapshot(r.snapshot());
        }
        storage.append(r.entries());
        if (r.hardState() != null) {
            storage.setHardState(r.hardState());
        }
    }

    void apply(Ready r, TestCluster cluster) {
        if (r.snapshot() != null) {
            List<Entry> data = incomingSnapshots.remove(r.snapshot().last());
            data = data != null ? data : snapshots.get(r.snapshot().last());
            if (data == null) {
                throw new AssertionError("node " + id() + " installs snapshot " + r.snapshot().last() + " without data");
            }
            applied.clear();
            applied.addAll(data);
            snapshots.put(r.snapshot().last(), List.copyOf(data));
            appliedConf = r.snapshot().conf();
        }
        for (Entry e : r.committedEntries()) {
            if (e.index() != appliedIndex() + 1) {
                throw new AssertionError("node " + id() + " applies " + e.id() + " after " + appliedIndex());
            }
            applied.add(e);
        }
        for (AppliedConfChange c : r.confChanges()) {
            appliedConf = c.conf(); // refused changes carry the configuration unchanged
        }
        if (!r.committedEntries().isEmpty()) {
            raft.onApplied(r.lastCommittedIndex());
        }
    }

    void compact() {
        long at = appliedIndex();
        EntryId id = new EntryId(storage.term(at), at);
        SnapshotMeta meta = new SnapshotMeta(id, appliedConf);
        snapshots.put(id, List.copyOf(applied));
        storage.compact(meta);
        raft.compacted(meta); // as the runtime does once its log writer compacted
    }

    List<Entry> snapshotData(SnapshotMeta meta) {
        List<Entry> data = snapshots.get(meta.last());
        if (data == null) {
            throw new AssertionError("node " + id() + " has no snapshot data for " + meta.last());
        }
        return data;
    }

    /** All durable state lost: an empty log whose hard state says it is recovering; restarted. */
    void wipe(RaftConfig newConfig) {
        crashed = false;
        unpersisted.clear();
        storage = new MemoryLogStorage();
        storage.setHardState(HardState.LOST);
        applied.clear();
        appliedConf = ConfState.EMPTY;
        snapshots.clear();
        incomingSnapshots.clear();
        config = newConfig;
        raft = new RaftCore(config, storage);
    }

    /** A node's durable state (log, hard state, snapshots), as a copy of its data directory holds it. */
    record DiskCopy(MemoryLogStorage log, Map<EntryId, List<Entry>> snapshots) {
    }

    DiskCopy copyDisk() {
        return new DiskCopy(storage.copy(), Map.copyOf(snapshots));
    }

    /** Puts back a {@link #copyDisk} copy as this (crashed) node's durable state. */
    void restoreDisk(DiskCopy copy) {
        storage = copy.log().copy();
        snapshots.clear();
        snapshots.putAll(copy.snapshots());
    }

    void restart(RaftConfig newConfig) {
        crashed = false;
        unpersisted.clear();
        // The state machine here is in memory: it restarts from the latest snapshot and replays.
        SnapshotMeta snap = storage.snapshot();
        List<Entry> image = snap.index() == 0 ? List.of() : snapshots.get(snap.last());
        applied.clear();
        applied.addAll(image);
        appliedConf = snap.conf();
        config = newConfig.toBuilder().applied(snap.index()).build();
        raft = new RaftCore(config, storage);
    }
}
