package dev.raftkit.runtime;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.log.LogReader;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.spi.StagedState;
import dev.raftkit.spi.StagedStates;
import dev.raftkit.spi.StateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Rebuilds a state machine's state at an index from a stored snapshot and the committed entries
 * after it, exactly as a node's apply thread would (the same session decisions, so a duplicate in
 * the log is not applied twice), without starting a server: for building the image a live restore
 * switches a running cluster to ({@link RaftServer#switchState}) from a restored backup chain.
 *
 * <p>Blocking, on the caller's thread; the state machine given is a fresh one the caller owns and
 * closes. A live-restore entry inside the replayed range is applied from {@code staged} if this
 * node holds its image, and refused otherwise.
 */
public final class StateReplay {

    private static final long BATCH_BYTES = 8L << 20;

    private StateReplay() {
    }

    /**
     * Restores {@code store}'s newest snapshot into {@code fresh}, then applies {@code log}'s
     * entries after it up to {@code toIndex}, with the session settings of {@code like} (the
     * running server whose cluster the state is for). Returns the index reached ({@code toIndex}).
     *
     * @throws IOException if the store holds no snapshot, the log does not reach {@code toIndex},
     *                     or a live-restore entry's image is not held here
     */
    public static long replay(RaftServer like, SnapshotStore store, LogReader log, long toIndex, StateMachine fresh,
                              StagedStates staged) throws IOException {
        SnapshotDescriptor d = store.latest().orElseThrow(() -> new IOException(
                "the restored directory holds no snapshot to start the replay from"));
        if (toIndex < d.meta().index() || toIndex > log.lastIndex() && toIndex != d.meta().index()) {
            throw new IOException("cannot rebuild the state at index " + toIndex + ": the restored snapshot is at "
                    + d.meta().index() + " and the restored log ends at " + log.lastIndex());
        }
        RaftServer.Settings s = like.settings;
        SessionTable sessions = new SessionTable(s.sessionTimeoutMillis(), s.maxResponsesPerSession());
        long logTime;
        try (SnapshotReader r = store.open(d)) {
            logTime = SnapshotHeader.restore(r, fresh, sessions, d.meta().index(), "the restored snapshot "
                    + d.meta().last(), false);
        }
        // No one waits on a replayed entry: the replies go nowhere.
        Replies nowhere = new Replies(Runnable::run, new SafeMetrics(like.id(), RaftMetrics.NONE));
        long next = d.meta().index() + 1;
        while (next <= toIndex) {
            List<Entry> entries = log.entries(next, toIndex + 1, BATCH_BYTES);
            if (entries.isEmpty()) {
                throw new IOException("the restored log has no entry " + next + " (it should reach " + toIndex + ")");
            }
            SessionBatch batch = new SessionBatch(sessions, nowhere, entries.size());
            for (Entry e : entries) {
                byte[] data = e.data();
                if (e.type() == EntryType.CONF_CHANGE || data.length == 0) {
                    continue;
                }
                EntryCodec.validate(data, e.index());
                logTime = Math.max(logTime, EntryCodec.timestamp(data));
                if (EntryCodec.kind(data) == EntryCodec.SWITCH_STATE) {
                    batch.applyTo(fresh);
                    batch = new SessionBatch(sessions, nowhere, entries.size());
                    StagedState state = EntryCodec.stagedState(data, e.index());
                    try (InputStream in = staged.open(state)) {
                        if (in == null) {
                            throw new IOException("the replayed log holds a live restore at index " + e.index() + " to "
                                    + state + ", which this node does not hold; rebuild to an index before "
                                    + e.index() + ", or from a backup taken after it");
                        }
                        fresh.restore(e.index(), in);
                    }
                    continue;
                }
                batch.add(e, data, null, logTime);
            }
            batch.applyTo(fresh);
            next = entries.get(entries.size() - 1).index() + 1;
        }
        return toIndex;
    }
}
