package dev.raftkit.metrics;

import dev.raftkit.core.RaftException;
import dev.raftkit.runtime.RaftGauges;
import dev.raftkit.runtime.RaftMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * A {@link RaftMetrics} that records into Micrometer: bind it to a {@link MeterRegistry}
 * ({@link #bindTo}), give it to the server ({@code RaftServerBuilder.metrics}, or
 * {@code RaftNode.Builder.meterRegistry}, which does both), and every meter carries the common tags
 * {@code cluster} and {@code node}. Durations are {@link Timer}s (base unit seconds), sizes
 * {@link DistributionSummary}s with base unit {@code bytes}, counts {@link Counter}s, and the
 * server's {@link RaftGauges} are polled as {@link Gauge}s. docs/user-guide.md ("Metrics") lists
 * every meter, its type, unit, tags and the thread that records it.
 *
 * <p>Timers publish no percentile histogram unless {@link Builder#percentileHistograms} says so:
 * a histogram per timer is dozens of series per node in Prometheus. Every counter of refusals, one
 * per {@link RaftException.Reason}, is registered at bind time, so a rate of zero shows as zero
 * rather than as a missing series. Followers' lag gauges (tag {@code peer}) are registered when a
 * node becomes leader or the membership changes, and removed when a follower leaves or the node
 * stops leading.
 *
 * <p>Thread-safe: the server calls the recording methods from its raft loop, log writer, apply
 * thread, snapshot pool and clients' threads; each only updates a meter created at bind time.
 * Recording before {@link #bindTo} is dropped. {@link #close()} removes every meter it registered
 * (a node that stops leaves no stale series behind).
 */
public final class MicrometerRaftMetrics implements RaftMetrics, MeterBinder, AutoCloseable {

    /** Meter names, so dashboards and tests spell them once. */
    public static final String COMMIT_LATENCY = "raft.commit.latency";
    public static final String APPLY_LATENCY = "raft.apply.latency";
    public static final String APPLY_BATCH = "raft.apply.batch";
    public static final String LOG_SYNC = "raft.log.sync";
    public static final String LOG_SYNC_ENTRIES = "raft.log.sync.entries";
    public static final String LOG_SYNC_BYTES = "raft.log.sync.bytes";
    public static final String ELECTIONS = "raft.elections";
    public static final String LEADER_CHANGES = "raft.leader.changes";
    public static final String REQUESTS_REFUSED = "raft.requests.refused";
    public static final String SNAPSHOT_CREATE = "raft.snapshot.create";
    public static final String SNAPSHOT_SEND = "raft.snapshot.send";
    public static final String SNAPSHOT_INSTALL = "raft.snapshot.install";
    public static final String SNAPSHOT_BYTES = "raft.snapshot.bytes";
    public static final String DISK_STALLS = "raft.disk.stalls";
    /** Counter, bytes: snapshot bytes this node streamed to peers (every chunk, resumed transfers included). */
    public static final String SNAPSHOT_SENT_BYTES = "raft.snapshot.sent.bytes";
    /** Counter, bytes: of those, bytes an earlier interrupted attempt had already sent (not verified by the receiver). */
    public static final String SNAPSHOT_RESENT_BYTES = "raft.snapshot.resent.bytes";
    /** Counter: snapshot transfers this node resumed past byte 0. */
    public static final String SNAPSHOT_RESUMES = "raft.snapshot.resumes";
    /** Counter, bytes: whole snapshots this node received from a member other than the leader (snapshot source peers). */
    public static final String SNAPSHOT_PEER_RECEIVED_BYTES = "raft.snapshot.peer.received.bytes";
    public static final String INBOX_DEPTH = "raft.inbox.depth";
    public static final String APPLY_QUEUE_DEPTH = "raft.apply.queue.depth";
    public static final String SESSIONS_OPEN = "raft.sessions.open";
    public static final String LOG_SIZE = "raft.log.size";
    public static final String LOG_SEGMENTS = "raft.log.segments";
    public static final String LOG_FIRST_INDEX = "raft.log.first.index";
    public static final String LOG_LAST_INDEX = "raft.log.last.index";
    public static final String COMMIT_INDEX = "raft.commit.index";
    public static final String APPLIED_INDEX = "raft.applied.index";
    public static final String TERM = "raft.term";
    public static final String ROLE = "raft.role";
    public static final String FOLLOWER_LAG_ENTRIES = "raft.follower.lag.entries";
    public static final String FOLLOWER_LAG_SECONDS = "raft.follower.lag.seconds";

    /** Every meter created at bind time; final fields, published together through one volatile. */
    private record Meters(Timer commit, Timer applyLatency, Timer applyBatch, Timer sync, DistributionSummary syncEntries,
                          DistributionSummary syncBytes, Counter elections, Counter leaderChanges,
                          Map<RaftException.Reason, Counter> refused, Timer snapshotCreate, Timer snapshotSend,
                          Timer snapshotInstall, DistributionSummary createBytes, DistributionSummary sendBytes,
                          DistributionSummary installBytes, Counter diskStalls) {
    }

    private final Tags tags;
    private final boolean percentileHistograms;
    private final double[] percentiles;
    private volatile Meters meters;
    /** The snapshot-streaming counters, bound with {@link #meters}. */
    private record StreamMeters(Counter sentBytes, Counter resentBytes, Counter resumes, Counter peerReceivedBytes) {
    }

    private volatile StreamMeters streamMeters;
    private volatile Supplier<RaftGauges> gauges;
    /** Guarded by {@code this}: the registry, what was registered in it, and the peers' meters. */
    private MeterRegistry registry;
    private final List<Meter> registered = new ArrayList<>();
    private final Map<Long, List<Meter>> peerMeters = new TreeMap<>();
    private Set<Long> followers = Set.of();
    private boolean closed;

    private MicrometerRaftMetrics(Builder b) {
        this.tags = Tags.of("cluster", b.cluster, "node", Long.toString(b.node));
        this.percentileHistograms = b.percentileHistograms;
        this.percentiles = b.percentiles.clone();
    }

    /** A binding for node {@code node} of cluster {@code cluster} (the values of the common tags). */
    public static Builder builder(String cluster, long node) {
        return new Builder(cluster, node);
    }

    /** Configures a {@link MicrometerRaftMetrics}. */
    public static final class Builder {
        private final String cluster;
        private final long node;
        private boolean percentileHistograms;
        private double[] percentiles = new double[0];

        private Builder(String cluster, long node) {
            this.cluster = Objects.requireNonNull(cluster, "cluster");
            if (cluster.isBlank()) {
                throw new IllegalArgumentException("the cluster tag of the metrics must not be blank");
            }
            if (node <= 0) {
                throw new IllegalArgumentException("node ids are positive, not " + node + " (the node tag of the metrics)");
            }
            this.node = node;
        }

        /**
         * Whether every timer publishes a percentile histogram (buckets a backend such as
         * Prometheus aggregates across nodes); default off: many series per node.
         */
        public Builder percentileHistograms(boolean on) {
            percentileHistograms = on;
            return this;
        }

        /**
         * Percentiles every timer computes on the node (e.g. {@code 0.5, 0.99}), each in [0, 1];
         * default none. They cannot be aggregated across nodes: prefer {@link #percentileHistograms}.
         */
        public Builder percentiles(double... quantiles) {
            for (double q : quantiles) {
                if (!(q >= 0 && q <= 1)) {
                    throw new IllegalArgumentException("a percentile is a quantile between 0 and 1 (0.99 for the"
                            + " 99th), not " + q);
                }
            }
            percentiles = quantiles.clone();
            return this;
        }

        public MicrometerRaftMetrics build() {
            return new MicrometerRaftMetrics(this);
        }
    }

    /**
     * Registers every meter in {@code registry}. Once per binding: to publish to several
     * backends, bind it to a {@code CompositeMeterRegistry}.
     *
     * @throws IllegalStateException if it is bound already, or closed
     */
    @Override
    public synchronized void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        if (closed) {
            throw new IllegalStateException("this MicrometerRaftMetrics (" + tags + ") is closed; make a new one");
        }
        if (this.registry != null) {
            throw new IllegalStateException("this MicrometerRaftMetrics (" + tags + ") is bound to a registry already;"
                    + " bind it once, to a CompositeMeterRegistry to publish to several");
        }
        this.registry = registry;
        Map<RaftException.Reason, Counter> refused = new EnumMap<>(RaftException.Reason.class);
        for (RaftException.Reason r : RaftException.Reason.values()) {
            refused.put(r, keep(Counter.builder(REQUESTS_REFUSED).tags(tags).tag("reason", r.name())
                    .description("requests refused with a RaftException, by reason").register(registry)));
        }
        meters = new Meters(
                timer(COMMIT_LATENCY, "this leader's proposals, from proposal to commit"),
                timer(APPLY_LATENCY, "committed batches, from the hand-off to the apply thread to applied"),
                timer(APPLY_BATCH, "StateMachine.apply calls, one per batch of commands"),
                timer(LOG_SYNC, "log syncs (one fsync per group commit); the count is the sync rate"),
                keep(DistributionSummary.builder(LOG_SYNC_ENTRIES).tags(tags).baseUnit("entries")
                        .description("entries made durable by one log sync").register(registry)),
                bytes(DistributionSummary.builder(LOG_SYNC_BYTES).description("entry bytes made durable by one log sync")),
                counter(ELECTIONS, "elections this node started (it became a candidate)"),
                counter(LEADER_CHANGES, "leaders this node learnt of (a new leader or a new term)"),
                refused,
                timer(SNAPSHOT_CREATE, "snapshots this node wrote"),
                timer(SNAPSHOT_SEND, "snapshots this leader streamed to a follower"),
                timer(SNAPSHOT_INSTALL, "snapshots from the leader this node restored"),
                bytes(DistributionSummary.builder(SNAPSHOT_BYTES).tag("op", "create").description("snapshot sizes")),
                bytes(DistributionSummary.builder(SNAPSHOT_BYTES).tag("op", "send").description("snapshot sizes")),
                bytes(DistributionSummary.builder(SNAPSHOT_BYTES).tag("op", "install").description("snapshot sizes")),
                counter(DISK_STALLS, "times the log writer finished no write for diskStallTicks"));
        streamMeters = new StreamMeters(
                keep(Counter.builder(SNAPSHOT_SENT_BYTES).tags(tags).baseUnit("bytes")
                        .description("snapshot bytes this node streamed to peers").register(registry)),
                keep(Counter.builder(SNAPSHOT_RESENT_BYTES).tags(tags).baseUnit("bytes")
                        .description("snapshot bytes sent again after an interrupted transfer").register(registry)),
                counter(SNAPSHOT_RESUMES, "snapshot transfers resumed from the receiver's last verified chunk"),
                keep(Counter.builder(SNAPSHOT_PEER_RECEIVED_BYTES).tags(tags).baseUnit("bytes")
                        .description("snapshot bytes received from a member other than the leader").register(registry)));
        gauge(INBOX_DEPTH, null, "client requests waiting for the raft loop", RaftGauges::inboxDepth);
        gauge(APPLY_QUEUE_DEPTH, null, "committed entries not applied yet", RaftGauges::applyQueueDepth);
        gauge(SESSIONS_OPEN, null, "open client sessions", RaftGauges::openSessions);
        gauge(LOG_SIZE, "bytes", "bytes in the log's segments (-1: unknown)", RaftGauges::logSizeBytes);
        gauge(LOG_SEGMENTS, null, "segment files of the log (-1: unknown)", RaftGauges::logSegments);
        gauge(LOG_FIRST_INDEX, null, "first index in the log", RaftGauges::logFirstIndex);
        gauge(LOG_LAST_INDEX, null, "last index in the log", RaftGauges::logLastIndex);
        gauge(COMMIT_INDEX, null, "highest index known committed", RaftGauges::commitIndex);
        gauge(APPLIED_INDEX, null, "highest index applied", RaftGauges::appliedIndex);
        gauge(TERM, null, "current term", RaftGauges::term);
        gauge(ROLE, null, "1 on the leader, 0 elsewhere", RaftGauges::leaderFlag);
        registerFollowers(followers);
    }

    private <M extends Meter> M keep(M meter) {
        registered.add(meter);
        return meter;
    }

    private Timer timer(String name, String description) {
        Timer.Builder b = Timer.builder(name).tags(tags).description(description)
                .publishPercentileHistogram(percentileHistograms);
        if (percentiles.length > 0) {
            b.publishPercentiles(percentiles);
        }
        return keep(b.register(registry));
    }

    private DistributionSummary bytes(DistributionSummary.Builder b) {
        return keep(b.tags(tags).baseUnit("bytes").register(registry));
    }

    private Counter counter(String name, String description) {
        return keep(Counter.builder(name).tags(tags).description(description).register(registry));
    }

    private void gauge(String name, String unit, String description, ToDoubleFunction<RaftGauges> value) {
        Gauge.Builder<MicrometerRaftMetrics> b = Gauge.builder(name, this, m -> m.read(value)).tags(tags)
                .description(description).strongReference(true);
        if (unit != null) {
            b.baseUnit(unit);
        }
        keep(b.register(registry));
    }

    /** A gauge's value now: NaN before the server attached, or when reading it failed. */
    private double read(ToDoubleFunction<RaftGauges> value) {
        Supplier<RaftGauges> g = gauges;
        return g == null ? Double.NaN : value.applyAsDouble(g.get());
    }

    private double lag(long peer, boolean seconds) {
        Supplier<RaftGauges> g = gauges;
        RaftGauges.FollowerLag lag = g == null ? null : g.get().followers().get(peer);
        if (lag == null) {
            return Double.NaN;
        }
        return seconds ? lag.seconds() : lag.entries();
    }

    /** Under {@code this}: adds meters for new followers, removes those of followers that left. */
    private void registerFollowers(Set<Long> now) {
        for (var it = peerMeters.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!now.contains(e.getKey())) {
                e.getValue().forEach(registry::remove);
                registered.removeAll(e.getValue());
                it.remove();
            }
        }
        for (long peer : new TreeSet<>(now)) {
            if (!peerMeters.containsKey(peer)) {
                String p = Long.toString(peer);
                List<Meter> ms = List.of(
                        Gauge.builder(FOLLOWER_LAG_ENTRIES, this, m -> m.lag(peer, false)).tags(tags).tag("peer", p)
                                .description("entries this leader holds that the follower does not (last index - match)")
                                .strongReference(true).register(registry),
                        Gauge.builder(FOLLOWER_LAG_SECONDS, this, m -> m.lag(peer, true)).tags(tags).tag("peer", p)
                                .baseUnit("seconds").description("time since this leader last heard from the follower"
                                        + " (-1: never)").strongReference(true).register(registry));
                peerMeters.put(peer, ms);
                registered.addAll(ms);
            }
        }
    }

    /** Removes every meter this binding registered; later measurements are dropped. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        meters = null;
        streamMeters = null;
        if (registry != null) {
            registered.forEach(registry::remove);
        }
        registered.clear();
        peerMeters.clear();
    }

    // ------------------------------------------------------------------------------ RaftMetrics

    @Override
    public void attach(Supplier<RaftGauges> gauges) {
        this.gauges = Objects.requireNonNull(gauges, "gauges");
    }

    @Override
    public void logSynced(long nanos, int entries, long bytes) {
        Meters m = meters;
        if (m != null) {
            m.sync().record(nanos, TimeUnit.NANOSECONDS);
            m.syncEntries().record(entries);
            m.syncBytes().record(bytes);
        }
    }

    @Override
    public void committed(long nanos) {
        Meters m = meters;
        if (m != null) {
            m.commit().record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void applied(long nanos, int entries) {
        Meters m = meters;
        if (m != null) {
            m.applyLatency().record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void applyBatch(long nanos, int commands) {
        Meters m = meters;
        if (m != null) {
            m.applyBatch().record(nanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void electionStarted(long term) {
        Meters m = meters;
        if (m != null) {
            m.elections().increment();
        }
    }

    @Override
    public void leaderChanged(long leader, long term) {
        Meters m = meters;
        if (m != null) {
            m.leaderChanges().increment();
        }
    }

    @Override
    public void refused(RaftException.Reason reason) {
        Meters m = meters;
        if (m != null) {
            m.refused().get(reason).increment();
        }
    }

    @Override
    public void snapshotCreated(long nanos, long bytes) {
        Meters m = meters;
        if (m != null) {
            m.snapshotCreate().record(nanos, TimeUnit.NANOSECONDS);
            m.createBytes().record(bytes);
        }
    }

    @Override
    public void snapshotSent(long peer, long nanos, long bytes) {
        Meters m = meters;
        if (m != null) {
            m.snapshotSend().record(nanos, TimeUnit.NANOSECONDS);
            m.sendBytes().record(bytes);
        }
    }

    @Override
    public void snapshotBytesSent(long peer, long bytes, long resentBytes) {
        StreamMeters m = streamMeters;
        if (m != null) {
            m.sentBytes().increment(bytes);
            if (resentBytes > 0) {
                m.resentBytes().increment(resentBytes);
            }
        }
    }

    @Override
    public void snapshotReceivedFromPeer(long peer, long bytes) {
        StreamMeters m = streamMeters;
        if (m != null) {
            m.peerReceivedBytes().increment(bytes);
        }
    }

    @Override
    public void snapshotResumed(long peer, long offset, long sizeBytes) {
        StreamMeters m = streamMeters;
        if (m != null) {
            m.resumes().increment();
        }
    }

    @Override
    public void snapshotInstalled(long nanos, long bytes) {
        Meters m = meters;
        if (m != null) {
            m.snapshotInstall().record(nanos, TimeUnit.NANOSECONDS);
            m.installBytes().record(bytes);
        }
    }

    @Override
    public void diskStalled() {
        Meters m = meters;
        if (m != null) {
            m.diskStalls().increment();
        }
    }

    /**
     * Registers the lag gauges of new followers and removes those of followers that left. Runs on
     * the raft loop, rarely (leadership and membership changes); the registry's lock is held only
     * while it adds or removes a meter.
     */
    @Override
    public synchronized void followersChanged(Set<Long> now) {
        followers = Set.copyOf(now);
        if (registry != null && !closed) {
            registerFollowers(followers);
        }
    }
}
