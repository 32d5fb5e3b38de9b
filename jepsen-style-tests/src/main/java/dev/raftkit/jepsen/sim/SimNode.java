package dev.raftkit.jepsen.sim;

import dev.raftkit.core.ProposalRejectedException;
import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftNode;
import dev.raftkit.core.ReadConsistency;
import dev.raftkit.core.ReadState;
import dev.raftkit.core.Ready;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.Changer;
import dev.raftkit.core.confchange.ConfChangeCodec;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.EntryType;
import dev.raftkit.core.log.MemoryLogStorage;
import dev.raftkit.core.message.Message;
import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.Response;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One simulated server: a {@link RaftNode} driven under the Ready contract, a virtual disk whose
 * fsyncs take time and cover every Ready taken before they start (group commit), and the
 * key-value state machine. A crash loses everything not fsync'd; a restart rebuilds the node from
 * the disk only.
 */
final class SimNode {

    /** A client write waiting for its entry to be applied here. */
    private record Proposal(EntryId at, Simulator.ClientOp op) {
    }

    /** A client read waiting for its read index, then for that index to be applied here. */
    private record PendingRead(Simulator.ClientOp op, long readIndex) {
    }

    final long id;
    private final Simulator sim;
    private final MemoryLogStorage disk;
    /** The state machine image that goes with the disk's snapshot. */
    private Map<String, String> durableImage = Map.of();
    /** Bumped on crash: callbacks scheduled by an earlier life are ignored. */
    private int lifetime;
    RaftNode raft;
    private final KvStore kv = new KvStore();
    private long appliedIndex;
    private ConfState appliedConf = ConfState.EMPTY;
    private long lifetimeCommit;
    private boolean wasLeader;

    boolean crashed;
    boolean paused;
    boolean slow;
    private long missedTicks;
    private final List<Runnable> pausedInbox = new ArrayList<>();

    private final List<Ready> notDurable = new ArrayList<>();
    private final Map<Long, Map<String, String>> readyImages = new HashMap<>();
    private boolean fsyncRunning;
    private final Map<EntryId, Map<String, String>> incomingImages = new HashMap<>();

    private final Map<Long, Proposal> proposals = new HashMap<>();
    private final Map<Long, Simulator.ClientOp> readsAwaitingIndex = new HashMap<>();
    private final List<PendingRead> readsAwaitingApply = new ArrayList<>();
    private long nextReadId = 1;

    SimNode(long id, Simulator sim, MemoryLogStorage disk) {
        this.id = id;
        this.sim = sim;
        this.disk = disk;
        start();
    }

    private RaftConfig config(long applied) {
        return RaftConfig.builder(id).electionTicks(10).heartbeatTicks(2).preVote(true).checkQuorum(true)
                .maxMsgBytes(64 * 1024).maxInflightMsgs(64).applied(applied)
                .randomSeed(sim.options().seed() * 31 + id * 1_000_003L + lifetime).build();
    }

    private void start() {
        SnapshotMeta snap = disk.snapshot();
        raft = new RaftNode(config(snap.index()), disk);
        raft.setTracer((node, kind, detail) -> sim.trace(node, kind, detail));
        kv.restore(durableImage);
        appliedIndex = snap.index();
        appliedConf = snap.conf();
        // The durable committed prefix must agree with what the cluster committed before.
        sim.checker().onCommit(sim.now(), id, snap.index(), raft.committed(), raft.log());
        lifetimeCommit = raft.committed();
        wasLeader = false;
        processReadies();
    }

    // ---------------------------------------------------------------------------------------
    // Inputs. Every input runs the node's loop afterwards: step, then drain Readys.

    /** Runs {@code input} on this node unless it is down; queues it while paused. */
    void input(Runnable input) {
        if (crashed) {
            return;
        }
        if (paused) {
            pausedInbox.add(input);
            return;
        }
        input.run();
        processReadies();
    }

    void tick() {
        if (crashed) {
            return;
        }
        if (paused) {
            // A frozen process misses its timer; its monotonic clock does not stop, so the runtime
            // catches up on resume (otherwise leases would outlive the pause).
            missedTicks++;
            return;
        }
        raft.tick();
        processReadies();
    }

    void receive(Message m, Map<String, String> snapshotImage) {
        input(() -> {
            if (snapshotImage != null) {
                incomingImages.put(((dev.raftkit.core.message.InstallSnapshot) m).snapshot().last(), snapshotImage);
            }
            raft.step(m);
        });
    }

    void pause() {
        paused = true;
    }

    void resume() {
        if (!paused) {
            return;
        }
        paused = false;
        if (crashed) {
            return;
        }
        for (; missedTicks > 0; missedTicks--) {
            raft.tick();
        }
        List<Runnable> inbox = new ArrayList<>(pausedInbox);
        pausedInbox.clear();
        inbox.forEach(Runnable::run);
        processReadies();
    }

    void crash() {
        crashed = true;
        lifetime++;
        notDurable.clear();
        readyImages.clear();
        fsyncRunning = false;
        pausedInbox.clear();
        paused = false;
        missedTicks = 0;
        proposals.clear();
        readsAwaitingIndex.clear();
        readsAwaitingApply.clear();
        incomingImages.clear();
        sim.checker().onNotLeader(id);
        sim.trace(id, "crash", "lost everything not fsync'd; durable commit " + disk.hardState().commit());
    }

    void restart() {
        if (!crashed) {
            return;
        }
        crashed = false;
        sim.trace(id, "restart", "from durable log " + disk.firstIndex() + ".." + disk.lastIndex());
        start();
    }

    /** Snapshots the state machine at its applied index and compacts the log there (instant, durable). */
    void compact() {
        if (crashed || paused || appliedIndex <= disk.snapshot().index() || appliedIndex > disk.lastIndex()) {
            return;
        }
        SnapshotMeta meta = new SnapshotMeta(new EntryId(disk.term(appliedIndex), appliedIndex), appliedConf);
        disk.compact(meta);
        durableImage = kv.image();
        sim.trace(id, "compact", "log now starts at " + disk.firstIndex());
    }

    // ---------------------------------------------------------------------------------------
    // Client requests.

    void clientRequest(Simulator.ClientOp op) {
        input(() -> {
            Command c = op.command;
            if (c instanceof Command.Read r) {
                serveRead(op, r);
                return;
            }
            try {
                EntryId at = raft.propose(KvStore.encode(c));
                proposals.put(at.index(), new Proposal(at, op));
                if (sim.options().hooks().ackBeforeCommit()) {
                    sim.reply(op, id, c instanceof Command.Write ? Response.written() : Response.cas(true), 0);
                }
            } catch (ProposalRejectedException e) {
                sim.reply(op, id, null, e.leaderHint());
            }
        });
    }

    private void serveRead(Simulator.ClientOp op, Command.Read r) {
        if (sim.options().hooks().readFromBelievedLeader()) {
            if (raft.isLeader()) {
                sim.reply(op, id, Response.read(kv.read(r.key())), 0);
            } else {
                sim.reply(op, id, null, raft.leader());
            }
            return;
        }
        switch (op.readMode) {
            case LOCAL_UNSAFE -> sim.reply(op, id, Response.read(kv.read(r.key())), 0);
            case LINEARIZABLE, LEASE -> {
                long reqId = nextReadId++;
                readsAwaitingIndex.put(reqId, op);
                raft.readIndex(reqId, op.readMode == ReadMode.LEASE ? ReadConsistency.LEASE : ReadConsistency.SAFE);
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // The Ready loop.

    private void processReadies() {
        while (!crashed && !paused && raft.hasReady()) {
            handleReady(raft.ready());
        }
    }

    private void handleReady(Ready r) {
        sim.countEvent();
        SafetyChecker checker = sim.checker();
        boolean leader = raft.isLeader();
        if (leader && !wasLeader) {
            checker.onLeader(sim.now(), id, raft.term(), raft.log());
        } else if (!leader && wasLeader) {
            checker.onNotLeader(id);
        }
        wasLeader = leader;
        checker.onAppend(sim.now(), id, leader, r.entries(), raft.log());
        long commit = raft.committed();
        if (commit != lifetimeCommit) {
            checker.onCommit(sim.now(), id, lifetimeCommit, commit, raft.log());
            sim.traceRange(id, "commit", lifetimeCommit + 1, commit);
            lifetimeCommit = commit;
        }
        if (!r.entries().isEmpty()) {
            sim.traceRange(id, "append", r.entries().get(0).index(), r.entries().get(r.entries().size() - 1).index());
        }

        for (Message m : r.messages()) {
            sim.send(this, m);
        }
        if (sim.options().hooks().sendBeforePersist()) {
            for (Message m : r.messagesAfterPersist()) {
                sim.send(this, m);
            }
        }
        if (r.snapshot() != null) {
            Map<String, String> image = incomingImages.remove(r.snapshot().last());
            if (image == null) {
                throw new IllegalStateException("node " + id + " installs snapshot " + r.snapshot().last()
                        + " whose data never arrived");
            }
            // §5: the snapshot is restored before any later committed entry is applied.
            kv.restore(image);
            appliedIndex = r.snapshot().index();
            appliedConf = r.snapshot().conf();
            readyImages.put(r.number(), image);
            sim.trace(id, "snapshot-installed", r.snapshot().last().toString());
        }
        if (sim.options().hooks().applyBeforeCommit()) {
            for (Entry e : r.entries()) {
                if (e.index() > appliedIndex) {
                    applyEntry(e);
                }
            }
        }
        if (!r.committedEntries().isEmpty()) {
            for (Entry e : r.committedEntries()) {
                if (e.index() > appliedIndex) {
                    applyEntry(e);
                }
            }
            raft.onApplied(r.lastCommittedIndex());
            sim.traceRange(id, "apply", r.committedEntries().get(0).index(), r.lastCommittedIndex());
        }
        for (ReadState rs : r.readStates()) {
            Simulator.ClientOp op = readsAwaitingIndex.remove(rs.requestId());
            if (op != null) {
                readsAwaitingApply.add(new PendingRead(op, rs.index()));
            }
        }
        serveAppliedReads();
        notDurable.add(r);
        if (!fsyncRunning) {
            startFsync();
        }
    }

    private void applyEntry(Entry e) {
        sim.checker().onApply(sim.now(), id, appliedIndex, e);
        appliedIndex = e.index();
        Response response = null;
        if (e.type() == EntryType.CONF_CHANGE) {
            try {
                appliedConf = Changer.apply(appliedConf, ConfChangeCodec.decode(e.data()));
            } catch (IllegalArgumentException invalid) {
                // A no-op on every node alike.
            }
        } else if (e.data().length > 0) {
            response = kv.apply(KvStore.decode(e.data()));
        }
        Proposal p = proposals.remove(e.index());
        if (p != null && !sim.options().hooks().ackBeforeCommit()) {
            if (p.at().term() == e.term()) {
                sim.reply(p.op(), id, response, 0);
            } else {
                // Another leader's entry landed at our index: ours was overwritten and never commits.
                sim.reply(p.op(), id, null, raft.leader());
            }
        }
    }

    private void serveAppliedReads() {
        for (Iterator<PendingRead> it = readsAwaitingApply.iterator(); it.hasNext(); ) {
            PendingRead pr = it.next();
            if (appliedIndex >= pr.readIndex()) {
                it.remove();
                sim.reply(pr.op(), id, Response.read(kv.read(pr.op().command.key())), 0);
            }
        }
    }

    /**
     * Completes at once the leading Readys with nothing to persist (everything before them is
     * durable), then starts one fsync for all the rest: group commit.
     */
    private void startFsync() {
        while (!notDurable.isEmpty() && !notDurable.get(0).hasPersistWork()) {
            complete(List.of(notDurable.remove(0)));
        }
        if (notDurable.isEmpty() || crashed) {
            return;
        }
        int batch = notDurable.size();
        fsyncRunning = true;
        int life = lifetime;
        sim.schedule(sim.diskLatency(this), () -> {
            if (life == lifetime) {
                input(() -> fsyncDone(batch));
            }
        });
    }

    private void fsyncDone(int batch) {
        fsyncRunning = false;
        List<Ready> done = new ArrayList<>(notDurable.subList(0, batch));
        notDurable.subList(0, batch).clear();
        for (Ready r : done) {
            if (r.snapshot() != null) {
                disk.installSnapshot(r.snapshot());
                durableImage = readyImages.remove(r.number());
            }
            disk.append(r.entries());
            if (r.hardState() != null) {
                disk.setHardState(r.hardState());
                sim.checker().onDurableCommit(sim.now(), id, r.hardState().commit());
            }
        }
        complete(done);
        processReadies();
        if (!fsyncRunning) {
            startFsync();
        }
    }

    private void complete(List<Ready> done) {
        if (!sim.options().hooks().sendBeforePersist()) {
            for (Ready r : done) {
                for (Message m : r.messagesAfterPersist()) {
                    sim.send(this, m);
                }
            }
        }
        raft.onPersisted(done.get(done.size() - 1).number());
    }

    // ---------------------------------------------------------------------------------------
    // Observation.

    /** The image to stream to a follower for {@code meta}, or null if this node no longer has it. */
    Map<String, String> imageFor(SnapshotMeta meta) {
        return meta.last().equals(disk.snapshot().last()) ? durableImage : null;
    }

    long appliedIndex() {
        return appliedIndex;
    }

    long digest() {
        return kv.digest();
    }

    boolean isLeader() {
        return !crashed && raft.isLeader();
    }
}
