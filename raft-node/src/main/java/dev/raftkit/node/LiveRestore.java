package dev.raftkit.node;

import dev.raftkit.core.RaftException;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.StateReplay;
import dev.raftkit.spi.StagedState;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.FileSnapshotStore;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.storage.backup.BackupChain;
import dev.raftkit.storage.backup.BackupKey;
import dev.raftkit.storage.backup.BackupRestore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live restore run by one node (hot recovery, {@link RaftNode#liveRestore}): rolls its running
 * cluster back to the state of a backup chain at an index, as one log entry every replica applies.
 *
 * <ol>
 *   <li>Verify the chain and restore it into a scratch directory in the staging area (the
 *       ordinary {@link BackupRestore}, so it is refused, naming the file, exactly as a cold
 *       restore would be).
 *   <li>Rebuild the state at the index in a fresh state machine ({@link StateReplay}: the same
 *       session decisions as the apply thread) and stage its image ({@link StagingArea#build}):
 *       its SHA-256 and size name it.
 *   <li>Have every other member copy the image from this node ({@code StageState}); go on only if
 *       a majority of voters (this node counted) hold it durably. A member that does not is not
 *       left behind: when it reaches the entry it fetches the image before applying anything more.
 *   <li>Have the leader propose the entry naming the image ({@link RaftServer#switchState}). It
 *       is proposed once: a failure after the leader took it is reported as an unknown outcome,
 *       never retried, since a second switch to the same image would roll back the writes made
 *       between the two.
 * </ol>
 *
 * Blocking, on the admin service's backup thread (one backup or restore at a time per node).
 */
final class LiveRestore {

    private static final Logger LOG = LoggerFactory.getLogger(LiveRestore.class);

    /** What a live restore did: see {@link AdminClient.LiveRestored}. */
    record Result(long node, long switchIndex, StagedState state, List<Long> stagedOn, List<Path> chain, long leader) {
    }

    private final RaftServer server;
    private final StagingArea staging;
    private final Supplier<StateMachine> fresh;
    private final String clusterId;
    private final TlsConfig tls;
    private final LongFunction<String> clientAddress;

    LiveRestore(RaftServer server, StagingArea staging, Supplier<StateMachine> fresh, String clusterId, TlsConfig tls,
                LongFunction<String> clientAddress) {
        this.server = server;
        this.staging = staging;
        this.fresh = fresh;
        this.clusterId = clusterId;
        this.tls = tls;
        this.clientAddress = clientAddress;
    }

    Result run(Path from, long index, BackupKey key, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long self = server.id();
        BackupChain chain = BackupChain.discover(from, key);
        long end = chain.last().manifest().lastIndex();
        long target = index == 0 ? end : index;
        List<Path> dirs = chain.backups().stream().map(BackupChain.Backup::dir).toList();
        String id = "live-" + System.currentTimeMillis() + "-n" + self;
        Path scratch = staging.dir().resolve(id + ".restore");
        StagedState state;
        try {
            BackupRestore.restore(dirs, scratch, target, key);
            try (StateMachine sm = fresh.get();
                 FileSnapshotStore store = FileSnapshotStore.open(scratch.resolve(BackupRestore.SNAPSHOT_DIR));
                 SegmentedLogStorage log = SegmentedLogStorage.open(scratch.resolve(BackupRestore.LOG_DIR))) {
                StateReplay.replay(server, store, log, target, sm, staging);
                try (StateMachine.Snapshot image = sm.snapshot()) {
                    state = staging.build(id, target, image::writeTo);
                }
            } catch (Exception e) {
                if (e instanceof IOException io) {
                    throw io;
                }
                throw new IOException("could not rebuild the backup's state at index " + target + ": " + e, e);
            }
        } finally {
            FileIo.real().deleteRecursively(scratch);
        }
        LOG.info("node {}: live restore: staged {} from {}", self, state, dirs);

        ConfState conf = server.status().conf();
        int voters = conf.voters().size();
        TreeSet<Long> members = new TreeSet<>(conf.voters());
        members.addAll(conf.learners());
        members.remove(self);
        Map<Long, CompletableFuture<Void>> copies = new LinkedHashMap<>();
        for (long m : members) {
            String address = clientAddress.apply(m);
            if (address == null) {
                continue;
            }
            AdminClient c = new AdminClient(HostPort.parse(address, "client address"), tls);
            CompletableFuture<Void> f = c.stageState(clusterId, state, remaining(deadline));
            f.whenComplete((r, t) -> c.close());
            copies.put(m, f);
        }
        List<Long> stagedOn = new ArrayList<>(List.of(self));
        for (Map.Entry<Long, CompletableFuture<Void>> e : copies.entrySet()) {
            try {
                e.getValue().get(remaining(deadline).toMillis(), TimeUnit.MILLISECONDS);
                stagedOn.add(e.getKey());
            } catch (ExecutionException | TimeoutException failed) {
                LOG.warn("node {}: live restore: node {} did not stage {}: {}; it fetches it when it applies the switch",
                        self, e.getKey(), state.id(), failed.getCause() != null ? failed.getCause() : failed);
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while staging " + state, interrupted);
            }
        }
        long stagedVoters = stagedOn.stream().filter(conf.voters()::contains).count();
        if (stagedVoters <= voters / 2) {
            throw new IOException("only " + stagedVoters + " of the " + voters + " voters " + conf.voters()
                    + " staged the backup's state (" + stagedOn + "); a live restore needs a majority, so no switch was"
                    + " proposed; bring the members back and retry");
        }
        return propose(state, stagedOn, dirs, deadline);
    }

    /** Proposes the switch at the leader: retried only while no leader took it (NOT_LEADER). */
    private Result propose(StagedState state, List<Long> stagedOn, List<Path> dirs, long deadline) throws IOException {
        long self = server.id();
        while (true) {
            long leader = server.status().leader();
            try {
                long at;
                if (leader == self) {
                    at = server.switchState(state).get(remaining(deadline).toMillis(), TimeUnit.MILLISECONDS);
                } else if (leader > 0 && clientAddress.apply(leader) != null) {
                    try (AdminClient c = new AdminClient(HostPort.parse(clientAddress.apply(leader), "client address"),
                            tls)) {
                        at = c.switchState(clusterId, state, remaining(deadline))
                                .get(remaining(deadline).toMillis(), TimeUnit.MILLISECONDS);
                    }
                } else {
                    at = -1;
                }
                if (at > 0) {
                    LOG.info("node {}: live restore: the cluster switched to {} at index {} (leader {})", self, state,
                            at, leader);
                    return new Result(self, at, state, stagedOn, dirs, leader);
                }
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                boolean refused = c instanceof RaftException r && r.reason() == RaftException.Reason.NOT_LEADER;
                if (!refused) {
                    throw new IOException("the switch to " + state + " was proposed but its outcome is unknown (" + c
                            + "); check the cluster's state digest before retrying: a second switch would roll back"
                            + " the writes made since the first", c);
                }
            } catch (TimeoutException e) {
                throw new IOException("the switch to " + state + " did not apply within the timeout; its outcome is"
                        + " unknown: check the cluster's state digest before retrying", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while proposing the switch to " + state, e);
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("no leader took the switch to " + state + " before the timeout; nothing was"
                        + " switched (the image stays staged); retry");
            }
            try {
                Thread.sleep(100); // waiting for an election: nothing to be notified of from here
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for a leader", e);
            }
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime()));
    }
}
