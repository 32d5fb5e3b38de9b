package dev.raftkit.jepsen.sim;

import dev.raftkit.core.HardState;
import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftException;
import dev.raftkit.core.Role;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.InitialState;
import dev.raftkit.runtime.RaftListener;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.RaftServerBuilder;
import dev.raftkit.runtime.ServerStatus;
import dev.raftkit.spi.ForwardingStateMachine;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.storage.SimFileIo;
import dev.raftkit.storage.StorageTestingHooks;
import dev.raftkit.storage.backup.BackupService;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * One simulated machine: a disk ({@link SimFileIo}, which outlives crashes) and, while it is up,
 * one process running the REAL {@link RaftServer} over the real {@link SegmentedLogStorage} and
 * {@link FileSnapshotStore} on that disk, the workload's real state machine, and a
 * {@link SimNetwork.Endpoint} as its transport. Its five executors are lanes of the run's one
 * {@link SimScheduler}; its clock and ticks are virtual. A crash drops the process (no graceful
 * path: queued work vanishes, unsynced writes are lost by the disk), a restart opens a new one
 * on the same disk.
 *
 * <p>The only additions to the product are observers: the log storage and the state machine are
 * wrapped to report to the {@link SafetyChecker} what they are given, and a listener reports roles.
 */
final class SimHost {

    private static final Path ROOT = Path.of("/sim");
    /** The runtime's {@code diskStallTicks} here (its default for electionTicks 10). */
    static final int DISK_STALL_TICKS = 20;
    /** Slack for the check of it: tick boundaries, a clock up to 5% slow, the step-down's own Ready. */
    private static final int HANG_MARGIN_TICKS = 5;
    /**
     * The runtime's {@code diskSlowMillis} here: 5 ticks, above the slow disk's fsyncs (at most
     * 15 ms, {@link #timed}) and below {@link #SLOW_SYNC_MICROS}.
     */
    static final long DISK_SLOW_MILLIS = 50;
    /** How long each fsync takes under {@link FaultSchedule.SlowSync}: 80 ms, 8 ticks (under diskStallTicks). */
    static final long SLOW_SYNC_MICROS = 80_000;
    /**
     * The bound on a slow-fsync leader: it steps down once the writer's first slow operation
     * returns, and one operation may force several files (a sync that rolls a segment forces the
     * old segment, the new one, its directory and the hard state), so six slow fsyncs and the
     * margin after the first one began.
     */
    static final long SLOW_LEADER_BOUND_MICROS = 6 * SLOW_SYNC_MICROS + HANG_MARGIN_TICKS * SimOptions.TICK_MICROS;
    /** Free space under {@link FaultSchedule.Fill}: 1 MiB, below the default 256 MiB watermark, above a segment. */
    static final long FILL_BYTES = 1L << 20;
    /**
     * How long after a fill (or a restart during one) a leader may still accept a proposal: the
     * runtime polls free space once per election timeout (10 ticks) after the last answer, so two
     * of them and the margin.
     */
    private static final long FILL_MARGIN_MICROS = (2 * 10 + HANG_MARGIN_TICKS) * SimOptions.TICK_MICROS;
    /**
     * Small segments so compaction deletes files (4 KiB under the snapshot fault); no
     * preallocation and no cache (its threads).
     */
    private static final SegmentedLogStorage.Options LOG_OPTIONS = SegmentedLogStorage.Options.defaults()
            .withSegmentBytes(64 * 1024).withPreallocate(false).withCacheBytes(0);
    private static final StorageTestingHooks CUT_AT_FIRST_INVALID = new StorageTestingHooks() {
        @Override
        public boolean cutAtFirstInvalidRecord() {
            return true;
        }
    };
    private static final long EPOCH_MILLIS = 1_700_000_000_000L;

    final long id;
    private final Simulator sim;
    private final Set<Long> founders;
    private SimFileIo disk;
    /** What the next start must find: true after the data directory was emptied under this id. */
    private boolean lostState;
    private final Path dir;

    private int life;
    private boolean up;
    /** The injected disk fault in force (EIO, a full disk), or null; see {@link #failDisk}. */
    private String diskFault;
    /** The running server stopped itself (fail-stop); its process is still "up" until it exits. */
    private boolean stopped;
    /**
     * The last log index this machine's storage had made durable (raised by each sync, lowered by
     * each truncation it was asked for, which may reach the disk at any time), across lives.
     */
    private long syncedLast;
    /** The simulated operator will act on a disk failure of this node (see Simulator#onDiskFailure). */
    boolean remedyPending;
    boolean paused;
    boolean slow;
    /** Virtual time until which the disk hangs ({@link #hang}); 0: never. */
    private long hangUntil;
    /** This hang's hung leader is reported (once per hang). */
    private boolean hangReported;
    /** Every fsync is slow ({@link FaultSchedule.SlowSync}). */
    boolean slowSync;
    /** When the first slow fsync began on this node's log writer while it led, or -1. */
    private long slowSyncSince = -1;
    private long slowSyncTerm;
    private long slowSteppedDownAfter = -1;
    /** When the fill fault (or a restart during it) began, or -1 while the disk has room. */
    private long filledSince = -1;
    /** Something held the writer or the ticks back during the fill: its bound does not apply. */
    private boolean fillDisturbed;
    private long diskFullRefusals;
    /** This life's log-writer lane. */
    private SimScheduler.Lane writerLane;
    private long missedTicks;
    /** How much faster this machine's clock runs, in percent (negative: slower); see {@link Fault#CLOCK}. */
    int clockRatePercent;
    /** How far this machine's wall clock is off, in microseconds. */
    long clockOffsetMicros;
    /** A power cut fired at a crash point while the process was starting: its start fails by design. */
    private boolean cutWhileStarting;
    private boolean starting;
    private Runnable tick;
    private RaftServer server;
    private FileSnapshotStore snapshots;
    private ObservedLog log;
    private StateMachine stateMachine;
    private final List<SimScheduler.Lane> lanes = new java.util.ArrayList<>();
    /** This process's backup service (one per process, as the admin service keeps one per root) and its lane. */
    private BackupService backupService;
    private SimScheduler.Lane backupLane;
    /** Names the next backup this machine takes: unique across its lives, a function of the run. */
    private int backups;
    /**
     * The backups this machine's disk must hold: each published (its future completed) since the
     * disk was last emptied; null after an older copy of the disk was put back (unknown).
     */
    List<Path> publishedBackups = new ArrayList<>();
    /** Retired: a restored spare whose check is done; its timer stops. */
    boolean retired;
    /**
     * Ids of the live-restore images this host holds ({@link SimStaging}): durable (staged images
     * are synced before a switch is proposed), so kept across crashes; lost with a wipe.
     */
    final java.util.Set<String> staged = new java.util.HashSet<>();
    /** Set when the apply thread opens a live restore's image: its next restore is that switch. */
    boolean switching;

    SimHost(long id, Simulator sim, Set<Long> founders) {
        this(id, sim, founders, new SimFileIo().mkdirsDurable(ROOT));
    }

    /** A machine whose disk already holds {@code disk} (a restored data directory at {@link #dataDir}). */
    SimHost(long id, Simulator sim, Set<Long> founders, SimFileIo disk) {
        this.id = id;
        this.sim = sim;
        this.founders = founders;
        this.dir = dataDir(id);
        this.disk = timed(disk);
    }

    /** The log's options in a run with {@code options}: 4 KiB segments under the snapshot fault. */
    static SegmentedLogStorage.Options logOptions(SimOptions options) {
        return options.faults().contains(Fault.SNAPSHOT) ? LOG_OPTIONS.withSegmentBytes(4096) : LOG_OPTIONS;
    }

    /** Where node {@code id}'s data directory is on its disk. */
    static Path dataDir(long id) {
        return ROOT.resolve("node" + id);
    }

    /** Where node {@code id} keeps its backups, on its own disk (as {@code raftkit backup} does). */
    static Path backupRoot(long id) {
        return ROOT.resolve("backups-" + id);
    }

    /**
     * Starts a backup of this node into {@link #backupRoot} through the real {@link BackupService},
     * its file steps on a lane of this process (a crash stops it, leaving a partial directory);
     * null while the node is down.
     */
    CompletableFuture<BackupService.Result> backup(dev.raftkit.storage.backup.BackupKind kind) {
        if (!up || server == null) {
            return null;
        }
        if (backupService == null) { // a second backup while one runs is refused, not interleaved
            backupService = BackupService.builder(server, snapshots, Simulator.CLUSTER_ID, backupRoot(id))
                    .fileIo(disk).clock(new VirtualClock()).ids(() -> "sim-" + id + "-" + ++backups).build();
            backupLane = lane("backup", life);
        }
        return switch (kind) {
            case FULL -> backupService.fullAsync(backupLane);
            case INCREMENTAL -> backupService.incrementalAsync(backupLane);
            case DIFFERENTIAL -> backupService.differentialAsync(backupLane);
        };
    }


    /**
     * Every fsync keeps the calling thread busy: 0.3–1.5 ms, ten times that on a slow disk, and
     * {@link #SLOW_SYNC_MICROS} under a slow-fsync fault (whose first one on the log writer of a
     * leader starts the clock of {@link #checkSlowLeader}).
     */
    private SimFileIo timed(SimFileIo d) {
        d.onSync(() -> {
            long base = 300 + sim.random().nextLong(1_200);
            if (slowSync) {
                if (slowSyncSince < 0 && writerLane != null && sim.scheduler().runningLane() == writerLane
                        && isLeader()) {
                    slowSyncSince = sim.scheduler().localNow();
                    slowSyncTerm = server.status().term();
                }
                sim.scheduler().spend(SLOW_SYNC_MICROS);
            } else {
                sim.scheduler().spend(slow ? base * 10 : base);
            }
        });
        return d;
    }

    /** Every fsync takes {@link #SLOW_SYNC_MICROS} from now on, or no longer does ({@link FaultSchedule.SlowSync}). */
    void slowSync(boolean on) {
        slowSync = on;
        slowSyncSince = -1;
    }

    /**
     * Once a slow fsync began on a leader's log writer, the leader must stop leading in that term
     * within {@link #SLOW_LEADER_BOUND_MICROS} (the runtime's diskSlowMillis step-down); the
     * trace records the measured virtual time to the step-down and to the next leader.
     */
    private void checkSlowLeader() {
        if (slowSyncSince < 0) {
            return;
        }
        ServerStatus st = server.status();
        long took = sim.scheduler().now() - slowSyncSince;
        if (st.role() != Role.LEADER || st.term() != slowSyncTerm) {
            if (slowSteppedDownAfter < 0) {
                slowSteppedDownAfter = took;
                sim.trace(id, "check", "slow fsync: the leader of term " + slowSyncTerm + " stepped down "
                        + took / 1000 + " ms after its first slow fsync began (bound " + SLOW_LEADER_BOUND_MICROS / 1000
                        + " ms)");
            }
            SimHost next = sim.leaderAfter(slowSyncTerm);
            if (next != null) {
                sim.trace(id, "check", "slow fsync: node " + next.id + " leads term " + next.status().term() + ", "
                        + took / 1000 + " ms after the first slow fsync of the old leader began");
                slowSyncSince = -1;
                slowSteppedDownAfter = -1;
            }
            return;
        }
        if (took > SLOW_LEADER_BOUND_MICROS) {
            sim.checker().onHungLeader(sim.now(), "node " + id + " still leads term " + slowSyncTerm + " "
                    + took / 1000 + " ms after its first fsync slower than diskSlowMillis (" + DISK_SLOW_MILLIS
                    + " ms) began; each takes " + SLOW_SYNC_MICROS / 1000 + " ms, and the bound is "
                    + SLOW_LEADER_BOUND_MICROS / 1000 + " ms");
            slowSyncSince = -1;
        }
    }

    /** True while a fill fault holds this disk's free space below the watermark. */
    boolean filled() {
        return filledSince >= 0;
    }

    /** The disk reports {@link #FILL_BYTES} free from now on, or its room back ({@link FaultSchedule.Fill}). */
    void fill(boolean on) {
        disk.usableSpace(on ? FILL_BYTES : Long.MAX_VALUE);
        filledSince = on ? sim.now() : -1;
        fillDisturbed = false;
    }

    /**
     * A write this node answered: acknowledged while its disk has been filled for longer than the
     * runtime needs to notice (and nothing held its log writer or its ticks back meanwhile), the
     * leader accepted a proposal below the watermark. A DISK_FULL refusal is counted.
     */
    void checkFilledAnswer(long invokedAt, Throwable error) {
        if (error instanceof RaftException e && e.reason() == RaftException.Reason.DISK_FULL) {
            diskFullRefusals++;
            return;
        }
        if (error == null && filledSince >= 0 && !fillDisturbed && invokedAt >= filledSince + FILL_MARGIN_MICROS) {
            sim.checker().onFullDiskAccepted(sim.now(), "node " + id + " acknowledged a write proposed "
                    + (invokedAt - filledSince) / SimOptions.TICK_MICROS + " ticks after its disk was filled to "
                    + FILL_BYTES + " bytes free, below the watermark minFreeDiskBytes: it should have refused it"
                    + " with DISK_FULL");
        }
    }

    /** DISK_FULL refusals this node's answers carried. */
    long diskFullRefusals() {
        return diskFullRefusals;
    }

    /**
     * The disk stops answering for {@code micros} ({@link FaultSchedule.Hang}): the log writer's
     * next task waits until then, as a thread blocked in an fsync that does not return, and the
     * work handed to it piles up (checked at every tick, {@link #checkHang}).
     */
    void hang(long micros) {
        hangUntil = sim.now() + micros;
        hangReported = false;
        sim.scheduler().schedule(micros, () -> lanes.forEach(SimScheduler.Lane::release));
    }

    /**
     * Once the log writer has held a write back for {@code diskStallTicks} and a margin, a node
     * still leading has not stepped down as the runtime promises: it heartbeats but cannot commit,
     * and keeps the others from electing a leader that can. (A hung disk with nothing to write
     * holds nothing up: the bound runs from the first write it holds.)
     */
    private void checkHang() {
        long since = writerLane == null ? -1 : writerLane.heldSince();
        if (hangReported || since < 0 || !hung() || !isLeader()
                || sim.now() - since <= (DISK_STALL_TICKS + HANG_MARGIN_TICKS) * SimOptions.TICK_MICROS) {
            return;
        }
        hangReported = true;
        sim.checker().onHungLeader(sim.now(), "node " + id + " still leads " + (sim.now() - since) / SimOptions.TICK_MICROS
                + " ticks after its hung disk began holding back its log writer (diskStallTicks " + DISK_STALL_TICKS
                + "): it heartbeats but cannot commit, and keeps the others from electing a leader that can");
    }

    /** True while the disk hangs: the log writer's tasks wait. */
    boolean hung() {
        return hangUntil > sim.now();
    }

    /**
     * Power cut, then the operator empties the data directory (a replaced disk, a wrong {@code rm})
     * and starts the node again under the same id with the same configuration; {@link #restart}
     * does that. The product must notice and keep the node from voting or acknowledging until it
     * has caught up (thesis §3.8; checked at the start).
     */
    void wipe() {
        crash();
        diskFault = null; // a new, working device
        disk = timed(new SimFileIo().mkdirsDurable(ROOT));
        publishedBackups = new ArrayList<>();
        staged.clear();
        lostState = true;
        syncedLast = 0; // all of it lost, on purpose: the start must find the node recovering
        sim.trace(id, "wipe", "data directory emptied; it restarts under the same id");
    }

    /** A copy of this node's disk as it holds it durably now (what a crash would leave). */
    SimFileIo copyDisk() {
        SimFileIo c = disk.copy();
        c.crash();
        return c;
    }

    /**
     * Power cut, then the operator puts back an older copy of the disk ({@link #copyDisk}); {@link
     * #restart} starts the node on it under the same id. The node cannot tell by itself (its
     * directory is whole, only old): the start-up check that it came back with what it synced is
     * waived, and the leader must find it out from the acknowledgements it holds (§3.8); the
     * cluster-wide checks (no acknowledged write lost, one leader a term) judge the rest.
     */
    void restoreDisk(SimFileIo copy) {
        crash();
        diskFault = null;
        disk = timed(copy);
        publishedBackups = null;
        syncedLast = 0;
        sim.trace(id, "stale", "an older copy of its data directory put back; it restarts under the same id");
    }

    boolean up() {
        return up;
    }

    /** The running server, or null while down. */
    RaftServer server() {
        return up ? server : null;
    }

    StateMachine stateMachine() {
        return stateMachine;
    }

    ServerStatus status() {
        return up ? server.status() : null;
    }

    boolean isLeader() {
        return up && server.status().role() == Role.LEADER;
    }

    // ---------------------------------------------------------------------------------------
    // Process life.

    /** Starts a process on this machine's disk: recovery, then the real server. */
    void start() {
        int myLife = ++life;
        lanes.clear();
        backupService = null;
        up = true;
        stopped = false;
        missedTicks = 0;
        starting = true;
        cutWhileStarting = false;
        try {
            boolean snapshotting = sim.options().faults().contains(Fault.SNAPSHOT);
            SegmentedLogStorage storage = SegmentedLogStorage.open(disk, dir.resolve("log"), logOptions(sim.options()),
                    sim.options().hooks().cutLogAtFirstInvalidRecord() ? CUT_AT_FIRST_INVALID : StorageTestingHooks.NONE);
            log = new ObservedLog(storage);
            snapshots = FileSnapshotStore.open(disk, dir.resolve("snapshots"));
            long seed = sim.options().seed() * 31 + id * 1_000_003L + myLife;
            stateMachine = new ObservedStateMachine(sim.workload().newStateMachine(sim.options().hooks()),
                    sim.options().hooks().nondeterministicApply() ? new Random(seed) : null);
            RaftConfig config = RaftConfig.builder(id).electionTicks(10).heartbeatTicks(2).preVote(true)
                    .checkQuorum(true).maxMsgBytes(64 * 1024).maxInflightMsgs(64).randomSeed(seed)
                    .snapshotSource(sim.options().snapshotSource()).peerSnapshotTimeoutTicks(40).build();
            RaftServerBuilder b = RaftServer.builder(config)
                    .logStorage(log)
                    .snapshotStore(snapshots)
                    .stateMachine(stateMachine)
                    .transport(sim.network().endpoint(id))
                    .clock(new VirtualClock())
                    .tickSource(t -> {
                        tick = t;
                        return () -> tick = null;
                    })
                    .raftLoopExecutor(lane("raft-loop", myLife))
                    .logWriterExecutor(writerLane = lane("log-writer", myLife, this::hung))
                    .applyExecutor(lane("apply", myLife))
                    .snapshotExecutor(lane("snapshot", myLife))
                    .eventsExecutor(lane("events", myLife))
                    .tracer((node, kind, detail) -> sim.trace(node, kind, detail))
                    .listener(new Observer(myLife))
                    .diskStallTicks(DISK_STALL_TICKS)
                    .diskSlowMillis(DISK_SLOW_MILLIS)
                    .nanoTime(() -> sim.scheduler().localNow() * 1000)
                    .testingHooks(sim.testingHooks())
                    .stagedStates(sim.staging().of(this, true));
            if (snapshotting) {
                b.snapshotThresholds(100, 1L << 20);
            }
            if (founders.contains(id) && myLife == 1) {
                // As an embedder founds: at the cluster's first start only. (raftkit server's
                // --bootstrap on an emptied directory first asks the other founders; WipedFounderTest.)
                b.bootstrap(founders);
            }
            InitialState init = log.initialState();
            server = b.start();
            if (lostState && !server.status().recovering()) {
                sim.checker().onLostStateTrusted(sim.now(), "node " + id + " started on an emptied data directory"
                        + " under its old id and is not recovering: it may vote or acknowledge on state it lost (§3.8)");
            }
            lostState = false;
            if (!server.status().recovering() && log.lastIndex() < syncedLast) {
                // A node may have acknowledged every entry it had synced: coming back with fewer
                // and not recovering, it can vote for a log without them (§3.8; Alagappan et al.,
                // FAST 2018, on storage faults meeting consensus).
                sim.checker().onLostStateTrusted(sim.now(), "node " + id + " restarted with its log ending at "
                        + log.lastIndex() + " although it had synced entries up to " + syncedLast
                        + ", and is not recovering: it may vote or acknowledge on entries it lost (§3.8)");
            }
            if (!server.status().recovering()) {
                String unnoticed = damagedLatestSnapshot();
                if (unnoticed != null) {
                    // The runtime verifies the snapshot it restores at start against its checksum;
                    // starting on a damaged one trusts state the disk did not keep.
                    sim.checker().onLostStateTrusted(sim.now(), "node " + id + " started on its newest snapshot although"
                            + " " + unnoticed + " holds a flipped bit, and is not recovering: it restored state its disk"
                            + " did not keep");
                }
            }
            syncedLast = log.lastIndex();
            // The recovered committed prefix must agree with what the cluster committed before. The
            // storage persists a commit-only change lazily (SegmentedLogStorage.Options
            // commitPersistInterval), so the durable commit may lag the snapshot; the node then
            // treats everything through the snapshot as committed, as RaftNode's constructor does.
            long recovered = Math.max(log.firstIndex() - 1, init.hardState().commit());
            sim.checker().onCommit(sim.now(), id, log.firstIndex() - 1, recovered, log);
            log.lastCommit = recovered;
            starting = false;
        } catch (IOException | RuntimeException e) {
            starting = false;
            if (cutWhileStarting) {
                cutWhileStarting = false; // the power went at a crash point: no refusal, a crash
                return;
            }
            up = false;
            // The process that refused to start exits: its locks go with it (the next start would
            // otherwise find the directory "in use" by a process that no longer exists).
            disk.processExit();
            if (expectsFailure()) {
                // The product found the injected damage (or the device still fails) and refused to
                // start, saying why: what it must do. The operator's remedy follows.
                sim.trace(id, "refused-start", String.valueOf(e.getMessage()));
                sim.onDiskFailure(this);
            } else {
                sim.checker().onNodeFailure(sim.now(), "node " + id + " cannot start from its disk: " + e);
            }
        }
    }

    /** True while a fault injected into this machine's disk explains a fail-stop or a refusal to start. */
    boolean expectsFailure() {
        return diskFault != null || disk.damaged();
    }

    /** True while the disk holds damage the nemesis made and no wipe has removed. */
    boolean damaged() {
        return disk.damaged();
    }

    /** True if the server stopped itself (fail-stop) and its process has not exited yet. */
    boolean stopped() {
        return up && stopped;
    }

    /**
     * The device fails: every write and fsync raises an {@link IOException} saying {@code message}
     * (EIO; or, with {@code full}, ENOSPC and no usable space) until {@link #healDisk}.
     */
    void failDisk(String message, boolean full) {
        diskFault = message;
        disk.failWrites(message);
        if (full) {
            disk.usableSpace(0);
        }
    }

    void healDisk() {
        filledSince = -1;
        diskFault = null;
        disk.failWrites(null);
        disk.usableSpace(Long.MAX_VALUE);
    }

    /** The damaged file of this node's newest snapshot (the one restored at start), or null. */
    private String damagedLatestSnapshot() {
        Path snapshots = dir.resolve("snapshots");
        String newest = null;
        for (Path p : disk.durableFiles(snapshots)) {
            String name = snapshots.relativize(p).getName(0).toString();
            if (name.startsWith("snap-") && !name.contains(".") && (newest == null || name.compareTo(newest) > 0)) {
                newest = name;
            }
        }
        for (Path p : disk.damagedFiles(snapshots)) {
            if (newest != null && snapshots.relativize(p).getName(0).toString().equals(newest)) {
                return dir.relativize(p).toString();
            }
        }
        return null;
    }

    /**
     * Latent corruption: flips one bit of a byte already synced in one of this node's files (a
     * log segment, the hard state, the log meta, a snapshot), as a failing sector or firmware bug
     * would; {@code pick} chooses the file, offset and bit. Returns what was hit, or null if the
     * node has no such file yet.
     */
    String corrupt(java.util.SplittableRandom pick) {
        List<Path> files = disk.durableFiles(dir).stream()
                .filter(p -> !p.getFileName().toString().equals("LOCK")).toList();
        if (files.isEmpty()) {
            return null;
        }
        Path file = files.get(pick.nextInt(files.size()));
        try {
            long offset = pick.nextLong(disk.durableSize(file));
            int bit = pick.nextInt(8);
            disk.flip(file, offset, bit);
            return dir.relativize(file) + " offset " + offset + " bit " + bit;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private SimScheduler.Lane lane(String name, int myLife) {
        return lane(name, myLife, () -> false);
    }

    /** A lane of this process that also waits while {@code waits} holds (a hung disk). */
    private SimScheduler.Lane lane(String name, int myLife, java.util.function.BooleanSupplier waits) {
        SimScheduler.Lane[] self = new SimScheduler.Lane[1];
        self[0] = sim.scheduler().new Lane(name + "-" + id, () -> up && life == myLife,
                () -> paused || waits.getAsBoolean(),
                () -> sim.checker().onNodeFailure(sim.now(), "node " + id + "'s " + name + " thread threw "
                        + self[0].lastError));
        lanes.add(self[0]);
        return self[0];
    }

    /**
     * Arms a power cut at this node's next file operation of {@code point} ({@link
     * FaultSchedule.CrashAt}), before it takes effect; then a restart {@code down} microseconds on.
     */
    void crashAt(FaultSchedule.CrashAt point, long down) {
        disk.crashAt(point::matches, () -> {
            sim.trace(id, "fault", "power cut at " + point.point());
            cutWhileStarting = starting;
            crash();
            sim.scheduler().schedule(down, this::restart);
        });
    }

    /** Disarms a crash point that has not fired (the faults heal). */
    void disarmCrashPoint() {
        disk.crashAt(null, null);
    }

    /** Power cut: the process vanishes and the disk keeps only what was synced. */
    void crash() {
        disk.crashAt(null, null); // a point armed for this life dies with it
        if (!up) {
            return;
        }
        up = false;
        paused = false;
        tick = null;
        disk.crash();
        if (diskFault != null) {
            disk.failWrites(diskFault); // the device is still broken after the power cut
        }
        // Not a graceful close (nothing of the old process runs again): frees what a dead
        // process's memory would (SQLite's in-memory database is native memory).
        closeStateMachine();
        sim.network().endpoint(id); // the old life's endpoint is closed
        sim.trace(id, "crash", "lost everything not fsync'd");
    }

    /** Releases the state machine of the current or last process (a crash, or the end of the run). */
    void closeStateMachine() {
        if (stateMachine != null) {
            try {
                stateMachine.close();
            } catch (RuntimeException ignored) {
                // A dead process's state machine.
            }
            stateMachine = null;
        }
    }

    void restart() {
        if (up) {
            return;
        }
        if (filledSince >= 0) {
            filledSince = sim.now(); // the new process polls afresh
        }
        slowSyncSince = -1;
        sim.trace(id, "restart", "from its disk");
        start();
    }

    void pause() {
        fillDisturbed |= filledSince >= 0;
        if (up && !paused) {
            paused = true;
            sim.network().pause(id, true);
        }
    }

    void resume() {
        if (!paused) {
            return;
        }
        paused = false;
        sim.network().pause(id, false);
        // A frozen process misses its timer; its monotonic clock does not stop, so the runtime
        // catches up on resume (otherwise leases would outlive the pause).
        for (; missedTicks > 0 && tick != null; missedTicks--) {
            tick.run();
        }
        missedTicks = 0;
        lanes.forEach(SimScheduler.Lane::release);
    }

    /** Virtual microseconds between this machine's ticks: {@code tick} at the true rate. */
    long tickPeriod(long tick) {
        return tick * 100 / (100 + clockRatePercent);
    }

    void tick() {
        if (!up || tick == null) {
            return;
        }
        if (paused) {
            missedTicks++;
            return;
        }
        tick.run();
        checkHang();
        checkSlowLeader();
        if (filledSince >= 0 && (hung() || slowSync || slow)) {
            // Its writer answers the free-space poll late: the fill check's margin no longer holds.
            fillDisturbed = true;
        }
    }

    /** The view the checker reads of this node's log storage. */
    SafetyChecker.LogView logView() {
        return log;
    }

    // ---------------------------------------------------------------------------------------
    // Observers.

    private final class VirtualClock extends Clock {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public long millis() {
            return EPOCH_MILLIS + (sim.scheduler().localNow() + clockOffsetMicros) / 1000;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis());
        }
    }

    /** Roles and failures as the server reports them (on its events lane). */
    private final class Observer implements RaftListener {
        private final int myLife;

        Observer(int myLife) {
            this.myLife = myLife;
        }

        @Override
        public void onRoleChange(Role role, long term, long leader) {
            if (role == Role.LEADER && life == myLife) {
                sim.checker().onLeader(sim.now(), id, term, log);
            }
        }

        @Override
        public void onStopped(Throwable cause) {
            if (cause == null || life != myLife) {
                return;
            }
            if (expectsFailure()) {
                // Fail-stop on an injected disk fault is the product working: it refused to go on
                // over a device it cannot trust. The simulated operator restarts (or replaces) it.
                stopped = true;
                sim.trace(id, "fail-stop", String.valueOf(cause.getMessage()));
                sim.onDiskFailure(SimHost.this);
            } else {
                sim.checker().onNodeFailure(sim.now(), "node " + id + " stopped (fail-stop): " + cause);
            }
        }
    }

    /** The real log storage, reporting what it is given to the checker and the trace. */
    private final class ObservedLog implements LogStorage, SafetyChecker.LogView {
        private final SegmentedLogStorage delegate;
        long lastCommit;

        ObservedLog(SegmentedLogStorage delegate) {
            this.delegate = delegate;
        }

        @Override
        public InitialState initialState() {
            return delegate.initialState();
        }

        @Override
        public long firstIndex() {
            return delegate.firstIndex();
        }

        @Override
        public long lastIndex() {
            return delegate.lastIndex();
        }

        @Override
        public long term(long index) {
            return delegate.term(index);
        }

        @Override
        public long termOrZero(long index) {
            if (index < delegate.firstIndex() - 1 || index > delegate.lastIndex() || index < 1) {
                return 0;
            }
            try {
                return delegate.term(index);
            } catch (RuntimeException compacted) {
                return 0;
            }
        }

        @Override
        public List<Entry> entries(long lo, long hi, long maxBytes) {
            return delegate.entries(lo, hi, maxBytes);
        }

        @Override
        public void append(List<Entry> entries) throws IOException {
            if (!entries.isEmpty()) {
                sim.checker().onAppend(sim.now(), id, entries, this);
                sim.traceRange(id, "append", entries.get(0).index(), entries.get(entries.size() - 1).index());
                syncedLast = Math.min(syncedLast, entries.get(0).index() - 1); // a truncation, if any
            }
            delegate.append(entries);
        }

        @Override
        public void setHardState(HardState hs) throws IOException {
            delegate.setHardState(hs);
            if (hs.commit() != lastCommit) {
                sim.checker().onCommit(sim.now(), id, lastCommit, hs.commit(), this);
                sim.traceRange(id, "commit", lastCommit + 1, hs.commit());
                lastCommit = Math.max(lastCommit, hs.commit());
            }
        }

        @Override
        public void installSnapshot(SnapshotMeta snapshot) throws IOException {
            sim.trace(id, "snapshot-installed", snapshot.last().toString());
            syncedLast = Math.min(syncedLast, snapshot.last().index());
            delegate.installSnapshot(snapshot);
        }

        @Override
        public void sync() throws IOException {
            delegate.sync();
            syncedLast = delegate.lastIndex();
        }

        @Override
        public long usableSpace() throws IOException {
            return delegate.usableSpace();
        }

        @Override
        public String location() {
            return delegate.location();
        }

        @Override
        public void compact(SnapshotMeta snapshot) throws IOException {
            delegate.compact(snapshot);
        }

        @Override
        public void compact(SnapshotMeta snapshot, long keepFrom) throws IOException {
            delegate.compact(snapshot, keepFrom);
        }

        @Override
        public void close() throws IOException {
            delegate.close();
        }
    }

    /** The workload's real state machine, reporting every apply to the checker and checking its invariant. */
    private final class ObservedStateMachine extends ForwardingStateMachine {
        /** The planted {@link Hooks#nondeterministicApply} bug's own coin, per process; else null. */
        private final Random reorder;
        private long applied;

        ObservedStateMachine(StateMachine delegate, Random reorder) {
            super(delegate);
            this.reorder = reorder;
        }

        StateMachine delegate() {
            return delegate;
        }

        @Override
        public List<byte[]> apply(List<Command> commands) {
            List<byte[]> out = reorder != null && commands.size() >= 3 && reorder.nextBoolean()
                    ? applySwapped(commands, reorder.nextInt(commands.size() - 2))
                    : delegate.apply(commands);
            for (int i = 0; i < commands.size(); i++) {
                Command c = commands.get(i);
                if (c.index() > applied + 1) {
                    sim.checker().onSkipped(sim.now(), id, applied, c.index());
                }
                sim.checker().onApply(sim.now(), id, applied, c.index(), c.term(), c.payload(),
                        out != null && out.size() == commands.size() ? out.get(i) : null);
                applied = c.index();
            }
            if (!commands.isEmpty()) {
                sim.traceRange(id, "apply", commands.get(0).index(), applied);
                String broken = sim.workloadRun().checkState(delegate);
                if (broken != null) {
                    sim.checker().onWorkloadViolation(sim.now(), "node " + id + ": " + broken);
                }
            }
            return out;
        }

        /**
         * The planted bug: commands {@code i} and {@code i + 1} of a batch applied in each other's
         * place, as a state machine applying a batch on several threads would (never the last, so
         * the applied index stays right). Batches differ from node to node, so replicas part.
         */
        private List<byte[]> applySwapped(List<Command> commands, int i) {
            List<Command> swapped = new ArrayList<>(commands);
            Collections.swap(swapped, i, i + 1);
            List<byte[]> out = new ArrayList<>(delegate.apply(swapped));
            Collections.swap(out, i, i + 1);
            return out;
        }

        @Override
        public Snapshot snapshot() {
            recordDigest();
            return delegate.snapshot();
        }

        @Override
        public void restore(long index, InputStream in) throws IOException {
            delegate.restore(index, in);
            applied = index;
            if (switching) {
                // A live restore's switch: the state at index is the image's, not the commands'.
                switching = false;
                sim.checker().onStateSwitch(index);
                sim.trace(id, "restore", "live restore: state switched at index " + index);
            }
            recordDigest();
        }

        /**
         * Under the backup fault, the digest of each state snapshotted or restored: the oracle a
         * restored backup is held to (and two nodes' states after the same commands must agree).
         */
        private void recordDigest() {
            if (sim.options().faults().contains(Fault.BACKUP)) {
                sim.checker().onStateDigest(sim.now(), id, sim.checker().stateKey(delegate.lastApplied()),
                        sim.workloadRun().digest(delegate));
            }
        }

    }

    /** The workload's state machine inside the observer. */
    StateMachine workloadStateMachine() {
        return stateMachine instanceof ObservedStateMachine o ? o.delegate() : stateMachine;
    }
}
