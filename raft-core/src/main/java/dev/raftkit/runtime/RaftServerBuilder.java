package dev.raftkit.runtime;

import dev.raftkit.core.Bootstrap;
import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftCore;
import dev.raftkit.core.RaftException;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.spi.StagedStates;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.spi.StorageException;
import dev.raftkit.spi.Transport;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongSupplier;

/** Configures and starts a {@link RaftServer}; every setting but the four SPIs has a default. */
public final class RaftServerBuilder {
    final RaftConfig config;
    LogStorage log;
    SnapshotStore snapshotStore;
    StateMachine stateMachine;
    Transport transport;
    Set<Long> bootstrap;
    Clock clock = Clock.systemUTC();
    TickSource tickSource;
    long tickMillis = 100;
    Executor raftLoopExecutor;
    Executor logWriterExecutor;
    Executor applyExecutor;
    Executor snapshotExecutor;
    Executor eventsExecutor;
    /** The default {@link #sessionTimeout}: ten minutes of log time. */
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofMinutes(10);
    /** The default {@link #maxResponsesPerSession}. */
    public static final int DEFAULT_MAX_RESPONSES_PER_SESSION = 1024;
    final List<RaftListener> listeners = new ArrayList<>();
    TestingHooks testingHooks = TestingHooks.NONE;
    dev.raftkit.core.Tracer tracer;
    RaftMetrics metrics = RaftMetrics.NONE;
    String clusterId;
    int maxInboxRequests = 4096;
    int maxPeerMessages = 4096;
    int maxPendingReads = 4096;
    int maxPendingProtocolEvents = 4096;
    /** Built by {@link #start} when a listener wants protocol events; else null. */
    ProtocolEvents protocolEvents;
    long snapshotEntries = 100_000;
    long snapshotBytes = 256L << 20;
    int snapshotsToKeep = 2;
    int readTimeoutTicks = -1;
    int diskStallTicks = -1;
    long diskSlowMillis = 1000;
    int diskStuckTicks = -1;
    long minFreeDiskBytes = 256L << 20;
    LongSupplier nanoTime = System::nanoTime;
    long catchUpMargin = 1000;
    Duration sessionTimeout = DEFAULT_SESSION_TIMEOUT;
    int maxResponsesPerSession = DEFAULT_MAX_RESPONSES_PER_SESSION;
    Duration shutdownTimeout = Duration.ofSeconds(10);
    int maxCommandBytes = SizeLimits.DEFAULT_MAX_COMMAND_BYTES;
    StagedStates stagedStates = StagedStates.NONE;

    RaftServerBuilder(RaftConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    /**
     * Where this node finds the images live restores switch to ({@link RaftServer#switchState});
     * default {@link StagedStates#NONE}, with which a live-restore entry stops the node. A
     * {@code RaftNode} sets its own, in its data directory.
     */
    public RaftServerBuilder stagedStates(StagedStates v) { stagedStates = Objects.requireNonNull(v, "stagedStates"); return this; }

    /** The node's log (required). The server closes it. */
    public RaftServerBuilder logStorage(LogStorage v) { log = v; return this; }

    /** Where snapshots live (required). The server closes it. */
    public RaftServerBuilder snapshotStore(SnapshotStore v) { snapshotStore = v; return this; }

    /** The application (required). The server closes it. */
    public RaftServerBuilder stateMachine(StateMachine v) { stateMachine = v; return this; }

    /** How messages travel (required). The server starts and closes it. */
    public RaftServerBuilder transport(Transport v) { transport = v; return this; }

    /**
     * Founds a new cluster of {@code voters} if the log is empty (see {@link Bootstrap});
     * ignored when the node already has state. Every founder must name the same voters.
     */
    public RaftServerBuilder bootstrap(Set<Long> voters) { bootstrap = Set.copyOf(voters); return this; }

    /** The clock the leader stamps into entries (default: the system UTC clock). */
    public RaftServerBuilder clock(Clock v) { clock = v; return this; }

    /** Where ticks come from (default: a timer every {@link #tickMillis}). */
    public RaftServerBuilder tickSource(TickSource v) { tickSource = v; return this; }

    /** Tick period of the default tick source (default 100 ms). */
    public RaftServerBuilder tickMillis(long v) { tickMillis = v; return this; }

    /** Runs the raft loop (default: a dedicated thread). Shared executors keep one run at a time. */
    public RaftServerBuilder raftLoopExecutor(Executor v) { raftLoopExecutor = v; return this; }

    public RaftServerBuilder logWriterExecutor(Executor v) { logWriterExecutor = v; return this; }

    public RaftServerBuilder applyExecutor(Executor v) { applyExecutor = v; return this; }

    /** Writes, streams and receives snapshots (default: two threads). */
    public RaftServerBuilder snapshotExecutor(Executor v) { snapshotExecutor = v; return this; }

    /** Runs listener callbacks and completes refused requests (default: a dedicated thread). */
    public RaftServerBuilder eventsExecutor(Executor v) { eventsExecutor = v; return this; }

    public RaftServerBuilder listener(RaftListener v) { listeners.add(Objects.requireNonNull(v)); return this; }

    /**
     * <b>Testing only, never in production:</b> deliberate bugs for proving a checker catches
     * them (see {@link TestingHooks}). Default {@link TestingHooks#NONE}.
     */
    public RaftServerBuilder testingHooks(TestingHooks v) { testingHooks = Objects.requireNonNull(v, "testingHooks"); return this; }

    /**
     * Receives the core's protocol events (votes, role changes, …; see {@link dev.raftkit.core.Tracer})
     * on the raft loop: it must be quick and must not block. Default none.
     */
    public RaftServerBuilder tracer(dev.raftkit.core.Tracer v) { tracer = v; return this; }

    /**
     * Where the server reports its measurements (sync, commit and apply latencies, elections,
     * refusals, snapshots, disk stalls) and, once at start, where its gauges are polled; see
     * {@link RaftMetrics} for which thread calls what. Default {@link RaftMetrics#NONE}: nothing is
     * measured. An exception it throws is logged once per kind and never stops the node.
     */
    public RaftServerBuilder metrics(RaftMetrics v) { metrics = Objects.requireNonNull(v, "metrics"); return this; }

    /**
     * The cluster this node belongs to, as a label of its log lines only: the {@code cluster}
     * key-value field of the runtime's important lines and the {@code cluster} MDC entry of the
     * threads the server creates (next to {@code node}; see docs/user-guide.md, "Logs"). The
     * runtime checks nothing with it (the transport refuses other clusters' messages). Default
     * none: lines then carry the node id alone.
     */
    public RaftServerBuilder clusterId(String v) { clusterId = v; return this; }

    /** Client requests waiting for the raft loop before new ones are refused with OVERLOADED. */
    public RaftServerBuilder maxInboxRequests(int v) { maxInboxRequests = positive(v, "maxInboxRequests"); return this; }

    /** Peer messages waiting for the raft loop before new ones are dropped (Raft retries). */
    public RaftServerBuilder maxPeerMessages(int v) { maxPeerMessages = positive(v, "maxPeerMessages"); return this; }

    /**
     * Protocol events ({@link RaftListener#onProtocolEvent}) queued for the listeners before new
     * ones are dropped (and counted, with a gap marker) rather than held; default 4096.
     */
    public RaftServerBuilder maxPendingProtocolEvents(int v) {
        maxPendingProtocolEvents = positive(v, "maxPendingProtocolEvents");
        return this;
    }

    /** Reads waiting on the apply thread before new ones are refused with OVERLOADED. */
    public RaftServerBuilder maxPendingReads(int v) { maxPendingReads = positive(v, "maxPendingReads"); return this; }

    /** Take a snapshot after this many entries or this many payload bytes since the last one. */
    public RaftServerBuilder snapshotThresholds(long entries, long bytes) {
        snapshotEntries = positive(entries, "snapshot entries");
        snapshotBytes = positive(bytes, "snapshot bytes");
        return this;
    }

    /** Snapshots kept in the store (the older ones may still be streaming to followers). */
    public RaftServerBuilder snapshotsToKeep(int v) { snapshotsToKeep = positive(v, "snapshotsToKeep"); return this; }

    /** Ticks a read, or a leadership transfer, may wait (default: 3 election timeouts). */
    public RaftServerBuilder readTimeoutTicks(int v) { readTimeoutTicks = positive(v, "readTimeoutTicks"); return this; }

    /**
     * Ticks the log writer may hold a write without finishing it (an fsync that hangs) before
     * the node counts its disk as stalled (default: 2 election timeouts, {@code 2 ·
     * electionTicks}). A stalled leader steps down, handing leadership to a follower that holds
     * its whole log if one does, and a stalled node takes no part in elections until a write
     * finishes; so a hung disk costs at most this plus about one election timeout of commits
     * (when no follower is caught up, the others elect after their election timeout). Set it
     * above the slowest fsync the disk takes when healthy: a lower bound replaces healthy
     * leaders of a slow disk.
     */
    public RaftServerBuilder diskStallTicks(int v) { diskStallTicks = positive(v, "diskStallTicks"); return this; }

    /**
     * The longest a single log write or fsync may take before a leader steps down (default
     * 1000 ms: a healthy SSD syncs in well under 10 ms and a loaded spinning disk in about 100;
     * a write this slow holds every commit back longer than handing leadership over costs). The
     * log writer times each append, hard-state write, snapshot install and sync (with {@link
     * #nanoTime}); one over the bound logs a WARN naming the operation, its time and the bound,
     * and a leader steps down (TimeoutNow to a caught-up follower, if any). A follower only
     * logs it. Unlike {@link #diskStallTicks} it is measured when the write returns, so it
     * catches a disk that is slow but still answering.
     */
    public RaftServerBuilder diskSlowMillis(long v) { diskSlowMillis = positive(v, "diskSlowMillis"); return this; }

    /**
     * Ticks the log writer may hold a write without finishing it before the node fails stop
     * (default: 30 election timeouts, {@code 30 · electionTicks}, 30 s at the default 100 ms
     * ticks). A disk stuck this long is not coming back by itself: the node stops (state
     * FAILED, futures fail with {@link RaftException.Reason#STOPPED}, the message names the
     * ticks and this bound) so an operator or a supervisor restarts it on a working disk. Must
     * exceed {@link #diskStallTicks}, which makes it step down first.
     */
    public RaftServerBuilder diskStuckTicks(int v) { diskStuckTicks = positive(v, "diskStuckTicks"); return this; }

    /**
     * The free-space watermark of the log's disk (default 256 MiB; 0 turns the check off). While
     * the log writer's poll ({@link dev.raftkit.spi.LogWriter#usableSpace}, about once per
     * election timeout, never per proposal) reports less, a leader refuses new proposals with
     * {@link RaftException.Reason#DISK_FULL} (retryable), while votes, heartbeats and the
     * replication of entries already in its log go on, so nothing accepted is lost; it accepts
     * them again once a quarter more than the watermark is free (hysteresis, so it does not
     * flap at the boundary). A follower refuses nothing: it must append what its leader sends,
     * and a write that truly fails fails it stop. 256 MiB leaves room for the proposals in
     * flight, a log segment roll and a snapshot of a small state machine; raise it to the size
     * of your snapshots plus a segment.
     */
    public RaftServerBuilder minFreeDiskBytes(long v) {
        if (v < 0) {
            throw new IllegalArgumentException("minFreeDiskBytes must be 0 (off) or positive, got " + v);
        }
        minFreeDiskBytes = v;
        return this;
    }

    /**
     * The monotonic clock, in nanoseconds, the log writer times each write and fsync with for
     * {@link #diskSlowMillis} (default {@link System#nanoTime}; a simulator passes its virtual one).
     */
    public RaftServerBuilder nanoTime(LongSupplier v) { nanoTime = Objects.requireNonNull(v, "nanoTime"); return this; }

    /** How far (in entries) behind the commit index a learner may be and still be promoted. */
    public RaftServerBuilder catchUpMargin(long v) { catchUpMargin = v; return this; }

    /**
     * Sessions idle this long in log time (leader-stamped) expire (default 10 minutes). Part of
     * the replicated state machine: every node must use the same value.
     */
    public RaftServerBuilder sessionTimeout(Duration v) { sessionTimeout = v; return this; }

    /** Results a session keeps for unacknowledged commands; the oldest go first. */
    public RaftServerBuilder maxResponsesPerSession(int v) { maxResponsesPerSession = positive(v, "maxResponsesPerSession"); return this; }

    /**
     * The largest command {@link RaftServer#submit} proposes (default
     * {@value SizeLimits#DEFAULT_MAX_COMMAND_BYTES} bytes, at most
     * {@value SizeLimits#MAX_COMMAND_BYTES_LIMIT}); larger ones fail with
     * {@link RaftException.Reason#TOO_LARGE}. The transport must carry
     * {@link SizeLimits#peerMessageBytes} of it ({@link SizeLimits#checkPeerLimit}); use the same
     * value on every node, or a new leader may refuse what the old one accepted.
     */
    public RaftServerBuilder maxCommandBytes(int v) { maxCommandBytes = SizeLimits.checkMaxCommandBytes(v); return this; }

    /** How long {@link RaftServer#close()} waits for the threads to drain. */
    public RaftServerBuilder shutdownTimeout(Duration v) { shutdownTimeout = v; return this; }

    private static int positive(int v, String what) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + v);
        }
        return v;
    }

    private static long positive(long v, String what) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + v);
        }
        return v;
    }

    RaftServer.Settings settings() {
        int readTimeout = readTimeoutTicks > 0 ? readTimeoutTicks : 3 * config.electionTicks();
        return new RaftServer.Settings(maxInboxRequests, maxPeerMessages, maxPendingReads, snapshotEntries, snapshotBytes,
                snapshotsToKeep, readTimeout, catchUpMargin, sessionTimeout.toMillis(), maxResponsesPerSession,
                shutdownTimeout, config.electionTicks(), maxCommandBytes,
                diskStallTicks > 0 ? diskStallTicks : 2 * config.electionTicks(), diskSlowMillis,
                diskStuckTicks(), minFreeDiskBytes);
    }

    private int diskStuckTicks() {
        int stall = diskStallTicks > 0 ? diskStallTicks : 2 * config.electionTicks();
        int stuck = diskStuckTicks > 0 ? diskStuckTicks : Math.max(30 * config.electionTicks(), stall + 1);
        if (stuck <= stall) {
            throw new IllegalArgumentException("diskStuckTicks (" + stuck + ") must exceed diskStallTicks (" + stall
                    + "): a stalled disk first makes the node step down, and only a disk stuck longer fails it stop;"
                    + " raise diskStuckTicks or lower diskStallTicks");
        }
        return stuck;
    }

    /**
     * Recovers the node from its storage (latest snapshot, then the log), starts the transport,
     * the threads and the ticks, and returns the running server.
     *
     * @throws IOException      if storage cannot be read or the transport cannot listen
     * @throws StorageException if the log and the snapshot store disagree beyond repair
     */
    public RaftServer start() throws IOException {
        Objects.requireNonNull(log, "logStorage is required");
        Objects.requireNonNull(snapshotStore, "snapshotStore is required");
        Objects.requireNonNull(stateMachine, "stateMachine is required");
        Objects.requireNonNull(transport, "transport is required");
        long id = config.id();
        List<ExecutorService> owned = new ArrayList<>();
        raftLoopExecutor = orOwn(raftLoopExecutor, owned, "raft-loop-" + id, 1, id, clusterId);
        logWriterExecutor = orOwn(logWriterExecutor, owned, "raft-log-" + id, 1, id, clusterId);
        applyExecutor = orOwn(applyExecutor, owned, "raft-apply-" + id, 1, id, clusterId);
        snapshotExecutor = orOwn(snapshotExecutor, owned, "raft-snapshot-" + id, 2, id, clusterId);
        eventsExecutor = orOwn(eventsExecutor, owned, "raft-events-" + id, 1, id, clusterId);

        RaftServer server;
        try {
            RaftServer.Settings s = settings();
            List<RaftListener> wanting = listeners.stream().filter(RaftListener::wantsProtocolEvents).toList();
            protocolEvents = wanting.isEmpty() ? null
                    : new ProtocolEvents(id, clock, eventsExecutor, wanting, tracer, maxPendingProtocolEvents);
            StartupRecovery.Recovered recovered = new StartupRecovery(config, log, snapshotStore, stateMachine,
                    bootstrap, testingHooks).recover(new SessionTable(s.sessionTimeoutMillis(),
                    s.maxResponsesPerSession()), protocolEvents != null ? protocolEvents : tracer);
            RaftCore node = recovered.node();
            StartupRecovery.Restored restored = recovered.restored();
            server = new RaftServer(this, node, restored, owned);
            server.metrics.attach(server::gauges);
            LogFields.of(RaftServer.LOG.atInfo(), id, clusterId).addKeyValue(LogFields.TERM, node.term())
                    .log("node {} starting: snapshot at {}, log {}..{}, commit {}", id, restored.index(),
                            log.firstIndex(), log.lastIndex(), node.committed());
            transport.start(server.loop.inbound());
        } catch (IOException | RuntimeException | Error e) {
            // A start that fails leaves no thread behind: the caller owns (and closes) the
            // storage and state machine it passed in, the server owned only these.
            owned.forEach(ExecutorService::shutdownNow);
            throw e;
        }
        server.startTicking();
        server.loop.signal();
        return server;
    }

    private static Executor orOwn(Executor given, List<ExecutorService> owned, String name, int threads, long id,
                                  String clusterId) {
        if (given != null) {
            return given;
        }
        int[] n = {0};
        ExecutorService ex = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(LogFields.withMdc(r, id, clusterId), threads == 1 ? name : name + "-" + n[0]++);
            t.setDaemon(true);
            return t;
        });
        owned.add(ex);
        return ex;
    }
}
