package dev.raftkit.runtime;

import dev.raftkit.core.RaftCore;
import dev.raftkit.core.RaftException;
import dev.raftkit.core.ReadState;
import dev.raftkit.core.Ready;
import dev.raftkit.core.Role;
import dev.raftkit.core.confchange.AppliedConfChange;
import dev.raftkit.core.confchange.Changer;
import dev.raftkit.core.confchange.ConfChange;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.confchange.LiveQuorumCheck;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.log.LogCompactedException;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.runtime.ApplyInput.Pending;
import dev.raftkit.runtime.ApplyInput.ReadWaiter;
import dev.raftkit.spi.ResumableSnapshotWriter;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.StorageException;
import dev.raftkit.spi.Transport;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The raft-loop thread: the only owner of the {@link RaftCore}. A round drains the inbox
 * (acknowledgements first, then ticks, peer messages and client requests, each bounded), steps
 * all of it, takes at most one Ready and dispatches it: messages to the transport at once (a
 * leader's AppendEntries go out before its own fsync, §10.2.1), persist work to the log writer,
 * committed entries and read answers to the apply thread. It never blocks on I/O or a future.
 */
final class RaftLoop {

    private static final Logger LOG = LoggerFactory.getLogger(RaftLoop.class);
    /** Inputs of one kind stepped per round before the Ready is taken: bounds a round's latency. */
    private static final int BATCH = 1024;

    private record LoopView(Role role, long term, long leader, long commit, long lastIndex, boolean recovering) {
    }

    /**
     * What the loop publishes at each tick for {@link RaftServer#gauges()}: the client inbox's depth,
     * the log's first index, and on a leader each follower's lag (empty elsewhere).
     */
    private record TickView(int inboxDepth, long firstIndex, Map<Long, RaftGauges.FollowerLag> followers) {
    }

    private record TransferWait(long to, CompletableFuture<?> future, long deadlineTick) {
    }

    private final long id;
    private final RaftServer.Settings settings;
    private final RaftCore node;
    /** Stamps proposals with the leader's time (log time, §6.3 session expiry). */
    private final Clock clock;
    private final Transport transport;
    private final PersistQueue writer;
    private final ApplyQueue applier;
    private final SnapshotStreams snapshots;
    /** The leader it sees, for the apply thread's refusals. */
    private final PublishedLeader leader;
    private final EventsPort events;
    private final Lifecycle lifecycle;
    /** Runtime events (disk stalls) for the embedder's tracer. */
    private final BiConsumer<String, String> trace;
    /** Testing only ({@link TestingHooks}); each read once here so an unset hook costs a field test. */
    private final boolean sendBeforePersist;
    private final boolean applyBeforeCommit;
    private final boolean ignoreDiskStall;
    private final boolean ignoreDiskFull;
    private final TestingHooks answerBeforeCommit;
    private final Stage stage;
    private final ArrayBlockingQueue<LoopInput.Client> clients;
    private final ArrayBlockingQueue<Message> peers;
    private final ControlPort control;
    private final AtomicLong pendingTicks = new AtomicLong();
    private volatile long tickCount;
    private volatile LoopView view;
    private volatile boolean stoppedView;
    /** A leader's view of the other members, refreshed every tick; empty unless it leads. */
    private volatile Map<Long, ServerStatus.Follower> followersView = Map.of();
    private volatile TickView tickView;
    /** Elections, leader changes, commit latency, disk stalls, followers' lag. */
    private final SafeMetrics metrics;
    /** The tick period, to turn ticks since a follower was last heard from into seconds. */
    private final long tickMillis;

    // Owned by the loop.
    private final Map<Long, LoopInput.PendingRead> reads = new HashMap<>();
    private long nextReadId = 1;
    private final List<TransferWait> transfers = new ArrayList<>();
    /** The tick at which each member was last heard from: who is live, for membership checks. */
    private final Map<Long, Long> heardAtTick = new HashMap<>();
    private List<Pending> newPendings = new ArrayList<>();
    /** This leader's proposals not yet committed, with when they were proposed (metrics on only). */
    private final ProposalTimes proposalTimes = new ProposalTimes();
    /** {@link System#nanoTime()} of this round's first proposal, 0 before it (metrics on only). */
    private long roundNanos;
    /** The leader and term last reported to {@link SafeMetrics#leaderChanged}. */
    private long countedLeader;
    private long countedLeaderTerm = -1;
    private long lastSentToWriter;
    private long lastPersisted;
    /**
     * The tick since which the log writer has held work without finishing any of it, or -1 when it
     * holds none: how long the disk has stalled (see {@link #watchDisk}).
     */
    private long writerStuckSince = -1;
    /** The stall passed {@code diskStallTicks}: the core gets no ticks until the writer moves. */
    private boolean diskStalled;
    /**
     * The last free-space poll found less than {@code minFreeDiskBytes}: a leader refuses new
     * proposals with DISK_FULL (this refusal, naming the directory, free bytes and watermark)
     * until a poll finds a quarter more than the watermark free. Null while there is room.
     */
    private RaftException diskFull;
    /** A free-space poll is queued at the log writer and not answered yet: ask for one at a time. */
    private boolean spaceCheckPending;
    private long nextSpaceCheckTick;
    private long nextSweepTick;
    private boolean stopped;

    /**
     * Only what the loop may use (docs/threads.md, the raft-loop row). Built last: it posts to
     * every other stage.
     *
     * @param node      the core, owned by this stage from now on
     * @param control   its own control queue, which the other stages were built with
     * @param transport {@code send} for a Ready's messages; the loop never starts or closes it
     * @param writer    the log writer's queue: Readys with persist work, stop
     * @param applier   the apply thread's queue (and its published applied index and configuration)
     * @param snapshots the snapshot pool: streams snapshots, receives them for the transport
     * @param leader    where it publishes the leader it sees, for the apply thread
     * @param events    completes refusals and status/transfer futures; listener callbacks
     * @param lifecycle fail-stop
     * @param trace     runtime events for the embedder's tracer
     * @param metrics   elections, leader changes, commit latency, disk stalls, the followers' set
     * @param tickMillis the tick period, for the followers' lag in seconds
     */
    RaftLoop(long id, Executor executor, RaftServer.Settings settings, RaftCore node, Clock clock, ControlPort control,
             Transport transport, PersistQueue writer, ApplyQueue applier, SnapshotStreams snapshots,
             PublishedLeader leader, EventsPort events, Lifecycle lifecycle, BiConsumer<String, String> trace,
             TestingHooks hooks, SafeMetrics metrics, long tickMillis) {
        this.id = id;
        this.settings = settings;
        this.node = node;
        this.clock = clock;
        this.control = control;
        this.transport = transport;
        this.writer = writer;
        this.applier = applier;
        this.snapshots = snapshots;
        this.leader = leader;
        this.events = events;
        this.lifecycle = lifecycle;
        this.trace = trace;
        this.metrics = metrics;
        this.tickMillis = tickMillis;
        this.sendBeforePersist = hooks.sendBeforePersist();
        this.applyBeforeCommit = hooks.applyBeforeCommit();
        this.ignoreDiskStall = hooks.ignoreDiskStall();
        this.ignoreDiskFull = hooks.ignoreDiskFull();
        this.answerBeforeCommit = hooks == TestingHooks.NONE ? null : hooks;
        this.clients = new ArrayBlockingQueue<>(settings.maxInboxRequests());
        this.peers = new ArrayBlockingQueue<>(settings.maxPeerMessages());
        this.stage = new Stage("raft-loop-" + id, executor, this::round, this::hasInput,
                t -> lifecycle.fail(t, "the raft loop"));
        publish(viewOf());
        this.tickView = new TickView(0, node.log().firstIndex(), Map.of());
        control.bind(stage::signal);
    }

    // ---------------------------------------------------------------------------------------
    // Producers: any thread.

    boolean offer(LoopInput.Client c) {
        if (!clients.offer(c)) {
            return false;
        }
        stage.signal();
        return true;
    }

    boolean withdraw(LoopInput.Client c) {
        return clients.remove(c);
    }

    void post(LoopInput.Control c) {
        control.post(c);
    }

    void tick() {
        pendingTicks.incrementAndGet();
        stage.signal();
    }

    void signal() {
        stage.signal();
    }

    void stop() {
        post(new LoopInput.Stop());
    }

    long tickCount() {
        return tickCount;
    }

    /**
     * The published view, with what only the server knows: its {@code uptime} and its log's size
     * ({@code logBytes}, -1 if unknown).
     */
    ServerStatus status(Duration uptime, long logBytes) {
        LoopView v = view;
        boolean running = !stoppedView && lifecycle.failure() == null && lifecycle.running();
        // A stopped server leads nothing, whatever its last view said: reporting LEADER would keep
        // clients and operators at a node that answers every request with STOPPED.
        Role role = running ? v.role() : Role.FOLLOWER;
        long leader = running ? v.leader() : 0;
        Map<Long, ServerStatus.Follower> followers = running && role == Role.LEADER ? followersView : Map.of();
        return new ServerStatus(id, role, v.term(), leader, v.commit(), applier.applied(), v.lastIndex(), applier.conf(), running, lifecycle.failure(), v.recovering(),
                applier.snapshotIndex(), logBytes, uptime, followers);
    }

    /**
     * The gauges as this loop and the apply thread last published them; any thread, no lock.
     *
     * @param openSessions the apply thread's published count
     * @param logBytes     {@code LogStorage.sizeBytes()}
     * @param logSegments  {@code LogStorage.segmentCount()}
     */
    RaftGauges gauges(int openSessions, long logBytes, int logSegments) {
        ServerStatus s = status(Duration.ZERO, logBytes);
        TickView t = tickView;
        return new RaftGauges(s.role(), s.term(), s.leader(), s.commit(), s.applied(), t.inboxDepth(),
                Math.max(0, s.commit() - s.applied()), openSessions, t.firstIndex(), s.lastIndex(), logBytes,
                logSegments, s.isLeader() ? t.followers() : Map.of());
    }

    void publishStopped() {
        stoppedView = true;
        leader.publish(0);
    }

    /** What the transport delivers into. Never blocks. */
    Transport.Inbound inbound() {
        return new Transport.Inbound() {
            @Override
            public void receive(Message message) {
                if (!lifecycle.running()) {
                    return;
                }
                if (message instanceof InstallSnapshot s) {
                    // Its bytes are already durable here: never drop it for a full inbox.
                    post(new LoopInput.Deliver(s));
                } else if (peers.offer(message)) {
                    stage.signal();
                } else {
                    LOG.debug("node {}: peer inbox full ({} messages, limit maxPeerMessages); dropped {}",
                            id, settings.maxPeerMessages(), message);
                }
            }

            @Override
            public void unreachable(long peer) {
                post(new LoopInput.Unreachable(peer));
            }

            @Override
            public SnapshotWriter beginSnapshot(InstallSnapshot message) throws IOException {
                return snapshots.beginReceive(message);
            }

            @Override
            public ResumableSnapshotWriter beginSnapshot(InstallSnapshot message, long sizeBytes, int crc32c)
                    throws IOException {
                return snapshots.beginReceive(message, sizeBytes, crc32c);
            }

            @Override
            public long snapshotResumePoint(InstallSnapshot message, long sizeBytes, int crc32c) throws IOException {
                return snapshots.resumePoint(message, sizeBytes, crc32c);
            }
        };
    }

    private boolean hasInput() {
        return !control.isEmpty() || pendingTicks.get() > 0 || !peers.isEmpty() || !clients.isEmpty();
    }

    // ---------------------------------------------------------------------------------------
    // The loop.

    private boolean round() {
        if (stopped) {
            // Drop every input, ticks too: any left would make hasInput() true and the stage run
            // this round again at once, forever (a stopped node spinning on its loop thread; the
            // simulator's seed 333 stormed on a tick that arrived after a disk-full fail-stop).
            failClients(lifecycle.stoppedException());
            peers.clear();
            control.clear();
            pendingTicks.set(0);
            return false;
        }
        if (lifecycle.failure() != null) {
            stopped = true;
            failEverything(lifecycle.stoppedException());
            return false;
        }
        boolean stopNow = false;
        LoopInput.Control c;
        while ((c = control.poll()) != null) {
            stopNow |= handleControl(c);
        }
        if (stopNow) {
            finishStop();
            return false;
        }
        long ticks = pendingTicks.getAndSet(0);
        if (ticks > 0) {
            if (!diskStalled) {
                // All at once: the core counts every one but expires no election timer or
                // CheckQuorum period inside a burst (RaftCore.tick(long); see below for why).
                node.tick(ticks);
            }
            tickCount += ticks;
            if (writerStuckSince >= 0 && ticks > 1) {
                // Ticks taken together passed while this loop did not run: the process was stopped
                // (SIGSTOP, a long GC pause, a frozen VM) and the timer caught up on resuming. The
                // log writer was stopped just as long, so that time is no evidence against the
                // disk: the stall clock counts one tick per round that saw time pass. (A hung fsync
                // on a running node leaves the loop free to take each tick as it comes.)
                writerStuckSince = Math.min(tickCount, writerStuckSince + ticks - 1);
            }
            watchDisk();
            if (stopped) {
                return false;
            }
            onTicks();
            publishTick();
        }
        Message m;
        for (int n = 0; n < BATCH && (m = peers.poll()) != null; n++) {
            stepPeer(m);
        }
        long now = -1;
        roundNanos = 0;
        LoopInput.Client cl;
        for (int n = 0; n < BATCH && (cl = clients.poll()) != null; n++) {
            if (now < 0 && cl instanceof LoopInput.Propose) {
                // One clock reading per round: the leader's time for every proposal in it.
                now = clock.millis();
            }
            handleClient(cl, now);
        }
        if (node.hasReady()) {
            dispatch(node.ready());
        }
        if (!transfers.isEmpty()) {
            checkTransfers();
        }
        publishView();
        return node.hasReady();
    }

    private boolean handleControl(LoopInput.Control c) {
        if (c instanceof LoopInput.Persisted p) {
            lastPersisted = Math.max(lastPersisted, p.readyNumber());
            writerMoved();
            node.onPersisted(p.readyNumber());
        } else if (c instanceof LoopInput.Applied a) {
            // With TestingHooks.applyBeforeCommit the apply thread runs ahead of the commit index.
            node.onApplied(applyBeforeCommit ? Math.min(a.index(), node.committed()) : a.index());
        } else if (c instanceof LoopInput.SnapshotReport r) {
            node.reportSnapshot(r.peer(), r.ok());
        } else if (c instanceof LoopInput.Unreachable u) {
            node.reportUnreachable(u.peer());
        } else if (c instanceof LoopInput.Compacted k) {
            node.compacted(k.snapshot());
        } else if (c instanceof LoopInput.Deliver d) {
            stepPeer(d.message());
        } else if (c instanceof LoopInput.DiskSlow s) {
            onDiskSlow(s);
        } else if (c instanceof LoopInput.DiskSpace d) {
            onDiskSpace(d);
        } else if (c instanceof LoopInput.Stop) {
            return true;
        }
        return false;
    }

    private void stepPeer(Message m) {
        try {
            node.step(m);
            // Liveness for the membership checks: only members are recorded, so the map stays
            // bounded by the configurations this node has seen.
            if (m.from() != id && node.conf().contains(m.from())) {
                heardAtTick.put(m.from(), tickCount);
            }
        } catch (IllegalArgumentException misrouted) {
            LogFields.of(LOG.atWarn(), id)
                    .log("node {}: dropped a message meant for another node: {}", id, misrouted.getMessage());
        }
    }

    private void handleClient(LoopInput.Client c, long now) {
        try {
            if (c instanceof LoopInput.Propose p) {
                if (diskFull != null && node.isLeader() && !ignoreDiskFull) {
                    // Before the core sees it: nothing of it reaches the log. Configuration
                    // changes still pass (removing this node may be how the operator fixes it).
                    throw diskFull;
                }
                EntryCodec.stamp(p.framed(), now);
                EntryId at = node.propose(p.framed());
                newPendings.add(new Pending(at.index(), at.term(), kindOf(p.framed()), p.future()));
                timeProposal(at.index());
                if (answerBeforeCommit != null) {
                    answerEarly(p);
                }
            } else if (c instanceof LoopInput.ChangeConf cc) {
                checkMembershipChange(cc.change(), cc.force());
                EntryId at = node.proposeConfChange(cc.change());
                newPendings.add(new Pending(at.index(), at.term(), ApplyInput.Kind.CONF_CHANGE, cc.future()));
                timeProposal(at.index());
            } else if (c instanceof LoopInput.Read r) {
                if (reads.size() >= settings.maxPendingReads()) {
                    throw new RaftException(RaftException.Reason.OVERLOADED, node.leader(), "node "
                            + id + ": " + reads.size() + " reads wait for a read index (limit maxPendingReads);"
                            + " back off and retry");
                }
                long requestId = nextReadId++;
                reads.put(requestId, new LoopInput.PendingRead(r.query(), r.minIndex(), r.future(),
                        tickCount + settings.readTimeoutTicks()));
                node.readIndex(requestId, r.mode());
            } else if (c instanceof LoopInput.Transfer t) {
                node.transferLeadership(t.to());
                transfers.add(new TransferWait(t.to(), t.future(), tickCount + settings.readTimeoutTicks()));
            } else if (c instanceof LoopInput.GetStatus s) {
                events.complete(s.future(), node.status());
            } else if (c instanceof LoopInput.ReadCommitted rc) {
                readCommitted(rc);
            }
        } catch (RaftException refused) {
            events.completeExceptionally(c.future(), refused);
        }
    }

    /** Notes when the proposal at {@code index} was made, for its commit latency (one clock reading per round). */
    private void timeProposal(long index) {
        if (metrics.enabled) {
            if (roundNanos == 0) {
                roundNanos = System.nanoTime();
            }
            proposalTimes.add(index, roundNanos);
        }
    }

    /**
     * Reads through the node's own log view, not the storage: on a follower the storage may still
     * hold a stale suffix that the node's unstable part already overwrote (§5.3), and only the view
     * is right about every index up to the commit index.
     */
    private void readCommitted(LoopInput.ReadCommitted rc) {
        long hi = Math.min(rc.to(), node.committed());
        try {
            List<dev.raftkit.core.log.Entry> out = rc.from() > hi ? List.of()
                    : node.log().slice(rc.from(), hi + 1, rc.maxBytes());
            events.complete(rc.future(), out);
        } catch (LogCompactedException compacted) {
            events.completeExceptionally(rc.future(), compacted);
        }
    }

    /** {@link TestingHooks#answerBeforeCommit}: testing only. */
    private void answerEarly(LoopInput.Propose p) {
        byte kind = EntryCodec.kind(p.framed());
        if (kind == EntryCodec.COMMAND || kind == EntryCodec.SESSION_COMMAND) {
            byte[] early = answerBeforeCommit.answerBeforeCommit(EntryCodec.payload(p.framed()));
            if (early != null) {
                events.complete(p.future(), early);
            }
        }
    }

    private static ApplyInput.Kind kindOf(byte[] framed) {
        return switch (EntryCodec.kind(framed)) {
            case EntryCodec.OPEN_SESSION -> ApplyInput.Kind.OPEN_SESSION;
            case EntryCodec.CLOSE_SESSION -> ApplyInput.Kind.CLOSE_SESSION;
            default -> ApplyInput.Kind.COMMAND;
        };
    }

    /**
     * The checks a leader runs before proposing a membership change: every new voter is a learner
     * that has caught up (§4.2.1), and, unless forced, the resulting voters hold a quorum of live
     * members. A follower skips them: the core refuses the proposal with NOT_LEADER and the hint.
     */
    private void checkMembershipChange(ConfChange change, boolean force) {
        if (!node.isLeader()) {
            return;
        }
        ConfState conf = node.conf();
        Set<Long> live = liveMembers(conf);
        for (ConfChange.Step step : change.steps()) {
            if (step.type() == ConfChange.Type.ADD_VOTER && !conf.isVoter(step.nodeId())) {
                checkCaughtUp(step.nodeId(), conf, live);
            }
        }
        if (!force) {
            String refusal = LiveQuorumCheck.refusal(conf, change, live);
            if (refusal != null) {
                throw new RaftException(RaftException.Reason.INVALID, node.leader(), refusal);
            }
        }
    }

    /**
     * This node and the members heard from within the last election timeout (CheckQuorum's window)
     * that are not recovering lost state: a recovering member answers, but neither votes nor counts
     * toward a commit until it has caught up (§3.8), so a quorum that needs it is not live.
     */
    private Set<Long> liveMembers(ConfState conf) {
        Set<Long> live = new TreeSet<>();
        live.add(id);
        for (long member : conf.members()) {
            Long heard = heardAtTick.get(member);
            if (heard != null && tickCount - heard <= settings.liveTicks() && !node.isPeerRecovering(member)) {
                live.add(member);
            }
        }
        return live;
    }

    /** §4.2.1: a new voter that is far behind would hold up commits until it caught up. */
    private void checkCaughtUp(long learner, ConfState conf, Set<Long> live) {
        if (!conf.isLearner(learner)) {
            throw new RaftException(RaftException.Reason.INVALID, node.leader(), "node " + learner
                    + " is not a learner in " + conf + ": a voter is added only as a learner that has caught up;"
                    + " add it as a learner first (addLearner, `raftkit member add`), then promote it");
        }
        if (node.isPeerRecovering(learner)) {
            throw new RaftException(RaftException.Reason.NOT_CAUGHT_UP, node.leader(), "learner "
                    + learner + " is recovering lost state and has not caught up from this leader yet; retry once"
                    + " it has (its status shows recovering=false)");
        }
        // A learner that never answered has match 0, which a short log would call caught up.
        if (!live.contains(learner)) {
            throw new RaftException(RaftException.Reason.NOT_CAUGHT_UP, node.leader(), "learner "
                    + learner + " has not answered the leader within the last election timeout ("
                    + settings.liveTicks() + " ticks): it is not running or cannot be reached; start it"
                    + " (and tell the nodes its address), then retry the promotion");
        }
        long match = node.matchIndex(learner);
        long behind = node.committed() - match;
        if (behind > settings.catchUpMargin()) {
            throw new RaftException(RaftException.Reason.NOT_CAUGHT_UP, node.leader(), "learner "
                    + learner + " holds the log up to " + match + ", " + behind + " entries behind the commit index "
                    + node.committed() + " (catchUpMargin " + settings.catchUpMargin()
                    + "); retry once it has caught up");
        }
    }

    private void dispatch(Ready r) {
        if (!r.messages().isEmpty()) {
            transport.send(r.messages());
        }
        r.snapshotsToSend().forEach(snapshots::send);
        if (sendBeforePersist && !r.messagesAfterPersist().isEmpty()) {
            // TestingHooks.sendBeforePersist: testing only; the writer then sends them again.
            transport.send(r.messagesAfterPersist());
        }
        if (applyBeforeCommit && !r.entries().isEmpty()) {
            // TestingHooks.applyBeforeCommit: testing only.
            applier.enqueue(new ApplyInput.Task(List.of(), null, r.entries(), confChangesOf(r.entries()), null));
        }

        if (r.hasPersistWork() || lastSentToWriter > lastPersisted) {
            // After-persist messages and the acknowledgement must follow every earlier Ready's
            // persist work, so once anything is in flight everything goes through the writer.
            writer.persist(r);
            if (writerStuckSince < 0) {
                writerStuckSince = tickCount;
            }
            lastSentToWriter = r.number();
        } else {
            if (!r.messagesAfterPersist().isEmpty()) {
                transport.send(r.messagesAfterPersist());
            }
            node.onPersisted(r.number());
        }

        List<ReadWaiter> answered = null;
        for (ReadState rs : r.readStates()) {
            LoopInput.PendingRead p = reads.remove(rs.requestId());
            if (p != null) {
                if (answered == null) {
                    answered = new ArrayList<>();
                }
                applier.readQueued();
                answered.add(new ReadWaiter(Math.max(rs.index(), p.minIndex()), p.query(), p.future(), tickCount));
            }
        }
        if (metrics.enabled && !proposalTimes.isEmpty() && !r.committedEntries().isEmpty()) {
            proposalTimes.committed(r.committedEntries().get(r.committedEntries().size() - 1).index(),
                    System.nanoTime(), metrics);
        }
        if (r.snapshot() != null || !r.committedEntries().isEmpty() || answered != null) {
            applier.enqueue(new ApplyInput.Task(newPendings, r.snapshot(), r.committedEntries(), r.confChanges(),
                    answered));
            newPendings = new ArrayList<>();
        }
        if (r.softState() != null || r.hardState() != null) {
            announceRole();
        }
    }

    /**
     * TestingHooks.applyBeforeCommit only: uncommitted entries carry no decision of the core, so
     * this planted bug decides their configuration changes against the core's configuration now.
     */
    private List<AppliedConfChange> confChangesOf(List<Entry> entries) {
        List<AppliedConfChange> out = new ArrayList<>();
        ConfState conf = node.conf();
        for (Entry e : entries) {
            if (e.type() == EntryType.CONF_CHANGE) {
                AppliedConfChange c = Changer.applyEntry(conf, e.index(), e.data());
                out.add(c);
                conf = c.conf();
            }
        }
        return out;
    }

    private Role announcedRole;
    private long announcedTerm = -1;
    private long announcedLeader = -1;

    private void announceRole() {
        Role role = node.role();
        long term = node.term();
        long leader = node.leader();
        if (role == announcedRole && term == announcedTerm && leader == announcedLeader) {
            return;
        }
        if (role == Role.CANDIDATE && (announcedRole != Role.CANDIDATE || term != announcedTerm)) {
            metrics.electionStarted(term);
        }
        if (leader != 0 && (leader != countedLeader || term != countedLeaderTerm)) {
            countedLeader = leader;
            countedLeaderTerm = term;
            metrics.leaderChanged(leader, term);
        }
        if (role != Role.LEADER) {
            // Whether this former leader's proposals commit is no longer its to time.
            proposalTimes.clear();
        }
        announcedRole = role;
        announcedTerm = term;
        announcedLeader = leader;
        LogFields.of(LOG.atDebug(), id).addKeyValue(LogFields.TERM, term).addKeyValue("role", role)
                .log("node {} is {} in term {} (leader {})", id, role, term, leader);
        for (RaftListener l : events.listeners()) {
            events.event(() -> l.onRoleChange(role, term, leader));
        }
    }

    /**
     * A node whose log writer has finished nothing for {@code diskStallTicks} has a hung disk (an
     * fsync that does not return): as leader it could neither commit through its own log nor
     * apply, yet its heartbeats would keep the followers from electing a leader that can. It steps
     * down, handing leadership to a caught-up follower if there is one, and takes no part in
     * elections (no ticks reach the core) until the writer finishes a write again. Replication and
     * votes need the disk, so nothing else is lost: the node simply waits.
     */
    private void watchDisk() {
        if (writerStuckSince >= 0 && tickCount - writerStuckSince >= settings.diskStuckTicks() && !ignoreDiskStall) {
            // Stepping down did not bring the disk back: a node that waits forever holds its
            // data hostage and looks alive. Fail stop, so a supervisor or an operator restarts it.
            String what = "the log writer has finished no write for " + (tickCount - writerStuckSince) + " ticks"
                    + " (limit diskStuckTicks " + settings.diskStuckTicks() + "): its disk is stuck; the node fails"
                    + " stop (check the disk or move the data directory, then restart the node)";
            trace.accept("disk-stuck", what);
            lifecycle.fail(new StorageException(what), "the log writer (a stuck disk)");
            stopped = true;
            failEverything(lifecycle.stoppedException());
            return;
        }
        if (writerStuckSince < 0 || diskStalled || tickCount - writerStuckSince < settings.diskStallTicks()
                || ignoreDiskStall) {
            return;
        }
        diskStalled = true;
        String what = "the log writer has finished no write for " + (tickCount - writerStuckSince) + " ticks"
                + " (limit diskStallTicks " + settings.diskStallTicks() + "): its disk is stalled";
        if (node.isLeader()) {
            LogFields.of(LOG.atWarn(), id).addKeyValue(LogFields.TERM, node.term())
                    .log("node {}: {}; stepping down as leader until it recovers (check the disk: a hung fsync,"
                            + " a failing device)", id, what);
            node.stepDown(what);
        } else {
            LogFields.of(LOG.atWarn(), id).addKeyValue(LogFields.TERM, node.term())
                    .log("node {}: {}; it takes no part in elections until it recovers (check the disk)", id, what);
        }
        trace.accept("disk-stalled", what);
        metrics.diskStalled();
    }

    /**
     * Publishes the tick's gauges: the inbox depth, the first index and, on a leader, each
     * follower's lag (last index − match; ticks since last heard × tick period). Once per tick,
     * never per message, so a busy leader does not build a map per append. Tells the metrics when
     * the set of followers changed, after publishing, so a meter registered then finds its value.
     */
    private void publishTick() {
        // From the followers' view publishFollowers just took: one pass over the members a tick.
        Map<Long, RaftGauges.FollowerLag> lag = Map.of();
        Map<Long, ServerStatus.Follower> followers = followersView;
        if (!followers.isEmpty()) {
            Map<Long, RaftGauges.FollowerLag> m = new HashMap<>();
            for (ServerStatus.Follower f : followers.values()) {
                Long heard = heardAtTick.get(f.id());
                double seconds = heard == null ? -1 : (tickCount - heard) * tickMillis / 1000.0;
                m.put(f.id(), new RaftGauges.FollowerLag(f.lag(), seconds));
            }
            lag = Map.copyOf(m);
        }
        Set<Long> before = tickView.followers().keySet();
        tickView = new TickView(clients.size(), node.log().firstIndex(), lag);
        if (!before.equals(lag.keySet())) {
            metrics.followersChanged(Set.copyOf(lag.keySet()));
        }
    }

    /**
     * The log writer took longer than {@code diskSlowMillis} for one write or sync. A leader on
     * a disk that slow holds back every commit while its heartbeats keep the followers from
     * electing a leader whose disk keeps up: it steps down (TimeoutNow to a caught-up follower,
     * if any) through the core's own step-down, which needs no clock. A follower only reports
     * it: it leads nothing, and its votes and acknowledgements still count.
     */
    private void onDiskSlow(LoopInput.DiskSlow s) {
        String what = "the log writer took " + s.millis() + " ms for " + s.operation() + " (limit diskSlowMillis "
                + settings.diskSlowMillis() + ")";
        if (node.isLeader() && !ignoreDiskStall) {
            LogFields.of(LOG.atWarn(), id).addKeyValue(LogFields.TERM, node.term())
                    .log("node {}: {}; stepping down as leader so a node whose disk keeps up leads (check the disk:"
                    + " a failing or overloaded device; raise diskSlowMillis if the disk is healthy but this slow)",
                    id, what);
            trace.accept("disk-slow", what + "; stepping down");
            node.stepDown(what);
        } else {
            LOG.debug("node {}: {}", id, what);
            trace.accept("disk-slow", what);
        }
    }

    /**
     * The log writer finished something (a Persisted, or a free-space poll's answer): its disk
     * answers. The stall clock restarts if it still holds work, and stops if it holds none.
     */
    private void writerMoved() {
        if (diskStalled) {
            diskStalled = false;
            String what = "the log writer finished a write again after " + (tickCount - writerStuckSince) + " ticks";
            LogFields.of(LOG.atWarn(), id).addKeyValue(LogFields.TERM, node.term())
                    .log("node {}: {}; the node takes part in elections again", id, what);
            trace.accept("disk-recovered", what);
        }
        writerStuckSince = lastPersisted >= lastSentToWriter && !spaceCheckPending ? -1 : tickCount;
    }

    /** A free-space poll's answer: sets or clears the DISK_FULL refusal, with hysteresis. */
    private void onDiskSpace(LoopInput.DiskSpace d) {
        spaceCheckPending = false;
        writerMoved();
        long min = settings.minFreeDiskBytes();
        if (min <= 0) {
            return;
        }
        long resumeAt = min + min / 4;
        if (diskFull == null && d.usableBytes() < min) {
            String what = d.where() + " has " + d.usableBytes() + " bytes free, below the watermark minFreeDiskBytes "
                    + min;
            diskFull = new RaftException(RaftException.Reason.DISK_FULL, id, "node " + id + ": " + what
                    + "; new proposals are refused until " + resumeAt + " bytes are free (nothing accepted is lost);"
                    + " free space on that disk (or move the data directory to a larger one), then retry");
            LogFields.of(LOG.atWarn(), id).addKeyValue(LogFields.TERM, node.term())
                    .log("node {}: {}; as leader it refuses new proposals with DISK_FULL until {} bytes are free, while"
                    + " it goes on replicating what its log holds (free space on that disk)", id, what, resumeAt);
            trace.accept("disk-full", what);
        } else if (diskFull != null && d.usableBytes() >= resumeAt) {
            diskFull = null;
            String what = d.where() + " has " + d.usableBytes() + " bytes free again (resume at " + resumeAt + ")";
            LogFields.of(LOG.atWarn(), id).addKeyValue(LogFields.TERM, node.term())
                    .log("node {}: {}; proposals are accepted again", id, what);
            trace.accept("disk-space-ok", what);
        }
    }

    private void onTicks() {
        publishFollowers();
        if (settings.minFreeDiskBytes() > 0 && !spaceCheckPending && tickCount >= nextSpaceCheckTick) {
            // About once per election timeout: often enough that a filling disk is caught before
            // it is full, rarely enough that the poll costs nothing.
            spaceCheckPending = true;
            nextSpaceCheckTick = tickCount + settings.liveTicks();
            // A poll is work the writer holds like any write: one stuck behind a hung fsync
            // (or in a hung statvfs) starts the stall clock, so an idle node notices its disk too.
            if (writerStuckSince < 0) {
                writerStuckSince = tickCount;
            }
            writer.checkSpace();
        }
        if (!reads.isEmpty()) {
            for (Iterator<LoopInput.PendingRead> it = reads.values().iterator(); it.hasNext(); ) {
                LoopInput.PendingRead p = it.next();
                if (p.deadlineTick() <= tickCount) {
                    it.remove();
                    events.completeExceptionally(p.future(), new RaftException(
                            RaftException.Reason.TIMED_OUT, node.leader(), "node " + id
                            + " got no read index within " + settings.readTimeoutTicks() + " ticks ("
                            + (node.leader() == 0 ? "no leader known" : "leader " + node.leader())
                            + "); retry"));
                }
            }
        }
        if (tickCount >= nextSweepTick) {
            nextSweepTick = tickCount + Math.max(1, settings.readTimeoutTicks() / 2);
            if (applier.hasWaitingReads()) {
                applier.enqueue(new ApplyInput.Sweep(tickCount));
            }
        }
    }

    /**
     * On a leader, its view of every other member for {@link #status}: once a tick (a few maps a
     * second) rather than every round, as operators look at it by hand.
     */
    private void publishFollowers() {
        if (node.role() != Role.LEADER) {
            if (!followersView.isEmpty()) {
                followersView = Map.of();
            }
            return;
        }
        ConfState conf = node.conf();
        long last = node.log().lastIndex();
        Map<Long, ServerStatus.Follower> followers = new HashMap<>();
        for (long member : conf.members()) {
            long match = node.matchIndex(member);
            if (member == id || match < 0) {
                continue;
            }
            Long heard = heardAtTick.get(member);
            boolean live = heard != null && tickCount - heard <= settings.liveTicks();
            followers.put(member, new ServerStatus.Follower(member, match, Math.max(0, last - match), live,
                    node.isPeerRecovering(member), conf.isLearner(member)));
        }
        followersView = Map.copyOf(followers);
    }

    private void checkTransfers() {
        for (Iterator<TransferWait> it = transfers.iterator(); it.hasNext(); ) {
            TransferWait t = it.next();
            if (node.leader() == t.to()) {
                it.remove();
                events.complete(t.future(), null);
            } else if (t.deadlineTick() <= tickCount) {
                it.remove();
                events.completeExceptionally(t.future(), new RaftException(
                        RaftException.Reason.TIMED_OUT, node.leader(), "leadership did not pass to node "
                        + t.to() + " within " + settings.readTimeoutTicks() + " ticks (leader now "
                        + node.leader() + "); retry"));
            }
        }
    }

    private void publishView() {
        LoopView v = view;
        if (v.role() != node.role() || v.term() != node.term() || v.leader() != node.leader()
                || v.commit() != node.committed() || v.lastIndex() != node.log().lastIndex()
                || v.recovering() != node.isRecovering()) {
            publish(viewOf());
        }
    }

    private void publish(LoopView v) {
        view = v;
        leader.publish(v.leader());
    }

    private LoopView viewOf() {
        return new LoopView(node.role(), node.term(), node.leader(), node.committed(), node.log().lastIndex(),
                node.isRecovering());
    }

    /**
     * Graceful stop: hand out what the node already accepted (so it is persisted and, if
     * committed, applied), then tell the writer and the apply thread to finish and stop.
     */
    private void finishStop() {
        stopped = true;
        RaftException stopping = lifecycle.stoppedException();
        failClients(stopping);
        failReadsAndTransfers(stopping);
        for (int i = 0; i < 16 && node.hasReady(); i++) {
            dispatch(node.ready());
        }
        applier.enqueue(new ApplyInput.Task(newPendings, null, List.of(), List.of(), null));
        newPendings = new ArrayList<>();
        applier.enqueue(new ApplyInput.Stop());
        writer.stop();
        publishView();
    }

    private void failEverything(Throwable t) {
        failClients(t);
        failReadsAndTransfers(t);
        newPendings.forEach(p -> p.future().completeExceptionally(t));
        newPendings.clear();
        peers.clear();
        control.clear();
    }

    private void failClients(Throwable t) {
        LoopInput.Client c;
        while ((c = clients.poll()) != null) {
            c.future().completeExceptionally(t);
        }
    }

    private void failReadsAndTransfers(Throwable t) {
        reads.values().forEach(p -> p.future().completeExceptionally(t));
        reads.clear();
        transfers.forEach(w -> w.future().completeExceptionally(t));
        transfers.clear();
    }
}
