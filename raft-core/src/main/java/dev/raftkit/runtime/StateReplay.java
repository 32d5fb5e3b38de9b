package dev.raftkit.runtime;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryType;
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
 * (duplicates, expired sessions) entry by entry. A backup's verification and a restore's check use
 * it to bring a scratch state machine to a backup's index and compare its
 * {@link StateMachine#stateDigest() digest} with the manifest's.
 *
 * <p>The session settings must be those the cluster ran with (the {@link RaftServerBuilder}
 * defaults unless it set others): they decide which session commands expired, and so which
 * commands reached the state machine.
 *
 * <p><b>Threads:</b> one caller at a time, on the caller's thread; it owns the state machine it
 * is given while it replays. <b>Blocking:</b> yes: it runs the state machine's own work.
 * <b>Exceptions:</b> an {@link IOException} for a damaged snapshot; an exception from the state
 * machine's {@code apply} propagates (the replay is then unusable).
 */
public final class StateReplay {

    private static final Executor NO_ONE_WAITS = Runnable::run;

    private final StateMachine sm;
    private final SessionTable sessions;
    private final Replies replies = new Replies(NO_ONE_WAITS, new SafeMetrics(0, RaftMetrics.NONE));
    private long appliedIndex;
    private long appliedTerm;
    private long logTime;

    /** Replays into {@code sm} with the default session settings (10 minutes, 1024 responses per session). */
    public StateReplay(StateMachine sm) {
        this(sm, RaftServerBuilder.DEFAULT_SESSION_TIMEOUT.toMillis(), RaftServerBuilder.DEFAULT_MAX_RESPONSES_PER_SESSION);
    }

    /** Replays into {@code sm} with the cluster's session timeout and responses kept per session. */
    public StateReplay(StateMachine sm, long sessionTimeoutMillis, int maxResponsesPerSession) {
        this.sm = Objects.requireNonNull(sm, "sm");
        this.sessions = new SessionTable(sessionTimeoutMillis, maxResponsesPerSession);
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
     */
    public void apply(List<Entry> entries) {
        SessionBatch batch = new SessionBatch(sessions, replies, entries.size());
        for (Entry e : entries) {
            if (e.index() <= appliedIndex) {
                continue;
            }
            if (e.index() != appliedIndex + 1) {
                throw new IllegalArgumentException("entry " + e.index() + " does not follow the applied index "
                        + appliedIndex + "; give the entries in order, without gaps");
            }
            appliedIndex = e.index();
            appliedTerm = e.term();
            byte[] data = e.data();
            if (e.type() == EntryType.CONF_CHANGE || data.length == 0) {
                continue; // membership and the leader's no-op never reach the state machine
            }
            EntryCodec.validate(data, e.index());
            logTime = Math.max(logTime, EntryCodec.timestamp(data));
            batch.add(e, data, null, logTime);
        }
        batch.applyTo(sm);
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
