package dev.raftkit.runtime;

import dev.raftkit.core.Bootstrap;
import dev.raftkit.core.HardState;
import dev.raftkit.core.RaftConfig;
import dev.raftkit.core.RaftCore;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.Tracer;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.InitialState;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.spi.StorageException;
import java.io.IOException;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up recovery, on the caller's thread before any stage runs: founds a cluster if asked and
 * the node has no state, marks a node that lost its state as recovering (thesis §3.8), makes the
 * log agree with the newest stored snapshot, restores that snapshot into the state machine and
 * the session table, and builds the {@link RaftCore} on the log. Nothing here runs again once the
 * server is up: a snapshot installed later goes through the apply thread.
 */
final class StartupRecovery {

    /** RaftServer's logger, so embedders' logging configuration sees start-up where it always did. */
    private static final Logger LOG = LoggerFactory.getLogger(RaftServer.class);

    /**
     * What the node starts from: the restored snapshot's position and the runtime state in it;
     * {@code from} is the stored snapshot restored, or null for none.
     */
    record Restored(long index, long term, ConfState conf, long logTime, SessionTable sessions, SnapshotDescriptor from) {
    }

    /** The recovered core and what the apply thread starts from. */
    record Recovered(RaftCore node, Restored restored) {
    }

    private final RaftConfig config;
    private final LogStorage log;
    private final SnapshotStore snapshotStore;
    private final StateMachine stateMachine;
    /** The founders' voters, or null when not founding. */
    private final Set<Long> bootstrap;
    private final TestingHooks testingHooks;

    StartupRecovery(RaftConfig config, LogStorage log, SnapshotStore snapshotStore, StateMachine stateMachine,
                    Set<Long> bootstrap, TestingHooks testingHooks) {
        this.config = config;
        this.log = log;
        this.snapshotStore = snapshotStore;
        this.stateMachine = stateMachine;
        this.bootstrap = bootstrap;
        this.testingHooks = testingHooks;
    }

    /** See {@link RaftServer#hasNoDurableState}. */
    static boolean hasNoDurableState(LogStorage log, SnapshotStore snapshots) throws IOException {
        InitialState init = log.initialState();
        return log.lastIndex() == 0 && init.snapshot().index() == 0 && init.hardState().equals(HardState.EMPTY)
                && snapshots.latest().isEmpty();
    }

    /**
     * Recovers in order: bootstrap, lost-state mark, log/store reconciliation, snapshot restore
     * (into {@code sessions} and the state machine), then the core on the repaired log.
     * {@code userTracer} (may be null) gets the core's events after the runtime logs the lost-state ones.
     *
     * @throws IOException      if storage cannot be read
     * @throws StorageException if the log and the snapshot store disagree beyond repair
     */
    Recovered recover(SessionTable sessions, Tracer userTracer) throws IOException {
        maybeBootstrap();
        markLostState();
        Optional<SnapshotDescriptor> latest = reconcile();
        Restored restored = restoreLatest(latest.orElse(null), sessions);
        RaftCore node = new RaftCore(config.toBuilder().applied(restored.index()).build(), log, testingHooks);
        node.setTracer((n, kind, detail) -> {
            if (kind.equals("lost-state-found")) {
                LOG.warn("node {} lost state: {}", n, detail);
            } else if (kind.equals("recovered")) {
                LOG.warn("node {} recovered: {}", n, detail);
            }
            if (userTracer != null) {
                userTracer.event(n, kind, detail);
            }
        });
        return new Recovered(node, restored);
    }

    /** Restores the newest snapshot into the state machine and {@code sessions}. */
    private Restored restoreLatest(SnapshotDescriptor latest, SessionTable sessions) throws IOException {
        if (latest == null) {
            return new Restored(0, 0, ConfState.EMPTY, 0, sessions, null);
        }
        SnapshotMeta meta = latest.meta();
        try (SnapshotReader r = snapshotStore.open(latest)) {
            // Verify at start-up: the snapshot has been at rest on this disk.
            if (!testingHooks.restoreUnverifiedSnapshot()) {
                r.verify();
            }
            long logTime = SnapshotHeader.restore(r, stateMachine, sessions, meta.index(),
                    "node " + config.id() + "'s snapshot " + meta.last(), testingHooks.forgetSessionResponsesOnRestore());
            return new Restored(meta.index(), meta.term(), meta.conf(), logTime, sessions, latest);
        }
    }

    private void maybeBootstrap() throws IOException {
        if (bootstrap == null) {
            return;
        }
        // EMPTY, not just term 0: a node already marked recovering (started once without
        // bootstrap after losing its state) must not found a cluster when restarted with it.
        if (hasNoDurableState(log, snapshotStore)) {
            log.append(Bootstrap.entries(bootstrap));
            log.setHardState(Bootstrap.hardState(bootstrap));
            log.sync();
            LOG.info("node {} founded a cluster of voters {}", config.id(), bootstrap);
        }
    }

    /**
     * A node that finds no durable state and is not founding a cluster (no bootstrap, or
     * bootstrap on a node that already has state) may have voted and acknowledged entries in an
     * earlier life under this id that it no longer remembers (a wiped or replaced directory):
     * it starts recovering, persisted before anything else happens, so it grants no vote and
     * counts toward no commit until it has caught up from a leader (thesis §3.8;
     * docs/divergence.md, "Lost state"). A node added to a cluster starts the same way: nothing
     * tells it apart from a wiped one, and catching up first costs it nothing.
     */
    private void markLostState() throws IOException {
        InitialState init = log.initialState();
        if (init.hardState().recovering()) {
            LOG.warn("node {} is still recovering lost state: it will not vote until it has caught up from a"
                    + " leader (thesis §3.8)", config.id());
            return;
        }
        if (hasNoDurableState(log, snapshotStore) && !testingHooks.trustLostState()) {
            log.setHardState(HardState.LOST);
            log.sync();
            LOG.warn("node {} starts with no durable state and is not founding a cluster: it will not vote until"
                    + " it has caught up from a leader (thesis §3.8)", config.id());
        }
    }

    /**
     * Makes the log agree with the newest snapshot in the store before the node starts. A crash
     * can leave the store ahead of the log in two ways, both safe to repair because a snapshot
     * holds only committed entries: (1) a local snapshot at index i was written while the hard
     * state's commit index, which needs no fsync of its own, was still below i on disk: raise
     * the commit index to i; (2) a snapshot received from the leader was committed to the store
     * but the crash came before its Ready installed it in the log: install it now, discarding
     * the log (whose entry at i, if any, has another term and so was never committed).
     */
    private Optional<SnapshotDescriptor> reconcile() throws IOException {
        Optional<SnapshotDescriptor> latest = snapshotStore.latest();
        InitialState init = log.initialState();
        SnapshotMeta logSnap = init.snapshot();
        long storeIndex = latest.map(d -> d.meta().index()).orElse(0L);
        if (storeIndex < logSnap.index()) {
            throw new StorageException("node " + config.id() + ": the log starts after a snapshot at index "
                    + logSnap.index() + " but the snapshot store's newest snapshot is at " + storeIndex
                    + "; the state machine cannot be restored. Restore this node's snapshot directory from a"
                    + " backup, or wipe the node's data and re-add it to the cluster");
        }
        if (latest.isEmpty() || storeIndex == logSnap.index()) {
            return latest;
        }
        SnapshotMeta meta = latest.get().meta();
        boolean holds = log.firstIndex() <= meta.index() && meta.index() <= log.lastIndex()
                && log.term(meta.index()) == meta.term();
        HardState hs = init.hardState();
        if (!holds) {
            LOG.info("node {}: installing snapshot {} from the store into the log (a crash interrupted its install)",
                    config.id(), meta.last());
            log.installSnapshot(meta);
        }
        if (hs.commit() < meta.index()) {
            log.setHardState(new HardState(hs.term(), hs.vote(), meta.index(), hs.recovering()));
        }
        log.sync();
        if (holds) {
            // The log must start at the snapshot it would send a lagging follower (§5), and
            // that snapshot must be the one the store keeps.
            log.compact(meta);
        }
        return latest;
    }
}
