package dev.raftkit.core;

/**
 * The leader's view of one follower's log (§3.5): what is known to match ({@code match}) and
 * what to send next ({@code next}), plus how to send it.
 *
 * <pre>
 *            reject / unreachable
 *   ┌──────── REPLICATE ◀────────────┐
 *   ▼                                │ ack
 *  PROBE ────────────────────────────┘
 *   │  ▲ next entry compacted        │
 *   │  └──── snapshot done/failed ───┤
 *   └──────────▶ SNAPSHOT ───────────┘
 * </pre>
 *
 * <ul>
 *   <li>{@code PROBE}: the leader does not know where the logs agree; one append at a time, and
 *       it backs off {@code next} on each rejection (using the follower's hint to skip a whole term).
 *   <li>{@code REPLICATE}: logs agree up to {@code match}; appends are pipelined optimistically,
 *       bounded by {@link Inflights}.
 *   <li>{@code SNAPSHOT}: the entries the follower needs are compacted; a snapshot is on its way
 *       and nothing else is sent until it is reported.
 * </ul>
 * Only this class changes its state; the leader calls the transitions.
 */
final class Progress {

    /** How the leader currently sends to this follower. */
    public enum State { PROBE, REPLICATE, SNAPSHOT }

    private long match;
    private long next;
    private State state = State.PROBE;
    private long pendingSnapshot;
    /** In SNAPSHOT: the peer streaming it on the leader's behalf (0: the leader itself). */
    private long snapshotPeer;
    /** Ticks since the peer was asked to stream it. */
    private int snapshotPeerElapsed;
    /** A peer's snapshot timed out: the next snapshot the leader sends itself (kept across states). */
    private boolean peerSnapshotFailed;
    private boolean recentActive;
    private boolean flowPaused;
    private boolean learner;
    private long ackedRound;
    /** The follower said, in its latest answer, that it is recovering lost state: do not count it. */
    private boolean recovering;
    private final Inflights inflights;

    public Progress(long match, long next, int maxInflight, long maxInflightBytes, boolean learner) {
        this.match = match;
        this.next = next;
        this.learner = learner;
        this.inflights = new Inflights(maxInflight, maxInflightBytes);
    }

    private void resetState(State s) {
        flowPaused = false;
        pendingSnapshot = 0;
        snapshotPeer = 0;
        snapshotPeerElapsed = 0;
        state = s;
        inflights.reset();
    }

    /** Back to probing: after a rejection, an unreachable report, or a finished snapshot. */
    public void becomeProbe() {
        if (state == State.SNAPSHOT) {
            // The snapshot may have been installed; resume after it rather than re-probe below it.
            long pending = pendingSnapshot;
            resetState(State.PROBE);
            next = Math.max(match + 1, pending + 1);
        } else {
            resetState(State.PROBE);
            next = match + 1;
        }
    }

    /** The logs agree up to {@code match}: pipeline from just after it. */
    public void becomeReplicate() {
        resetState(State.REPLICATE);
        next = match + 1;
    }

    /** The follower needs a snapshot up to {@code snapshotIndex}. */
    public void becomeSnapshot(long snapshotIndex) {
        resetState(State.SNAPSHOT);
        pendingSnapshot = snapshotIndex;
    }

    /** The follower needs a snapshot up to {@code snapshotIndex}, and {@code peer} is asked to stream one. */
    public void becomeSnapshotFromPeer(long snapshotIndex, long peer) {
        becomeSnapshot(snapshotIndex);
        snapshotPeer = peer;
    }

    /**
     * {@code ticks} passed while a peer streams the snapshot; returns true once {@code timeoutTicks}
     * have, and forgets the peer (the leader then sends its own; expiring early is harmless, the
     * follower refuses whichever snapshot arrives second).
     */
    public boolean peerSnapshotTimedOut(int timeoutTicks, long ticks) {
        if (state != State.SNAPSHOT || snapshotPeer == 0) {
            return false;
        }
        snapshotPeerElapsed = (int) Math.min(snapshotPeerElapsed + ticks, Integer.MAX_VALUE);
        if (snapshotPeerElapsed < timeoutTicks) {
            return false;
        }
        snapshotPeer = 0;
        snapshotPeerElapsed = 0;
        return true;
    }

    /**
     * The leader sent {@code entries} entries totalling {@code bytes} starting at {@code next}.
     * In REPLICATE it moves {@code next} optimistically past them; in PROBE it waits for the answer.
     */
    public void sentEntries(int entries, long bytes) {
        switch (state) {
            case REPLICATE -> {
                if (entries > 0) {
                    next += entries;
                    inflights.add(next - 1, bytes);
                }
                flowPaused = inflights.full();
            }
            case PROBE -> {
                if (entries > 0) {
                    flowPaused = true;
                }
            }
            case SNAPSHOT -> throw new IllegalStateException("sending entries while a snapshot is in flight");
        }
    }

    /**
     * The runtime finished streaming a snapshot to this follower. On failure the pending snapshot
     * is forgotten. Either way the leader probes again, but only after the next heartbeat answer
     * (so a failing follower is not sent a new snapshot in a tight loop).
     */
    public void snapshotFinished(boolean ok) {
        if (!ok) {
            pendingSnapshot = 0;
        }
        becomeProbe();
        flowPaused = true;
    }

    /**
     * The follower acknowledged {@code index}. Returns whether {@code match} moved; either way
     * {@code next} never falls behind an acknowledged index.
     */
    public boolean maybeUpdate(long index) {
        boolean updated = false;
        if (match < index) {
            match = index;
            updated = true;
            flowPaused = false;
        }
        next = Math.max(next, index + 1);
        return updated;
    }

    /**
     * The follower rejected an append whose {@code prev} was {@code rejected}; {@code matchHint} is
     * the highest index at which the logs may agree. Returns false if the rejection is stale
     * (answers an append older than what the leader now knows).
     */
    public boolean maybeDecrTo(long rejected, long matchHint) {
        if (state == State.REPLICATE) {
            if (rejected <= match) {
                return false;
            }
            next = match + 1;
            return true;
        }
        if (next - 1 != rejected) {
            return false;
        }
        long probe = Math.max(Math.min(rejected, matchHint + 1), match + 1);
        if (probe == next) {
            // rejected == match: the follower acknowledged this index, so the rejection is stale
            // (§5.3, reordered answers) — or the follower lost entries without knowing it (a disk
            // that lied about an fsync). Probing the same index again at once would loop at
            // network speed; the paused probe retries on the next heartbeat instead.
            return false;
        }
        next = probe;
        flowPaused = false;
        return true;
    }

    /**
     * The follower rejected the very append the leader last sent ({@code next - 1}) at or below
     * {@code match}: it no longer holds entries it acknowledged (its state was lost, or the match
     * came from a stale acknowledgement). Lowers {@code match} to {@code newMatch} — always safe: the
     * commit index never moves back — and probes from {@code nextProbe + 1}.
     */
    public void regressMatch(long newMatch, long nextProbe) {
        match = newMatch;
        resetState(State.PROBE);
        next = Math.max(newMatch + 1, nextProbe + 1);
    }

    /** Records whether the follower's latest answer said it is recovering lost state. */
    public void setRecovering(boolean recovering) {
        this.recovering = recovering;
    }

    /**
     * A heartbeat answer arrived: the follower is alive, so the leader may send again — a paused
     * probe retries, and a full in-flight window lets one empty append through (see
     * {@link #mustSendEmpty()}), because the appends that filled it may all have been lost.
     */
    public void heartbeatAcknowledged(long round) {
        recentActive = true;
        ackedRound = Math.max(ackedRound, round);
        flowPaused = false;
    }

    /**
     * True if the next append must carry no entries: replicating, but the in-flight window is full.
     * An empty append cannot grow the window, and its answer (accepted or rejected) clears it.
     */
    public boolean mustSendEmpty() {
        return state == State.REPLICATE && inflights.full();
    }

    /** Whether the leader should hold back appends to this follower for now. */
    public boolean isPaused() {
        return switch (state) {
            case PROBE, REPLICATE -> flowPaused;
            case SNAPSHOT -> true;
        };
    }

    public void freeInflightsUpTo(long index) {
        inflights.freeLE(index);
        flowPaused = inflights.full();
    }

    /** The last peer-streamed snapshot timed out: the leader sends the next one itself. */
    public void markPeerSnapshotFailed() {
        peerSnapshotFailed = true;
    }

    public void clearPeerSnapshotFailed() {
        peerSnapshotFailed = false;
    }

    public boolean peerSnapshotFailed() {
        return peerSnapshotFailed;
    }

    public void markRecentActive(boolean active) {
        recentActive = active;
    }

    public void setLearner(boolean learner) {
        this.learner = learner;
    }

    public long match() { return match; }
    public long next() { return next; }
    public State state() { return state; }
    public long pendingSnapshot() { return pendingSnapshot; }
    public long snapshotPeer() { return snapshotPeer; }
    public boolean recentActive() { return recentActive; }
    public boolean learner() { return learner; }
    public long ackedRound() { return ackedRound; }
    public boolean recovering() { return recovering; }
    public Inflights inflights() { return inflights; }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append(state).append(" match=").append(match).append(" next=").append(next);
        if (learner) {
            sb.append(" learner");
        }
        if (recovering) {
            sb.append(" recovering");
        }
        if (isPaused()) {
            sb.append(" paused");
        }
        if (pendingSnapshot > 0) {
            sb.append(" pendingSnap=").append(pendingSnapshot);
            if (snapshotPeer != 0) {
                sb.append(" fromPeer=").append(snapshotPeer);
            }
        }
        if (inflights.count() > 0) {
            sb.append(" inflight=").append(inflights.count());
        }
        return sb.toString();
    }
}
