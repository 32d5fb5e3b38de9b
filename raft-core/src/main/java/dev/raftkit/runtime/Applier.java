package dev.raftkit.runtime;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.AppliedConfChange;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.runtime.ApplyInput.Pending;
import dev.raftkit.runtime.ApplyInput.ReadWaiter;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.spi.StagedState;
import dev.raftkit.spi.StagedStates;
import dev.raftkit.spi.StateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The apply thread: owns the state machine, the session table and the configuration as of the
 * applied index. Applies committed entries in batches in log order (the client-session decisions
 * of each batch are a {@link SessionBatch}'s), settles the futures of the entries' proposers and
 * answers reads once applied ≥ their index — completed on the events executor through
 * {@link Replies}, not here — and captures snapshots (written on the snapshot pool). Never waits
 * on another thread.
 */
final class Applier implements ApplyQueue {

    private final long id;
    private final RaftServer.Settings settings;
    private final StateMachine sm;
    /** Opens an installed snapshot to restore it. */
    private final SnapshotStore store;
    /** The snapshot pool: finds stored snapshots, writes captured ones. */
    private final SnapshotWork snapshots;
    private final ControlPort loop;
    /** The loop's published leader (0 when stopped), for hints in refusals; read only. */
    private final LongSupplier leaderHint;
    private final EventsPort events;
    private final Lifecycle lifecycle;
    /** applied, applyBatch, snapshotInstalled and the apply thread's refusals. */
    private final SafeMetrics metrics;
    /** Testing only ({@link TestingHooks}). */
    private final boolean answerForAnyTerm;
    private final boolean forgetSessionResponsesOnRestore;
    private final boolean skipUnheldStateSwitch;
    private final SessionTable sessions;
    private final Stage stage;
    private final ConcurrentLinkedQueue<ApplyInput> queue = new ConcurrentLinkedQueue<>();
    /** Reads queued or parked here, for the maxPendingReads limit. */
    private final AtomicInteger readsWaiting = new AtomicInteger();
    private final Map<Long, Pending> pendings = new HashMap<>();
    private final PriorityQueue<ReadWaiter> parked = new PriorityQueue<>(Comparator.comparingLong(ReadWaiter::index));
    private final AtomicBoolean snapshotRunning = new AtomicBoolean();
    /** snapshotNow() callers waiting for the next snapshot capture. */
    private final List<CompletableFuture<SnapshotDescriptor>> snapshotRequests = new ArrayList<>();
    /** snapshotNowWithDigest() callers waiting for the next snapshot capture. */
    private final List<CompletableFuture<DigestedSnapshot>> digestedSnapshotRequests = new ArrayList<>();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    /** Outcomes settled this round; completed on the events executor, never here (see {@link Replies}). */
    private final Replies replies;
    /** The images live restores switch to. */
    private final StagedStates staged;
    /**
     * A live-restore entry whose image this node does not hold yet, with the entries after it in
     * its task: nothing more is applied until the image is fetched (never skipped, never passed).
     */
    private Held held;
    /** Tasks that arrived while {@link #held}: applied in order once it is released. */
    private final ArrayDeque<ApplyInput.Task> deferred = new ArrayDeque<>();
    /** Set by {@link StagedStates#fetch}'s callback (any thread): try the held entry again. */
    private final AtomicBoolean fetched = new AtomicBoolean();

    /** Entries from a held live-restore entry on, and the core's decisions on their configuration changes. */
    private record Held(List<Entry> entries, List<AppliedConfChange> confChanges, StagedState state) {
    }

    private long appliedIndex;
    private long appliedTerm;
    /** Log time: the highest leader-stamped time applied so far (leaders' clocks may disagree). */
    private long logTime;
    private ConfState conf;
    private long lastSnapshotIndex;
    private long bytesSinceSnapshot;
    private boolean stopped;
    private volatile long publishedApplied;
    private volatile ConfState publishedConf;
    /**
     * The newest snapshot stored, for status: raised by the snapshot pool's callback and by an
     * install on this thread, so the larger one wins whichever comes last.
     */
    private final AtomicLong storedSnapshotIndex = new AtomicLong();
    /** Open client sessions as of the last round, for {@link RaftServer#gauges()}. */
    private volatile int publishedSessions;

    /**
     * Only what the apply thread may use (docs/threads.md, the apply row).
     *
     * @param sm         the state machine, owned by this stage from now on (but {@code Snapshot.writeTo})
     * @param store      opens a snapshot installed from the leader
     * @param snapshots  the snapshot pool
     * @param loop       the raft loop's control queue: Applied
     * @param leaderHint the loop's published leader, for refusals' hints
     * @param events     completes the futures this stage settles; listener callbacks
     * @param lifecycle  fail-stop
     * @param restored   what start-up recovery restored
     * @param metrics    apply latency and batch duration, installs, refusals decided here
     * @param staged     the images of live restores
     */
    Applier(long id, Executor executor, RaftServer.Settings settings, StateMachine sm, SnapshotStore store,
            SnapshotWork snapshots, ControlPort loop, LongSupplier leaderHint, EventsPort events, Lifecycle lifecycle,
            TestingHooks hooks, StartupRecovery.Restored restored, SafeMetrics metrics, StagedStates staged) {
        this.id = id;
        this.settings = settings;
        this.sm = sm;
        this.store = store;
        this.snapshots = snapshots;
        this.loop = loop;
        this.leaderHint = leaderHint;
        this.events = events;
        this.lifecycle = lifecycle;
        this.metrics = metrics;
        this.answerForAnyTerm = hooks.answerForAnyTerm();
        this.forgetSessionResponsesOnRestore = hooks.forgetSessionResponsesOnRestore();
        this.skipUnheldStateSwitch = hooks.skipUnheldStateSwitch();
        this.sessions = restored.sessions();
        this.appliedIndex = restored.index();
        this.appliedTerm = restored.term();
        this.logTime = restored.logTime();
        this.conf = restored.conf();
        this.lastSnapshotIndex = restored.index();
        this.publishedApplied = appliedIndex;
        this.publishedConf = conf;
        this.storedSnapshotIndex.set(restored.from() == null ? 0 : restored.from().meta().index());
        this.publishedSessions = sessions.size();
        this.replies = new Replies(events.executor(), metrics);
        this.staged = staged;
        this.stage = new Stage("apply-" + id, executor, this::round, () -> !queue.isEmpty(),
                t -> lifecycle.fail(t, "the apply thread"));
    }

    // ---------------------------------------------------------------------------------------
    // Producers (raft loop, client threads).

    @Override
    public void enqueue(ApplyInput input) {
        if (metrics.enabled && input instanceof ApplyInput.Task t && !t.committed().isEmpty()) {
            // Stamped as it is handed over: the apply latency counts its wait behind earlier batches.
            input = new ApplyInput.Timed(t, System.nanoTime());
        }
        queue.add(input);
        stage.signal();
    }

    /** Open client sessions as of the last apply round; any thread. */
    int openSessions() {
        return publishedSessions;
    }

    void signal() {
        stage.signal();
    }

    @Override
    public void readQueued() {
        readsWaiting.incrementAndGet();
    }

    @Override
    public boolean hasWaitingReads() {
        return readsWaiting.get() > 0;
    }

    @Override
    public long applied() {
        return publishedApplied;
    }

    @Override
    public ConfState conf() {
        return publishedConf;
    }

    @Override
    public long snapshotIndex() {
        return storedSnapshotIndex.get();
    }

    CompletableFuture<Void> drained() {
        return drained;
    }

    /**
     * A STALE read, straight from the client's thread: no raft-loop hop. {@code tick}, the loop's
     * tick count now, starts its read timeout.
     */
    CompletableFuture<byte[]> staleRead(byte[] query, long minIndex, long tick) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        if (!lifecycle.running()) {
            f.completeExceptionally(lifecycle.stoppedException());
            return f;
        }
        if (readsWaiting.incrementAndGet() > settings.maxPendingReads()) {
            readsWaiting.decrementAndGet();
            RaftException overloaded = new RaftException(RaftException.Reason.OVERLOADED, 0,
                    "node " + id + ": " + settings.maxPendingReads()
                            + " reads are waiting (limit maxPendingReads); back off and retry");
            metrics.refused(overloaded);
            f.completeExceptionally(overloaded);
            return f;
        }
        ReadWaiter w = new ReadWaiter(minIndex, query, f, tick);
        enqueue(w);
        if (!lifecycle.running() && queue.remove(w)) {
            f.completeExceptionally(lifecycle.stoppedException());
        }
        return f;
    }

    // ---------------------------------------------------------------------------------------
    // The apply thread.

    private boolean round() throws Exception {
        try {
            return applyRound();
        } finally {
            // Also when the round throws (fail-stop): what was settled before the failure stands,
            // as it did when futures completed on this thread.
            replies.flush();
        }
    }

    private boolean applyRound() throws Exception {
        if (stopped) {
            failQueued();
            return false;
        }
        if (lifecycle.failure() != null) {
            stopped = true;
            failAllWaiting(lifecycle.stoppedException());
            failQueued();
            drained.complete(null);
            return false;
        }
        long before = appliedIndex;
        boolean stop = false;
        if (held != null && fetched.getAndSet(false)) {
            Held h = held;
            held = null;
            apply(h.entries(), h.confChanges());
            while (held == null && !deferred.isEmpty()) {
                applyTask(deferred.poll(), 0);
            }
        }
        ApplyInput in;
        while (!stop && (in = queue.poll()) != null) {
            long handedAt = 0;
            if (in instanceof ApplyInput.Timed timed) {
                handedAt = timed.handedAtNanos();
                in = timed.task();
            }
            if (in instanceof ApplyInput.Task t) {
                for (Pending p : t.pendings()) {
                    pendings.put(p.index(), p);
                }
                if (t.reads() != null) {
                    // Served only once applied reaches their index, so queueing them early is safe.
                    parked.addAll(t.reads());
                }
                if (held != null && t.snapshot() != null && t.snapshot().index() >= held.entries().get(0).index()) {
                    supersedeHeld(t);
                } else if (held != null) {
                    deferred.add(t);
                } else {
                    applyTask(t, handedAt);
                }
            } else if (in instanceof ReadWaiter w) {
                parked.add(w);
            } else if (in instanceof ApplyInput.Sweep s) {
                expireReads(s.tick());
            } else if (in instanceof ApplyInput.SnapshotNow s) {
                if (s.future() != null) {
                    snapshotRequests.add(s.future());
                }
            } else if (in instanceof ApplyInput.DigestedSnapshotNow s) {
                digestedSnapshotRequests.add(s.future());
            } else if (in instanceof ApplyInput.DigestNow d) {
                // Here, between two tasks: the index and the digest describe the same state.
                StateDigestAt at;
                try {
                    at = stateNow();
                } catch (RuntimeException e) {
                    replies.fail(d.future(), e);
                    continue;
                }
                replies.complete(d.future(), at);
            } else if (in instanceof ApplyInput.Stop) {
                stop = true;
            }
        }
        publishedSessions = sessions.size();
        if (appliedIndex != before) {
            publishedApplied = appliedIndex;
            loop.post(new LoopInput.Applied(appliedIndex));
        }
        serveReads();
        if (stop) {
            stopped = true;
            failAllWaiting(lifecycle.stoppedException());
            drained.complete(null);
            return false;
        }
        maybeSnapshot();
        return false;
    }

    /**
     * A snapshot from the leader at or past the held live-restore entry: it holds the switched
     * state, so this node stops waiting for the image. The snapshot replaces the state; the tasks
     * deferred before it hold only entries it covers (the leader sends no snapshot older than what
     * this node committed), which are skipped, and their older snapshots are not restored.
     */
    private void supersedeHeld(ApplyInput.Task t) throws IOException {
        ArrayDeque<ApplyInput.Task> earlier = new ArrayDeque<>(deferred);
        deferred.clear();
        held = null;
        restore(t.snapshot());
        earlier.add(t);
        while (!earlier.isEmpty()) {
            ApplyInput.Task d = earlier.poll();
            if (held != null) {
                deferred.add(new ApplyInput.Task(List.of(), null, d.committed(), d.confChanges(), null));
            } else if (!d.committed().isEmpty()) {
                apply(d.committed(), d.confChanges());
            }
        }
    }

    /** A task's snapshot, then its entries (its pendings and reads are registered already). */
    private void applyTask(ApplyInput.Task t, long handedAt) throws IOException {
        if (t.snapshot() != null) {
            restore(t.snapshot());
        }
        if (!t.committed().isEmpty()) {
            apply(t.committed(), t.confChanges());
            if (handedAt != 0) {
                metrics.applied(System.nanoTime() - handedAt, t.committed().size());
            }
        }
    }

    /** §5 / Ready contract point 5: the received snapshot replaces the state before later entries apply. */
    private void restore(SnapshotMeta meta) throws IOException {
        SnapshotDescriptor d = snapshots.find(meta.last());
        if (d == null) {
            throw new IllegalStateException("node " + id + " must install snapshot " + meta.last()
                    + " but the snapshot store does not hold it; the transport handed the message over before"
                    + " the snapshot was committed");
        }
        long start = metrics.enabled ? System.nanoTime() : 0;
        try (SnapshotReader r = store.open(d)) {
            logTime = SnapshotHeader.restore(r, sm, sessions, meta.index(), "snapshot " + meta.last() + " from the leader",
                    forgetSessionResponsesOnRestore);
        }
        if (metrics.enabled) {
            metrics.snapshotInstalled(System.nanoTime() - start, d.sizeBytes());
        }
        appliedIndex = meta.index();
        appliedTerm = meta.term();
        conf = meta.conf();
        publishedConf = conf;
        lastSnapshotIndex = meta.index();
        storedSnapshotIndex.accumulateAndGet(meta.index(), Math::max);
        bytesSinceSnapshot = 0;
        // Proposals at or below the snapshot never reach this node's state machine as entries:
        // whether they made it is unknown here (a session retry settles it exactly once).
        pendings.values().removeIf(p -> {
            if (p.index() <= meta.index()) {
                replies.fail(p, outcomeUnknown(p, "this node replaced its log with snapshot " + meta.last()));
                return true;
            }
            return false;
        });
        ConfState c = conf;
        for (RaftListener l : events.listeners()) {
            events.event(() -> {
                l.onSnapshotInstalled(meta);
                l.onConfigurationChange(meta.index(), c);
            });
        }
    }

    /**
     * Applies a batch. The index, term, configuration changes and log time advance here; the
     * client-session decisions go to a {@link SessionBatch}, entry by entry (so they are the same
     * however entries were batched), and the state machine gets all commands of the batch in one
     * call. Outcomes go to {@link #replies}, settled on the events executor after the round.
     */
    private void apply(List<Entry> entries, List<AppliedConfChange> confChanges) {
        int nextConf = 0;
        SessionBatch batch = new SessionBatch(sessions, replies, entries.size());
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (e.index() <= appliedIndex) {
                continue;
            }
            if (e.type() != EntryType.CONF_CHANGE && e.data().length > 0
                    && EntryCodec.kind(e.data()) == EntryCodec.SWITCH_STATE) {
                // The commands before the switch see the old state: apply them first.
                applyBatch(batch);
                batch = new SessionBatch(sessions, replies, entries.size() - i);
                if (!switchState(e)) {
                    held = new Held(entries.subList(i, entries.size()), confChanges,
                            EntryCodec.stagedState(e.data(), e.index()));
                    return;
                }
                continue;
            }
            Pending p = pendings.remove(e.index());
            if (p != null && p.term() != e.term() && !answerForAnyTerm) {
                // Another leader's entry landed where ours was: ours was overwritten (§5.3 log
                // matching), so it never commits.
                replies.fail(p, outcomeUnknown(p, "entry " + e.index() + " was overwritten by term "
                        + e.term() + " (leadership changed)"));
                p = null;
            }
            appliedIndex = e.index();
            appliedTerm = e.term();
            bytesSinceSnapshot += e.data().length;
            if (e.type() == EntryType.CONF_CHANGE) {
                while (nextConf < confChanges.size() && confChanges.get(nextConf).index() < e.index()) {
                    nextConf++;
                }
                if (nextConf == confChanges.size() || confChanges.get(nextConf).index() != e.index()) {
                    throw new IllegalStateException("node " + id + ": the configuration change at " + e.index()
                            + " reached the apply thread without the core's decision on it (Ready.confChanges)");
                }
                applyConfChange(confChanges.get(nextConf), p);
                continue;
            }
            byte[] data = e.data();
            if (data.length == 0) {
                continue; // the leader's no-op (§8)
            }
            EntryCodec.validate(data, e.index());
            logTime = Math.max(logTime, EntryCodec.timestamp(data));
            batch.add(e, data, p, logTime);
        }
        applyBatch(batch);
    }

    /**
     * A live restore at {@code e}: replaces the state machine's state with the staged image the
     * entry names, at the entry's index. Returns false, having asked for the image, if this node
     * does not hold it yet. The session table and the log time carry on: they are the runtime's
     * record of the clients, not the application's state, so exactly-once holds across the switch
     * (a retry of a command applied before it is answered, not applied again).
     */
    private boolean switchState(Entry e) {
        byte[] data = e.data();
        EntryCodec.validate(data, e.index());
        StagedState state = EntryCodec.stagedState(data, e.index());
        long start = System.nanoTime();
        try (InputStream in = staged.open(state)) {
            if (in == null && skipUnheldStateSwitch) {
                // TestingHooks.skipUnheldStateSwitch: the planted bug, testing only.
                appliedIndex = e.index();
                appliedTerm = e.term();
                return true;
            }
            if (in == null) {
                LogFields.of(RaftServer.LOG.atInfo(), id).log("node {}: the live restore at index {} waits for {}, which this node does not hold; fetching it"
                        + " (nothing more is applied until it is here)", id, e.index(), state);
                staged.fetch(state, () -> {
                    fetched.set(true);
                    stage.signal();
                });
                return false;
            }
            sm.restore(e.index(), in);
        } catch (IOException damaged) {
            throw new IllegalStateException("node " + id + " cannot apply the live restore at index " + e.index()
                    + " to " + state + ": " + damaged.getMessage() + "; it stops rather than diverge from the replicas"
                    + " that applied it (put a good copy in its staging directory, or replace the node)", damaged);
        }
        Pending p = pendings.remove(e.index());
        if (p != null && p.term() != e.term() && !answerForAnyTerm) {
            replies.fail(p, outcomeUnknown(p, "entry " + e.index() + " was overwritten by term " + e.term()
                    + " (leadership changed)"));
            p = null;
        }
        appliedIndex = e.index();
        appliedTerm = e.term();
        logTime = Math.max(logTime, EntryCodec.timestamp(data));
        // The image's size counts toward the next snapshot, as the entries it replaced would have.
        bytesSinceSnapshot += state.sizeBytes();
        replies.complete(p, e.index());
        LogFields.of(RaftServer.LOG.atInfo(), id).log("node {}: live restore applied at index {}: the state is now {} ({} ms)", id, e.index(), state,
                (System.nanoTime() - start) / 1_000_000);
        return true;
    }

    private void applyBatch(SessionBatch batch) {
        if (metrics.enabled && batch.commandCount() > 0) {
            long start = System.nanoTime();
            batch.applyTo(sm);
            metrics.applyBatch(System.nanoTime() - start, batch.commandCount());
        } else {
            batch.applyTo(sm);
        }
    }

    /** Takes the configuration the core applied (it carries it in the Ready), never re-derives it. */
    private void applyConfChange(AppliedConfChange c, Pending p) {
        if (!c.accepted()) {
            // Every node refuses the same entry alike, a no-op everywhere.
            replies.fail(p, new RaftException(RaftException.Reason.INVALID, 0, "configuration change at "
                    + c.index() + " was rejected when applied: " + c.rejection()));
            return;
        }
        ConfState next = c.conf();
        conf = next;
        publishedConf = next;
        replies.complete(p, next);
        long index = c.index();
        for (RaftListener l : events.listeners()) {
            events.event(() -> l.onConfigurationChange(index, next));
        }
    }

    private RaftException outcomeUnknown(Pending p, String why) {
        return new RaftException(RaftException.Reason.OUTCOME_UNKNOWN, leaderHint.getAsLong(),
                "node " + id + ": the outcome of the request at index " + p.index() + " is unknown: " + why
                        + "; retry with the same session and sequence number to apply it exactly once");
    }

    private void serveReads() {
        while (!parked.isEmpty() && parked.peek().index() <= appliedIndex) {
            ReadWaiter w = parked.poll();
            readsWaiting.decrementAndGet();
            if (w.query() == null) { // RaftServer.readBarrier: the index is the answer
                replies.complete(w.future(), w.index());
                continue;
            }
            byte[] answer;
            try {
                answer = sm.query(w.query());
            } catch (RuntimeException e) {
                replies.fail(w.future(), e);
                continue;
            }
            replies.complete(w.future(), answer);
        }
    }

    private void expireReads(long tick) {
        if (parked.isEmpty()) {
            return;
        }
        long timeout = settings.readTimeoutTicks();
        parked.removeIf(w -> {
            if (w.createdTick() + timeout <= tick) {
                readsWaiting.decrementAndGet();
                RaftException timedOut = new RaftException(RaftException.Reason.TIMED_OUT,
                        leaderHint.getAsLong(), "node " + id + " had applied only " + appliedIndex
                        + " of the " + w.index() + " a read needs after " + timeout + " ticks; retry, or read elsewhere");
                metrics.refused(timedOut);
                w.future().completeExceptionally(timedOut);
                return true;
            }
            return false;
        });
    }

    /** A {@link RaftServer#snapshotNow()} request, from any thread. */
    CompletableFuture<SnapshotDescriptor> snapshotNow() {
        CompletableFuture<SnapshotDescriptor> f = new CompletableFuture<>();
        return request(f, new ApplyInput.SnapshotNow(f));
    }

    /** A {@link RaftServer#snapshotNowWithDigest()} request, from any thread. */
    CompletableFuture<DigestedSnapshot> snapshotNowWithDigest() {
        CompletableFuture<DigestedSnapshot> f = new CompletableFuture<>();
        return request(f, new ApplyInput.DigestedSnapshotNow(f));
    }

    /** A {@link RaftServer#stateDigest()} request, from any thread. */
    CompletableFuture<StateDigestAt> stateDigest() {
        CompletableFuture<StateDigestAt> f = new CompletableFuture<>();
        return request(f, new ApplyInput.DigestNow(f));
    }

    private <T> CompletableFuture<T> request(CompletableFuture<T> f, ApplyInput request) {
        if (!lifecycle.running()) {
            f.completeExceptionally(lifecycle.stoppedException());
            return f;
        }
        enqueue(request);
        if (!lifecycle.running() && queue.remove(request)) {
            f.completeExceptionally(lifecycle.stoppedException());
        }
        return f;
    }

    /** The applied index, its term, the log time and the state's digest now (apply thread). */
    private StateDigestAt stateNow() {
        String digest = sm.stateDigest().orElse(null);
        return new StateDigestAt(appliedIndex, appliedTerm, logTime, digest);
    }

    /**
     * Captures a snapshot once the entry or byte threshold is reached, or when snapshotNow() asked
     * for one; the pool writes it. One write at a time: requests arriving meanwhile wait for the
     * next capture, which the finished write triggers.
     */
    private void maybeSnapshot() {
        if (snapshotRunning.get()) {
            return;
        }
        boolean requested = !snapshotRequests.isEmpty() || !digestedSnapshotRequests.isEmpty();
        if (requested && appliedIndex == lastSnapshotIndex) {
            // Nothing applied since the last snapshot: if it is stored, it is the answer.
            SnapshotDescriptor d = snapshots.known(new EntryId(appliedTerm, appliedIndex));
            if (d != null) {
                answerSnapshotRequests(new ArrayList<>(snapshotRequests), d, null);
                snapshotRequests.clear();
                takeDigested().answer(d, null);
                return;
            }
        }
        if (requested && appliedIndex == 0) {
            RaftException nothing = new RaftException(
                    RaftException.Reason.INVALID, 0, "node " + id + " has applied nothing yet, so there"
                    + " is no state to snapshot; retry once the cluster has elected a leader");
            answerSnapshotRequests(new ArrayList<>(snapshotRequests), null, nothing);
            snapshotRequests.clear();
            takeDigested().answer(null, nothing);
            return;
        }
        if (!requested && appliedIndex <= lastSnapshotIndex) {
            return;
        }
        if (!requested && appliedIndex - lastSnapshotIndex < settings.snapshotEntries()
                && bytesSinceSnapshot < settings.snapshotBytes()) {
            return;
        }
        List<CompletableFuture<SnapshotDescriptor>> waiting = new ArrayList<>(snapshotRequests);
        snapshotRequests.clear();
        StateMachine.Snapshot image = sm.snapshot();
        // Read right after the capture, before anything else is applied: the digest of the
        // captured state. Only when asked: it is a pass over the whole state.
        Digested digested = takeDigested();
        byte[] header = SnapshotHeader.header(logTime, sessions);
        SnapshotMeta meta = new SnapshotMeta(new EntryId(appliedTerm, appliedIndex), conf);
        lastSnapshotIndex = appliedIndex;
        bytesSinceSnapshot = 0;
        snapshotRunning.set(true);
        snapshots.write(meta, header, image, (stored, error) -> {
            snapshotRunning.set(false);
            if (stored != null) {
                storedSnapshotIndex.accumulateAndGet(stored.meta().index(), Math::max);
            }
            answerSnapshotRequests(waiting, stored, error);
            digested.answer(stored, error);
            // Requests that came while this write ran wait for the apply thread's next round.
            enqueue(new ApplyInput.SnapshotNow(null));
        });
    }

    /** The waiting snapshotNowWithDigest() requests and the state now (or why it could not be digested). */
    private record Digested(List<CompletableFuture<DigestedSnapshot>> waiting, StateDigestAt state,
                            RuntimeException failure, EventsPort events) {
        void answer(SnapshotDescriptor d, Throwable error) {
            for (CompletableFuture<DigestedSnapshot> f : waiting) {
                if (error != null || failure != null) {
                    events.completeExceptionally(f, error != null ? error : failure);
                } else {
                    events.complete(f, new DigestedSnapshot(d, state));
                }
            }
        }
    }

    /** Takes the digested-snapshot requests, with the state read now if there are any. */
    private Digested takeDigested() {
        List<CompletableFuture<DigestedSnapshot>> waiting = new ArrayList<>(digestedSnapshotRequests);
        digestedSnapshotRequests.clear();
        StateDigestAt state = null;
        RuntimeException failure = null;
        if (!waiting.isEmpty()) {
            try {
                state = stateNow();
            } catch (RuntimeException e) {
                failure = e; // fails these requests only
            }
        }
        return new Digested(waiting, state, failure, events);
    }

    /** Completes snapshotNow() futures off the raft threads, so a caller's callback cannot stall them. */
    private void answerSnapshotRequests(List<CompletableFuture<SnapshotDescriptor>> waiting, SnapshotDescriptor d,
                                        Throwable error) {
        for (CompletableFuture<SnapshotDescriptor> f : waiting) {
            if (error != null) {
                events.completeExceptionally(f, error);
            } else {
                events.complete(f, d);
            }
        }
    }

    private void failAllWaiting(Throwable t) {
        snapshotRequests.forEach(f -> f.completeExceptionally(t));
        snapshotRequests.clear();
        digestedSnapshotRequests.forEach(f -> f.completeExceptionally(t));
        digestedSnapshotRequests.clear();
        for (Pending p : pendings.values()) {
            p.future().completeExceptionally(t);
        }
        pendings.clear();
        for (ReadWaiter w : parked) {
            w.future().completeExceptionally(t);
        }
        readsWaiting.addAndGet(-parked.size());
        parked.clear();
    }

    private void failQueued() {
        Throwable t = lifecycle.stoppedException();
        ApplyInput in;
        while ((in = queue.poll()) != null) {
            if (in instanceof ApplyInput.Timed timed) {
                in = timed.task();
            }
            if (in instanceof ApplyInput.Task task) {
                task.pendings().forEach(p -> p.future().completeExceptionally(t));
                if (task.reads() != null) {
                    task.reads().forEach(w -> w.future().completeExceptionally(t));
                }
            } else if (in instanceof ReadWaiter w) {
                w.future().completeExceptionally(t);
            } else if (in instanceof ApplyInput.SnapshotNow s && s.future() != null) {
                s.future().completeExceptionally(t);
            } else if (in instanceof ApplyInput.DigestedSnapshotNow s) {
                s.future().completeExceptionally(t);
            } else if (in instanceof ApplyInput.DigestNow d) {
                d.future().completeExceptionally(t);
            }
        }
        drained.complete(null);
    }
}
