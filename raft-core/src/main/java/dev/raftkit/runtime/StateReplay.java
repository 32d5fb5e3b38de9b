package dev.raftkit.runtime;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.log.LogReader;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.spi.StagedState;
import dev.raftkit.spi.StagedStates;
import dev.raftkit.spi.StateMachine;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.Executor;

/**
 * Rebuilds a state machine's state offline, without a server, exactly as a node's apply thread
 * would: a runtime snapshot (its header of client sessions and log time, then the state machine's
 * image), then committed log entries in order, with the same client-session decisions
 * (duplicates, expired sessions) entry by entry. Two users: a backup's verification and a
 * restore's check bring a scratch state machine to a backup's index and compare its
 * {@link StateMachine#stateDigest() digest} with the manifest's; a live restore builds the image
 * it switches a running cluster to ({@link RaftServer#switchState}) from a restored chain
 * ({@link #replay}).
 *
 * <p>The session settings must be those the cluster ran with (the {@link RaftServerBuilder}
 * defaults unless it set others): they decide which session commands expired, and so which
 * commands reached the state machine. A live-restore entry in the replayed range replaces the
 * state with its image, read from the {@link StagedStates} given; without that image the replay
 * fails (the state after the switch is not in the log).
 *
 * <p><b>Threads:</b> one caller at a time, on the caller's thread; it owns the state machine it
 * is given while it replays. <b>Blocking:</b> yes: it runs the state machine's own work.
 * <b>Exceptions:</b> an {@link IOException} for a damaged snapshot or a live restore whose image
 * is not held; an exception from the state machine's {@code apply} propagates (the replay is then
 * unusable).
 */
public final class StateReplay {

    private static final Executor NO_ONE_WAITS = Runnable::run;
    private static final long BATCH_BYTES = 8L << 20;

    private final StateMachine sm;
    private final SessionTable sessions;
    private final StagedStates staged;
    private final Replies replies;
    private long appliedIndex;
    private long appliedTerm;
    private long logTime;

    /** Replays into {@code sm} with the default session settings (10 minutes, 1024 responses per session). */
    public StateReplay(StateMachine sm) {
        this(sm, RaftServerBuilder.DEFAULT_SESSION_TIMEOUT.toMillis(), RaftServerBuilder.DEFAULT_MAX_RESPONSES_PER_SESSION,
                StagedStates.NONE);
    }

    /**
     * Replays into {@code sm} with the cluster's session timeout and responses kept per session,
     * reading live-restore images from {@code staged}.
     */
    public StateReplay(StateMachine sm, long sessionTimeoutMillis, int maxResponsesPerSession, StagedStates staged) {
        this.sm = Objects.requireNonNull(sm, "sm");
        this.sessions = new SessionTable(sessionTimeoutMillis, maxResponsesPerSession);
        this.staged = Objects.requireNonNull(staged, "staged");
        this.replies = new Replies(NO_ONE_WAITS, new SafeMetrics(0, RaftMetrics.NONE));
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
        StateReplay replay = new StateReplay(fresh, s.sessionTimeoutMillis(), s.maxResponsesPerSession(), staged);
        try (SnapshotReader r = store.open(d)) {
            replay.restore(d.meta(), r.input());
        }
        while (replay.appliedIndex() < toIndex) {
            long next = replay.appliedIndex() + 1;
            List<Entry> entries = log.entries(next, toIndex + 1, BATCH_BYTES);
            if (entries.isEmpty()) {
                throw new IOException("the restored log has no entry " + next + " (it should reach " + toIndex + ")");
            }
            replay.apply(entries);
        }
        return toIndex;
    }

    /**
     * Replaces the state with a runtime snapshot at {@code meta}'s index ({@code in}: the bytes a
     * {@code SnapshotStore} holds, header first).
     */
    public void restore(SnapshotMeta meta, InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(new BufferedInputStream(in, 64 * 1024));
        long time = SnapshotHeader.readHeader(data, sessions, "snapshot " + meta.last());
        sm.restore(meta.index(), new FilterInputStream(data) {
            @Override
            public void close() {
                // The caller closes the stream it gave.
            }
        });
        logTime = time;
        appliedIndex = meta.index();
        appliedTerm = meta.term();
    }

    /**
     * Applies committed entries in order (as stored in the log: runtime-framed payloads, no-ops
     * and configuration changes included); entries at or below the applied index are skipped.
     *
     * @throws IllegalArgumentException if an entry leaves a gap after the applied index
     * @throws IOException              if a live-restore entry's image is not held, or cannot be read
     */
    public void apply(List<Entry> entries) throws IOException {
        SessionBatch batch = new SessionBatch(sessions, replies, entries.size());
        for (Entry e : entries) {
            if (e.index() <= appliedIndex) {
                continue;
            }
            if (e.index() != appliedIndex + 1) {
                throw new IllegalArgumentException("entry " + e.index() + " does not follow the applied index "
                        + appliedIndex + "; give the entries in order, without gaps");
            }
            byte[] data = e.data();
            if (e.type() != EntryType.CONF_CHANGE && data.length > 0) {
                EntryCodec.validate(data, e.index());
                logTime = Math.max(logTime, EntryCodec.timestamp(data));
                if (EntryCodec.kind(data) == EntryCodec.SWITCH_STATE) {
                    // What came before the switch is applied first: the image replaces all of it.
                    batch.applyTo(sm);
                    batch = new SessionBatch(sessions, replies, entries.size());
                    switchTo(EntryCodec.stagedState(data, e.index()), e.index());
                } else {
                    batch.add(e, data, null, logTime);
                }
            } // membership and the leader's no-op never reach the state machine
            appliedIndex = e.index();
            appliedTerm = e.term();
        }
        batch.applyTo(sm);
    }

    private void switchTo(StagedState state, long index) throws IOException {
        try (InputStream in = staged.open(state)) {
            if (in == null) {
                throw new IOException("the replayed log holds a live restore at index " + index + " to " + state
                        + ", whose image is not held here; rebuild to an index before " + index
                        + ", or from a full backup taken after it");
            }
            sm.restore(index, in);
        }
    }

    /** The index of the last entry replayed (or the snapshot's). */
    public long appliedIndex() {
        return appliedIndex;
    }

    /** The log time reached: the highest leader timestamp replayed (or the snapshot's). */
    public long logTimeMillis() {
        return logTime;
    }

    /** The state now: index, term, log time and the state machine's digest (a pass over its state). */
    public StateDigestAt state() {
        return new StateDigestAt(appliedIndex, appliedTerm, logTime, sm.stateDigest().orElse(null));
    }

    /**
     * Whether {@code e} is a live restore's switch ({@link RaftServer#switchState}): the state after
     * it is the staged image's, which the log does not hold, so a backup of entries cannot carry
     * the state across it (a full backup must follow it).
     */
    public static boolean switchesState(Entry e) {
        byte[] data = e.data();
        if (e.type() == EntryType.CONF_CHANGE || data.length == 0) {
            return false;
        }
        EntryCodec.validate(data, e.index());
        return EntryCodec.kind(data) == EntryCodec.SWITCH_STATE;
    }

    /**
     * The time the leader stamped into {@code e} when it accepted it (its clock, in epoch
     * milliseconds), or empty for an entry that carries none: the leader's no-op and
     * configuration changes.
     */
    public static OptionalLong leaderTimeMillis(Entry e) {
        byte[] data = e.data();
        if (e.type() == EntryType.CONF_CHANGE || data.length == 0) {
            return OptionalLong.empty();
        }
        EntryCodec.validate(data, e.index());
        return OptionalLong.of(EntryCodec.timestamp(data));
    }
}
