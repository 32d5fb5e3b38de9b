package dev.raftkit.runtime;

import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftCore;
import dev.raftkit.core.RaftException;
import dev.raftkit.core.ReadMode;
import dev.raftkit.core.Status;
import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.LogCompactedException;
import dev.raftkit.spi.InvalidCommandException;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.spi.StagedState;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.spi.Transport;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one Raft node on threads (docs/architecture.md, section The runtime; every thread is described in docs/threads.md):
 *
 * <ul>
 *   <li><b>raft loop</b> — owns the {@link RaftCore}; drains a bounded inbox (ticks, peer messages,
 *       client requests, acknowledgements), steps them all, takes one Ready and dispatches it.
 *       Never blocks on I/O or a future.
 *   <li><b>log writer</b> — writes the queued Readys, one fsync per batch (group commit), then
 *       sends their after-persist messages and acknowledges them to the loop.
 *   <li><b>apply</b> — applies committed entries in batches, keeps client sessions, completes
 *       client futures, answers reads, captures snapshots.
 *   <li><b>snapshot pool</b> — writes, streams and receives snapshots.
 * </ul>
 *
 * <p>Client calls are safe from any thread and never block: each returns a future. Futures are
 * completed on the events executor (results and refusals alike; only a stopping or failed server
 * fails them on whichever thread notices), never on the apply thread, so a callback cannot stall
 * the state machine; still keep callbacks short or move on with {@code *Async(…, yourExecutor)}:
 * they delay listener events and other replies.
 *
 * <p>Storage failures are fail-stop (Ready contract point 6): the server stops, every waiting
 * future fails with {@link RaftException.Reason#STOPPED}, and {@link #status()} reports the
 * cause. The server owns the storage, state machine and transport it is given and closes them.
 */
public final class RaftServer implements AutoCloseable {

    static final Logger LOG = LoggerFactory.getLogger(RaftServer.class);

    enum State { RUNNING, STOPPING, STOPPED, FAILED }

    final long id;
    final Settings settings;
    final LogStorage log;
    final SnapshotStore snapshotStore;
    final StateMachine stateMachine;
    final Transport transport;
    final Clock clock;
    /** By {@link #clock}, when this server was built: its uptime's origin. */
    private final long startedAtMillis;
    final Executor events;
    private final List<ExecutorService> ownedExecutors;
    private final List<RaftListener> listeners;
    private final TickSource tickSource;

    /** The loop's control queue: what the writer, the apply thread and the snapshot pool post to. */
    final ControlPort control = new ControlPort();
    /** The lifecycle as the stages see it: running, the failure, fail-stop. */
    final Lifecycle lifecycle = new Lifecycle() {
        @Override
        public boolean running() {
            return RaftServer.this.running();
        }

        @Override
        public Throwable failure() {
            return RaftServer.this.failure();
        }

        @Override
        public RaftException stoppedException() {
            return RaftServer.this.stoppedException();
        }

        @Override
        public void fail(Throwable cause, String where) {
            RaftServer.this.fail(cause, where);
        }
    };
    /** The events executor as the stages may use it. */
    final EventsPort eventsPort = new EventsPort() {
        @Override
        public Executor executor() {
            return events;
        }

        @Override
        public List<RaftListener> listeners() {
            return listeners;
        }

        @Override
        public void event(Runnable r) {
            RaftServer.this.event(r);
        }

        @Override
        public void complete(CompletableFuture<?> f, Object value) {
            completeOffLoop(f, value);
        }

        @Override
        public void completeExceptionally(CompletableFuture<?> f, Throwable t) {
            completeExceptionallyOffLoop(f, t);
        }
    };

    final RaftLoop loop;
    final LogWriterStage writer;
    final Applier applier;
    final SnapshotWork snapshots;

    private final AtomicReference<State> state = new AtomicReference<>(State.RUNNING);
    private volatile Throwable failure;
    private volatile AutoCloseable tickHandle;
    /** First log index compaction must keep (a backup's pin); {@link Long#MAX_VALUE}: none. */
    private final AtomicLong logRetainedFrom = new AtomicLong(Long.MAX_VALUE);

    /** The embedder's tracer of protocol events, or null. */
    private final dev.raftkit.core.Tracer tracer;
    /** The embedder's metrics, called safely (a throwing sink never stops the node). */
    final SafeMetrics metrics;

    /** Limits and thresholds; see the {@link RaftServerBuilder} setters for what each means. */
    record Settings(int maxInboxRequests, int maxPeerMessages, int maxPendingReads, long snapshotEntries,
                    long snapshotBytes, int snapshotsToKeep, int readTimeoutTicks, long catchUpMargin,
                    long sessionTimeoutMillis, int maxResponsesPerSession, Duration shutdownTimeout,
                    int liveTicks, int maxCommandBytes, int diskStallTicks, long diskSlowMillis,
                    int diskStuckTicks, long minFreeDiskBytes) {
    }

    /** Publishes protocol events to the listeners that want them, or null if none does. */
    private final ProtocolEvents protocolEvents;

    /** Reports a runtime event (not the core's) to the embedder's tracer and listeners; on the raft loop. */
    void trace(String kind, String detail) {
        if (protocolEvents != null) {
            protocolEvents.event(id, kind, detail);
        } else if (tracer != null) {
            tracer.event(id, kind, detail);
        }
    }

    RaftServer(RaftServerBuilder b, RaftCore node, StartupRecovery.Restored restored, List<ExecutorService> owned) {
        this.id = b.config.id();
        this.settings = b.settings();
        this.log = b.log;
        this.snapshotStore = b.snapshotStore;
        this.stateMachine = b.stateMachine;
        this.transport = b.transport;
        this.clock = b.clock;
        this.startedAtMillis = clock.millis();
        this.listeners = List.copyOf(b.listeners);
        this.tracer = b.tracer;
        this.protocolEvents = b.protocolEvents;
        if (protocolEvents != null) {
            // Read on the raft loop, the only thread that steps the core and publishes from then on.
            protocolEvents.termFrom(node::term);
        }
        this.metrics = new SafeMetrics(id, b.metrics);
        this.tickSource = b.tickSource != null ? b.tickSource : TickSource.every(b.tickMillis, "raft-tick-" + id);
        this.ownedExecutors = owned;
        this.events = b.eventsExecutor;
        // Each stage gets only the ports it may post to (docs/threads.md, "may call"). The loop's
        // control queue exists first, so the stages that report to the loop can be built before
        // it; the loop, which posts to all of them, is built last.
        this.writer = new LogWriterStage(id, b.logWriterExecutor, log, transport::send, control,
                logRetainedFrom::get, lifecycle, b.nanoTime, settings.diskSlowMillis(), metrics);
        this.snapshots = new SnapshotWork(id, b.snapshotExecutor, snapshotStore, settings.snapshotsToKeep(),
                transport::sendSnapshot, writer::compact, control, eventsPort, lifecycle, metrics);
        if (restored.from() != null) {
            // A snapshotNow() with nothing applied since answers with it, instead of writing a
            // second snapshot at the same index.
            snapshots.remember(restored.from());
        }
        PublishedLeader leader = new PublishedLeader(lifecycle);
        this.applier = new Applier(id, b.applyExecutor, settings, stateMachine, snapshotStore, snapshots, control,
                leader::get, eventsPort, lifecycle, b.testingHooks, restored, metrics, b.stagedStates);
        this.loop = new RaftLoop(id, b.raftLoopExecutor, settings, node, clock, control, transport, writer, applier,
                snapshots, leader, eventsPort, lifecycle, this::trace, b.testingHooks, metrics, b.tickMillis);
    }

    /**
     * True if {@code log} and {@code snapshots} hold nothing a node ever persisted: no entry, no
     * snapshot, and an empty hard state (not even the recovering flag). That is a first start, or a
     * directory that was wiped; only such a node may found a cluster, and without founding it
     * starts recovering (thesis §3.8). Called before the server starts, on the caller's thread.
     */
    public static boolean hasNoDurableState(LogStorage log, SnapshotStore snapshots) throws IOException {
        return StartupRecovery.hasNoDurableState(log, snapshots);
    }

    /** Starts configuring a server for the node {@code config} describes. */
    public static RaftServerBuilder builder(RaftConfig config) {
        return new RaftServerBuilder(config);
    }

    public long id() {
        return id;
    }

    // ---------------------------------------------------------------------------------------
    // Client API.

    /**
     * Replicates {@code command} and applies it; completes with the state machine's result.
     * Without a session a retry after a failure may apply the command twice; use
     * {@link #submit(long, long, long, byte[])} or a {@link ClientSession} for exactly-once.
     *
     * <p>Before anything is proposed, on the calling thread, the command is checked: over
     * {@link RaftServerBuilder#maxCommandBytes} it fails with {@link RaftException.Reason#TOO_LARGE};
     * if {@link StateMachine#validate} refuses it, with {@link RaftException.Reason#INVALID}
     * and the state machine's reason. Neither is retryable and neither reaches the log.
     */
    public CompletableFuture<byte[]> submit(byte[] command) {
        Objects.requireNonNull(command, "command");
        RaftException refused = precheck(command);
        if (refused != null) {
            return failed(refused);
        }
        return enqueue(f -> new LoopInput.Propose(EntryCodec.command(command), f));
    }

    /** The largest command {@link #submit} accepts, in bytes ({@link RaftServerBuilder#maxCommandBytes}). */
    public int maxCommandBytes() {
        return settings.maxCommandBytes();
    }

    /** Longest part of a state machine's refusal copied into a reply: it may quote the command. */
    static final int MAX_REASON_CHARS = 300;

    /**
     * The size limit and the state machine's own check, on the caller's thread (never the raft
     * loop: a slow validation must not delay heartbeats). Null if the command may be proposed.
     */
    private RaftException precheck(byte[] command) {
        if (command.length > settings.maxCommandBytes()) {
            return SizeLimits.tooLarge(id, command.length, settings.maxCommandBytes());
        }
        try {
            stateMachine.validate(command);
            return null;
        } catch (InvalidCommandException e) {
            return new RaftException(RaftException.Reason.INVALID, 0, "node " + id
                    + ": the state machine refused the command before it was proposed: "
                    + truncate(String.valueOf(e.getMessage())));
        } catch (RuntimeException e) {
            // A validator bug: refuse (the command may be fine, but proposing what the state
            // machine cannot judge could stop every replica at apply) and say whose bug it is.
            return new RaftException(RaftException.Reason.INVALID, 0, "node " + id
                    + ": the state machine's validate() threw " + truncate(e.toString())
                    + " (a bug in the state machine: validate() must throw only InvalidCommandException)");
        }
    }

    static String truncate(String s) {
        return s.length() <= MAX_REASON_CHARS ? s : s.substring(0, MAX_REASON_CHARS) + "… (" + s.length() + " chars)";
    }

    /**
     * Submits command {@code sequence} of session {@code clientId} exactly once (§6.3): if the
     * session already applied that sequence number, completes with the first result instead of
     * applying it again. {@code lowestUnacked} is the lowest sequence number whose result the
     * client has not received yet; results below it are discarded from the replicated state.
     */
    public CompletableFuture<byte[]> submit(long clientId, long sequence, long lowestUnacked, byte[] command) {
        Objects.requireNonNull(command, "command");
        RaftException refused = precheck(command);
        if (refused != null) {
            return failed(refused);
        }
        if (sequence < lowestUnacked) {
            return failed(new RaftException(RaftException.Reason.INVALID, 0, "sequence " + sequence
                    + " is below lowestUnacked " + lowestUnacked + ": the client already acknowledged its result"));
        }
        return enqueue(f -> new LoopInput.Propose(EntryCodec.sessionCommand(clientId, sequence, lowestUnacked, command), f));
    }

    /** {@link #submit(long, long, long, byte[])} keeping every earlier result (up to the per-session cap). */
    public CompletableFuture<byte[]> submit(long clientId, long sequence, byte[] command) {
        return submit(clientId, sequence, 0, command);
    }

    /**
     * A live restore: proposes the entry that makes every replica replace its state machine's state
     * with the image {@code state} names, at that entry's index, and completes with the index once
     * this node has applied it (on the leader only, like {@link #submit}). Every read served after
     * that index sees the image's state, every read before sees the old one. Client sessions carry
     * on across the switch: a retry of a command applied before it is answered from the session
     * table, not applied again. Every replica must be able to get the image ({@link StagedStates}):
     * stage it on a majority first, or the cluster stops applying until it can fetch it.
     */
    public CompletableFuture<Long> switchState(StagedState state) {
        Objects.requireNonNull(state, "state");
        return enqueue(f -> new LoopInput.Propose(EntryCodec.switchState(state), f));
    }

    /** Opens a client session through the log; completes with its client id (the entry's index, §6.3). */
    public CompletableFuture<Long> openSession() {
        return enqueue(f -> new LoopInput.Propose(EntryCodec.openSession(), f));
    }

    /** Opens a session and wraps it in a {@link ClientSession} that numbers commands itself. */
    public CompletableFuture<ClientSession> newSession() {
        return openSession().thenApply(client -> new ClientSession(this, client));
    }

    /** Closes a session through the log, discarding its saved results on every node. */
    public CompletableFuture<Void> closeSession(long clientId) {
        return enqueue(f -> new LoopInput.Propose(EntryCodec.closeSession(clientId), f));
    }

    /** {@link #read(byte[], ReadMode, long)} with no minimum index. */
    public CompletableFuture<byte[]> read(byte[] query, ReadMode mode) {
        return read(query, mode, 0);
    }

    /**
     * Runs a read-only {@code query} against the state machine as {@code mode} says, on this node
     * (a follower asks the leader only for the read index). The query runs once this node has
     * applied at least {@code minIndex} too.
     */
    public CompletableFuture<byte[]> read(byte[] query, ReadMode mode, long minIndex) {
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(mode, "mode");
        return mode == ReadMode.STALE ? applier.staleRead(query, minIndex, loop.tickCount())
                : enqueue(f -> new LoopInput.Read(query, mode, minIndex, f));
    }

    /**
     * A linearizable barrier (thesis §6.4): completes with a read index once this node has applied
     * it, so the state of this node then holds every write acknowledged anywhere before the call.
     * A follower asks the leader for the index (one round trip); the leader confirms it still leads
     * as a {@link ReadMode#LINEARIZABLE} read does. Fails as such a read does: no leader, timed out.
     */
    public CompletableFuture<Long> readBarrier() {
        return enqueue(f -> new LoopInput.Read(null, ReadMode.LINEARIZABLE, 0, f));
    }

    /**
     * Protocol events dropped so far because the listeners that want them were
     * {@link RaftServerBuilder#maxPendingProtocolEvents} behind (0 if no listener wants them).
     */
    public long protocolEventsDropped() {
        return protocolEvents == null ? 0 : protocolEvents.dropped();
    }

    /**
     * A cheap view of this server; may lag the raft loop by one round (a leader's view of its
     * followers, one tick). Any thread; never blocks on I/O.
     */
    public ServerStatus status() {
        return loop.status(Duration.ofMillis(Math.max(0, clock.millis() - startedAtMillis)), log.sizeBytes());
    }

    /**
     * This server's gauges now (depths, indexes, log size, each follower's lag on a leader): what
     * a {@link RaftMetrics} binding polls, for any thread, as often as it likes. Made of values the
     * stages publish (the loop at each tick and round, the apply thread each round, the log writer
     * after each write), so it takes no lock of the server and may be up to one tick stale.
     */
    public RaftGauges gauges() {
        return loop.gauges(applier.openSessions(), log.sizeBytes(), log.segmentCount());
    }

    /** The core's full status (progress of each follower on a leader), taken on the raft loop. */
    public CompletableFuture<Status> detailedStatus() {
        return enqueue(LoopInput.GetStatus::new);
    }

    /**
     * Hands leadership to voter {@code to} (§3.10); completes once this node sees {@code to} lead,
     * or fails after the read timeout.
     */
    public CompletableFuture<Void> transferLeadership(long to) {
        return enqueue(f -> new LoopInput.Transfer(to, f));
    }

    /**
     * Makes learner {@code node} a voter (§4.1); the same as {@link #promote(long)}. A voter is
     * added only as a learner that has caught up: a node that is not yet a learner is refused with
     * {@link RaftException.Reason#INVALID} (add it with {@link #addLearner} first), because a
     * voter that does not exist or cannot keep up counts toward every quorum and can stop commits
     * for good (voters {@code [1, 3, 98, 99]} have no quorum while 98 and 99 do not run).
     */
    public CompletableFuture<ConfState> addVoter(long node) {
        return addVoter(node, false);
    }

    /** {@link #addVoter(long)}; {@code force} skips only the live-quorum check (see {@link #remove(long, boolean)}). */
    public CompletableFuture<ConfState> addVoter(long node, boolean force) {
        return changeOne(ConfChange.Type.ADD_VOTER, node, force);
    }

    /** Adds a non-voting learner that receives the log (§4.2.1). */
    public CompletableFuture<ConfState> addLearner(long node) {
        return changeOne(ConfChange.Type.ADD_LEARNER, node, false);
    }

    /**
     * Makes learner {@code node} a voter, only once it has caught up: its match index is within
     * {@code catchUpMargin} entries of the commit index (§4.2.1: a slow new voter would stall
     * commits). Otherwise fails with {@link RaftException.Reason#NOT_CAUGHT_UP}; retry later.
     * Refused like {@link #remove(long)} if the new voters would have no live quorum.
     */
    public CompletableFuture<ConfState> promote(long node) {
        return promote(node, false);
    }

    /** {@link #promote(long)}; {@code force} skips only the live-quorum check. */
    public CompletableFuture<ConfState> promote(long node, boolean force) {
        return addVoter(node, force);
    }

    /**
     * Removes a voter or learner (§4.1); a removed leader steps down once the change commits.
     * Refused with {@link RaftException.Reason#INVALID} and the arithmetic in the message if
     * the remaining voters would not hold a quorum of live members (the leader and the members it
     * heard from within one election timeout), since such a cluster could never commit again.
     */
    public CompletableFuture<ConfState> remove(long node) {
        return remove(node, false);
    }

    /**
     * {@link #remove(long)}; with {@code force} the live-quorum check is skipped: for an operator
     * who knows that the missing members will come back, or who accepts a stuck cluster.
     */
    public CompletableFuture<ConfState> remove(long node, boolean force) {
        return changeOne(ConfChange.Type.REMOVE, node, force);
    }

    /**
     * A one-step change of {@code node}. A node id that is not positive (0, or a uint64 at or
     * above 2^63 from the wire) fails the future with {@link RaftException.Reason#INVALID}
     * rather than throwing: callers on the client port hand the future to the caller as it is.
     */
    private CompletableFuture<ConfState> changeOne(ConfChange.Type type, long node, boolean force) {
        if (node <= 0) {
            return failed(new RaftException(RaftException.Reason.INVALID, 0, "node " + id
                    + ": node ids are between 1 and 2^63-1, not " + Long.toUnsignedString(node)));
        }
        ConfChange change = new ConfChange(List.of(new ConfChange.Step(type, node)), ConfChange.Transition.AUTO);
        return enqueue(f -> new LoopInput.ChangeConf(change, force, f));
    }

    /**
     * Proposes any configuration change, joint ones included (§4.3), under the same checks as the
     * single-node methods: every new voter must be a caught-up learner, and the resulting voters
     * must hold a live quorum.
     */
    public CompletableFuture<ConfState> changeConfiguration(ConfChange change) {
        return changeConfiguration(change, false);
    }

    /** {@link #changeConfiguration(ConfChange)}; {@code force} skips only the live-quorum check. */
    public CompletableFuture<ConfState> changeConfiguration(ConfChange change, boolean force) {
        Objects.requireNonNull(change, "change");
        return enqueue(f -> new LoopInput.ChangeConf(change, force, f));
    }

    // ---------------------------------------------------------------------------------------
    // Backup primitives (docs/architecture.md, section Storage; docs/divergence.md "Backups"): state-machine-agnostic
    // building blocks; the backup formats and orchestration live in raft-storage.

    /**
     * Takes a snapshot at the index this node has applied, now, through the same machinery as the
     * threshold snapshots (the state machine's point-in-time image plus the runtime's sessions and
     * log time), and completes with what the {@link SnapshotStore} committed. If nothing was
     * applied since the newest snapshot this server wrote, completes with that one. The log is
     * compacted to the new snapshot afterwards, as for any snapshot, within the
     * {@linkplain #retainLogFrom retention pin}.
     *
     * <ul>
     *   <li><b>Thread:</b> any. The capture runs on the apply thread, the write on the snapshot
     *       pool; the future completes on the events executor.
     *   <li><b>Blocking:</b> never; returns at once.
     *   <li><b>Durability:</b> when the future completes, the snapshot is durable in the store. It
     *       stays there until {@code snapshotsToKeep} newer snapshots push it out: copy it promptly.
     *   <li><b>Exceptions:</b> the future fails with {@link RaftException} (STOPPED if the
     *       server stops first; INVALID if nothing was applied yet) or with the store's
     *       {@link IOException} if the write failed (the store keeps its older snapshots).
     * </ul>
     */
    public CompletableFuture<SnapshotDescriptor> snapshotNow() {
        return applier.snapshotNow();
    }

    /**
     * {@link #snapshotNow()}, and with it the state it captured: the state machine's
     * {@link StateMachine#stateDigest() digest} and the log time, read on the apply thread right
     * after the capture, before anything else is applied, so they describe exactly the snapshot's
     * index. A backup records them in its manifest. Costs a pass over the whole state on the
     * apply thread (applying waits for it).
     *
     * <ul>
     *   <li><b>Thread:</b> any; completes on the events executor.
     *   <li><b>Blocking:</b> never; returns at once.
     *   <li><b>Durability:</b> as {@link #snapshotNow()}.
     *   <li><b>Exceptions:</b> as {@link #snapshotNow()}, and the future fails with the state
     *       machine's exception if its {@code stateDigest()} threw (the node goes on).
     * </ul>
     */
    public CompletableFuture<DigestedSnapshot> snapshotNowWithDigest() {
        return applier.snapshotNowWithDigest();
    }

    /**
     * The applied index, its term, the log time and the state machine's
     * {@link StateMachine#stateDigest() digest}, read together on the apply thread between two
     * batches. An incremental backup ends at this index, so its manifest's digest is the state at
     * its last entry; replicas compare their states with it.
     *
     * <ul>
     *   <li><b>Thread:</b> any; completes on the events executor.
     *   <li><b>Blocking:</b> never; returns at once. Applying waits for the digest: a pass over the
     *       whole state.
     *   <li><b>Durability:</b> read-only.
     *   <li><b>Exceptions:</b> the future fails with {@link RaftException} STOPPED if the server
     *       stops first, or with the state machine's exception if its {@code stateDigest()} threw.
     * </ul>
     */
    public CompletableFuture<StateDigestAt> stateDigest() {
        return applier.stateDigest();
    }

    /**
     * Pins the log: from now on compaction keeps every entry at index {@code index} or later, so
     * an incremental backup can export them later. {@code Long.MAX_VALUE} (or
     * {@link #releaseLogRetention()}) removes the pin. The pin is a promise about future
     * compactions only: entries already gone stay gone, an InstallSnapshot from the leader
     * replaces this node's whole log, and the pin is not persisted across restarts. A backup
     * detects each case, because {@link #readCommitted} then fails, and takes a full backup.
     *
     * <ul>
     *   <li><b>Thread:</b> any; the log writer reads the pin when it compacts.
     *   <li><b>Blocking:</b> never.
     *   <li><b>Durability:</b> none: in memory only.
     *   <li><b>Exceptions:</b> {@link IllegalArgumentException} if {@code index < 1}.
     * </ul>
     */
    public void retainLogFrom(long index) {
        if (index < 1) {
            throw new IllegalArgumentException("log retention index must be at least 1, got " + index);
        }
        logRetainedFrom.set(index);
    }

    /** Removes the {@linkplain #retainLogFrom retention pin}; later compactions drop what snapshots cover. */
    public void releaseLogRetention() {
        logRetainedFrom.set(Long.MAX_VALUE);
    }

    /** The current {@linkplain #retainLogFrom retention pin}, {@link Long#MAX_VALUE} if none. */
    public long logRetainedFrom() {
        return logRetainedFrom.get();
    }

    /**
     * Committed entries from {@code fromIndex} to {@code toIndex} inclusive — the upper end
     * capped at this node's commit index — exactly as stored in the log (runtime-framed
     * payloads, configuration changes included), at most about {@code maxBytes} of them
     * ({@link Entry#sizeBytes()}), but at least one if any is in range. An empty list means nothing
     * in range is committed yet. Ask again from the last index + 1 for the rest.
     *
     * <ul>
     *   <li><b>Thread:</b> any; read on the raft loop, which owns the authoritative view of the
     *       log; completes on the events executor.
     *   <li><b>Blocking:</b> never; the loop may read from disk briefly, as it does to replicate.
     *   <li><b>Durability:</b> read-only. Committed entries never change, so what it returns is final.
     *   <li><b>Exceptions:</b> the future fails with {@link LogCompactedException} if
     *       {@code fromIndex} is already compacted away (take a full backup instead), with
     *       {@link RaftException} OVERLOADED or STOPPED like any client request, and with
     *       {@link IllegalArgumentException} for an empty or negative range.
     * </ul>
     */
    public CompletableFuture<List<Entry>> readCommitted(long fromIndex, long toIndex, long maxBytes) {
        if (fromIndex < 1 || toIndex < fromIndex || maxBytes <= 0) {
            return failed(new IllegalArgumentException("readCommitted needs 1 <= fromIndex <= toIndex and a positive"
                    + " maxBytes; got [" + fromIndex + ", " + toIndex + "], maxBytes " + maxBytes));
        }
        return enqueue(f -> new LoopInput.ReadCommitted(fromIndex, toIndex, maxBytes, f));
    }

    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> enqueue(Function<CompletableFuture<T>, LoopInput.Client> make) {
        CompletableFuture<T> f = new CompletableFuture<>();
        if (state.get() != State.RUNNING) {
            f.completeExceptionally(counted(stoppedException()));
            return f;
        }
        LoopInput.Client input = make.apply(f);
        if (!loop.offer(input)) {
            f.completeExceptionally(counted(new RaftException(RaftException.Reason.OVERLOADED, status().leader(),
                    "node " + id + ": the raft-loop inbox is full (" + settings.maxInboxRequests()
                            + " client requests waiting, limit maxInboxRequests); back off and retry")));
            return f;
        }
        if (state.get() != State.RUNNING && loop.withdraw(input)) {
            // Shutdown began between the check and the offer, and the loop had not taken it yet.
            f.completeExceptionally(stoppedException());
        }
        return f;
    }

    /** A refusal decided on the caller's thread (the prechecks, a full inbox), counted as one. */
    private <T> CompletableFuture<T> failed(Throwable t) {
        metrics.refused(t);
        return CompletableFuture.failedFuture(t);
    }

    // ---------------------------------------------------------------------------------------
    // Lifecycle.

    boolean running() {
        return state.get() == State.RUNNING;
    }

    Throwable failure() {
        return failure;
    }

    RaftException stoppedException() {
        Throwable cause = failure;
        if (cause != null) {
            return new RaftException(RaftException.Reason.STOPPED, 0, "node " + id
                    + " stopped after a failure (" + cause.getMessage() + "); retry at another node", cause);
        }
        return new RaftException(RaftException.Reason.STOPPED, 0,
                "node " + id + " is stopping or stopped; retry at another node");
    }

    /**
     * Fail-stop (Ready contract point 6): called by any stage that hit an error it cannot recover
     * from. Nothing more is acknowledged or sent; every waiting future fails.
     */
    void fail(Throwable cause, String where) {
        State before = state.getAndUpdate(s -> s == State.STOPPED ? s : State.FAILED);
        if (before == State.FAILED || before == State.STOPPED) {
            return;
        }
        failure = cause;
        LogFields.of(LOG.atError(), id).setCause(cause)
                .log("node {} stops: {} failed: {}; it will not acknowledge or apply anything more."
                        + " Fix the cause (see the exception) and restart the node", id, where, cause.toString());
        closeQuietly(tickHandle, "tick source");
        // Stop talking at once: a node whose storage failed must not promise anything to its peers.
        transport.close();
        loop.signal();
        writer.signal();
        applier.signal();
        for (RaftListener l : listeners) {
            event(() -> l.onStopped(cause));
        }
    }

    /** Runs an observer callback on the events executor, never on a raft thread. */
    void event(Runnable r) {
        try {
            events.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.warn("node {}: a RaftListener threw; ignored", id, e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            // The events executor is gone with the server.
        }
    }

    List<RaftListener> listeners() {
        return listeners;
    }

    private Throwable counted(Throwable t) {
        metrics.refused(t);
        return t;
    }

    /**
     * Completes a future off the raft threads (refusals from the loop), so callbacks cannot stall
     * it. Every refusal the loop decides passes here, so this is where the loop's are counted.
     */
    void completeExceptionallyOffLoop(CompletableFuture<?> f, Throwable t) {
        metrics.refused(t);
        try {
            events.execute(() -> f.completeExceptionally(t));
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            f.completeExceptionally(t);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    void completeOffLoop(CompletableFuture f, Object value) {
        try {
            events.execute(() -> f.complete(value));
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            f.complete(value);
        }
    }

    /**
     * Graceful shutdown: stops taking work (new calls fail with STOPPED), hands out and persists
     * what the node has already accepted, applies what is committed, fails whatever still waits,
     * then closes the transport, the log, the snapshot store and the state machine. A new server
     * on the same storage resumes from there. Waits at most the shutdown timeout; idempotent.
     */
    @Override
    public void close() {
        if (!state.compareAndSet(State.RUNNING, State.STOPPING)) {
            if (state.get() == State.FAILED) {
                releaseResources();
                state.set(State.STOPPED);
            }
            return;
        }
        closeQuietly(tickHandle, "tick source");
        loop.stop();
        try {
            CompletableFuture.allOf(writer.drained(), applier.drained(), snapshots.idle())
                    .get(settings.shutdownTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("node {}: shutdown did not drain within {} ({}); closing anyway", id, settings.shutdownTimeout(),
                    e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeResources();
        state.set(State.STOPPED);
        loop.publishStopped();
        for (RaftListener l : listeners) {
            event(() -> l.onStopped(null));
        }
        // shutdown() lets the events executor run the stop events queued just above.
        ownedExecutors.forEach(ExecutorService::shutdown);
    }

    private void releaseResources() {
        closeResources();
        ownedExecutors.forEach(ExecutorService::shutdown);
    }

    private void closeResources() {
        transport.close();
        closeQuietly(log, "log storage");
        closeQuietly(snapshotStore, "snapshot store");
        closeQuietly(stateMachine, "state machine");
    }

    private void closeQuietly(AutoCloseable c, String what) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("node {}: closing the {} failed", id, what, e);
        }
    }

    void startTicking() {
        tickHandle = tickSource.start(loop::tick);
    }
}
