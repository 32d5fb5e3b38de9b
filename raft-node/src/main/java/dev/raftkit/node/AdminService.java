package dev.raftkit.node;

import com.google.protobuf.ByteString;
import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.GrpcErrors;
import dev.raftkit.grpc.Untrusted;
import dev.raftkit.grpc.proto.AddPeerRequest;
import dev.raftkit.grpc.proto.AddPeerResponse;
import dev.raftkit.grpc.proto.BackupKindProto;
import dev.raftkit.grpc.proto.BackupProgressRequest;
import dev.raftkit.grpc.proto.BackupProgressResponse;
import dev.raftkit.grpc.proto.BackupRequest;
import dev.raftkit.grpc.proto.BackupResponse;
import dev.raftkit.grpc.proto.EventsRequest;
import dev.raftkit.grpc.proto.FetchStagedRequest;
import dev.raftkit.grpc.proto.LiveRestoreRequest;
import dev.raftkit.grpc.proto.LiveRestoreResponse;
import dev.raftkit.grpc.proto.ProtocolEventMessage;
import dev.raftkit.grpc.proto.RaftAdminServiceGrpc;
import dev.raftkit.grpc.proto.SnapshotRequest;
import dev.raftkit.grpc.proto.SnapshotResponse;
import dev.raftkit.grpc.proto.StageStateRequest;
import dev.raftkit.grpc.proto.StageStateResponse;
import dev.raftkit.grpc.proto.StagedChunk;
import dev.raftkit.grpc.proto.SwitchStateRequest;
import dev.raftkit.grpc.proto.SwitchStateResponse;
import dev.raftkit.spi.StagedState;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.backup.BackupFile;
import dev.raftkit.storage.backup.BackupKind;
import dev.raftkit.storage.backup.BackupManifest;
import dev.raftkit.storage.backup.BackupScheduler;
import dev.raftkit.storage.backup.BackupService;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin service ({@code admin.proto}) of one {@link RaftNode}, served on its client port:
 * backups taken by this node into a directory on this node's host, and peer addresses learnt at
 * run time (a node added to the cluster after this one started), snapshots on request, and the
 * node's live protocol events ({@code Events}, fed by an {@link EventHub} that {@link RaftNode}
 * registers as a listener of its server).
 *
 * <p><b>Why backups run inside the node:</b> a {@link BackupService} needs the node's own
 * {@code RaftServer} (to take a snapshot now, to read committed entries, to pin the log) and the
 * very snapshot store that server writes to. A separate process has neither, so the CLI asks the
 * node over gRPC and the node writes the backup locally. One {@link BackupService} is kept per
 * backup root, so consecutive incrementals into one root continue one chain and the log
 * retention pin it sets stays in place between them.
 *
 * <p><b>Where backups go:</b> only under the node's backup root ({@link BackupPolicy}); a request
 * for any other directory, or one inside the node's data directory, is refused before anything is
 * written. A node started without a backup root refuses every backup. With a backup key every
 * backup is encrypted and its manifest authenticated.
 *
 * <p><b>Threads:</b> a backup blocks for as long as copying takes, so it runs on this service's
 * own single thread (one backup at a time per node), never on a gRPC thread that clients share.
 * {@link RaftNode} creates it before the client port (which serves it from the start) and attaches
 * itself once it runs; calls before {@link #attach} are answered {@code UNAVAILABLE}.
 */
final class AdminService extends RaftAdminServiceGrpc.RaftAdminServiceImplBase implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminService.class);

    private final String clusterId;
    private final BackupPolicy backupPolicy;
    private final ExecutorService backupThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "raftkit-backup");
        t.setDaemon(true);
        return t;
    });
    /** Copies of staged images other nodes ask for (StageState): blocking, off the gRPC threads. */
    private final ExecutorService stagingThread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "raftkit-stage-copy");
        t.setDaemon(true);
        return t;
    });
    private final EventHub events;
    private volatile RaftNode node;
    /** How long a live restore may take before it is reported as failed (or of unknown outcome). */
    static final Duration LIVE_RESTORE_TIMEOUT = Duration.ofHours(6);

    /** Runs the backup schedule, if the node has one: its own thread, so a long backup delays no admin call. */
    private volatile java.util.concurrent.ScheduledExecutorService schedulerThread;
    private volatile BackupScheduler scheduler;

    /** An admin service of node {@code id} that backs up under {@code backupPolicy}'s root, with its key. */
    AdminService(String clusterId, long id, BackupPolicy backupPolicy) {
        this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
        this.backupPolicy = Objects.requireNonNull(backupPolicy, "backupPolicy");
        this.events = new EventHub(id);
    }

    /** The listener to register on the node's server: it feeds the {@code Events} streams. */
    EventHub events() {
        return events;
    }

    /**
     * Runs {@code s} every {@code every} on the {@code raftkit-backup-scheduler} thread until this
     * service closes: each run takes the backup that is due, if any, blocking that thread only.
     */
    void schedule(BackupScheduler s, java.time.Duration every) {
        java.util.concurrent.ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread th = new Thread(r, "raftkit-backup-scheduler");
            th.setDaemon(true);
            return th;
        });
        scheduler = s;
        schedulerThread = t;
        t.scheduleWithFixedDelay(() -> {
            try {
                s.runDue();
            } catch (RuntimeException e) {
                LOG.warn("backup schedule run failed: {}", e.toString()); // never kills the thread's schedule
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The backup schedule, or null. */
    BackupScheduler scheduler() {
        return scheduler;
    }

    /** Starts answering for {@code node}. */
    void attach(RaftNode node) {
        this.node = Objects.requireNonNull(node, "node");
    }

    @Override
    public void backup(BackupRequest request, StreamObserver<BackupResponse> out) {
        RaftNode n = admitted(request.getClusterId(), out);
        if (n == null) {
            return;
        }
        BackupKind kind;
        switch (request.getKind()) {
            case BACKUP_KIND_FULL -> kind = BackupKind.FULL;
            case BACKUP_KIND_INCREMENTAL -> kind = BackupKind.INCREMENTAL;
            case BACKUP_KIND_DIFFERENTIAL -> kind = BackupKind.DIFFERENTIAL;
            default -> {
                out.onError(Status.INVALID_ARGUMENT.withDescription("unknown backup kind " + request.getKindValue()
                        + "; use FULL, INCREMENTAL or DIFFERENTIAL").asRuntimeException());
                return;
            }
        }
        Path resolved;
        try {
            Path checked = backupPolicy.resolve(n.id(), request.getRoot(), n.dataDir());
            FileIo.real().createDirectories(checked); // durably named: a power cut must not take the root
            // Checked again once it exists: a link swapped in meanwhile is caught here.
            resolved = backupPolicy.resolve(n.id(), checked.toString(), n.dataDir());
        } catch (BackupPolicy.Refused e) {
            LOG.warn("node {}: refused a backup: {}", n.id(), e.getMessage());
            out.onError((e.notConfigured() ? Status.FAILED_PRECONDITION : Status.PERMISSION_DENIED)
                    .withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (IOException e) {
            out.onError(Status.FAILED_PRECONDITION.withDescription("node " + n.id() + " cannot create the backup"
                    + " directory under its backup root " + backupPolicy.root() + ": " + e.getMessage())
                    .asRuntimeException());
            return;
        }
        Path normalized = resolved;
        BackupService service;
        try {
            service = n.backupService(normalized);
        } catch (IOException | IllegalArgumentException e) {
            out.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        try {
            backupThread.execute(() -> runBackup(n, service, kind, normalized, out));
        } catch (RejectedExecutionException e) {
            out.onError(Status.UNAVAILABLE.withDescription("node " + n.id() + " is shutting down").asRuntimeException());
        }
    }

    private static void runBackup(RaftNode n, BackupService service, BackupKind kind, Path root,
                                  StreamObserver<BackupResponse> out) {
        BackupService.Result r;
        try {
            r = service.take(kind);
        } catch (IOException | RuntimeException e) {
            LOG.warn("node {}: backup into {} failed: {}", n.id(), root, e.toString());
            out.onError(Status.FAILED_PRECONDITION.withDescription("node " + n.id() + " could not take the backup into "
                    + root + ": " + e.getMessage()).asRuntimeException());
            return;
        }
        BackupManifest m = r.manifest();
        long bytes = m.files().stream().mapToLong(BackupFile::sizeBytes).sum();
        out.onNext(BackupResponse.newBuilder().setNodeId(n.id()).setDirectory(r.backup().dir().toString())
                .setKind(proto(m.kind()))
                .setPrevIndex(m.prevIndex()).setLastIndex(m.lastIndex()).setLastTerm(m.lastTerm()).setBytes(bytes)
                .setFallbackReason(r.fellBackToFull() ? r.fallbackReason() : "")
                .setStaleReason(r.staleReason() == null ? "" : r.staleReason()).build());
        out.onCompleted();
    }

    static BackupKindProto proto(BackupKind kind) {
        return switch (kind) {
            case FULL -> BackupKindProto.BACKUP_KIND_FULL;
            case INCREMENTAL -> BackupKindProto.BACKUP_KIND_INCREMENTAL;
            case DIFFERENTIAL -> BackupKindProto.BACKUP_KIND_DIFFERENTIAL;
        };
    }

    @Override
    public void backupPolicy(dev.raftkit.grpc.proto.BackupPolicyRequest request,
                             StreamObserver<dev.raftkit.grpc.proto.BackupPolicyResponse> out) {
        RaftNode n = admitted(request.getClusterId(), out);
        if (n == null) {
            return;
        }
        BackupScheduler s = scheduler;
        dev.raftkit.grpc.proto.BackupPolicyResponse.Builder b = dev.raftkit.grpc.proto.BackupPolicyResponse.newBuilder()
                .setNodeId(n.id()).setScheduled(s != null);
        if (s != null) {
            BackupScheduler.Status st = s.status();
            b.setSchedule(st.schedule().toString()).setKeepChains(st.keepChains()).setRoot(st.root().toString());
            if (st.running() != null) {
                b.setRunning(proto(st.running()));
            }
            for (BackupScheduler.Run r : st.ran()) {
                b.addRan(dev.raftkit.grpc.proto.BackupPolicyRun.newBuilder().setAtMillis(r.at().toEpochMilli())
                        .setAsked(proto(r.asked())).setTaken(proto(r.taken())).setLastIndex(r.lastIndex())
                        .setBytes(r.bytes()).setDirectory(r.directory().toString())
                        .setFallbackReason(r.fallbackReason() == null ? "" : r.fallbackReason())
                        .setTookMillis(r.took().toMillis()));
            }
            for (BackupScheduler.Failure f : st.failed()) {
                b.addFailed(dev.raftkit.grpc.proto.BackupPolicyFailure.newBuilder().setAtMillis(f.at().toEpochMilli())
                        .setKind(proto(f.kind())).setReason(f.reason()));
            }
            for (BackupScheduler.Due d : st.due()) {
                b.addDue(dev.raftkit.grpc.proto.BackupPolicyDue.newBuilder().setKind(proto(d.kind()))
                        .setAtMillis(d.at().toEpochMilli()).setEveryMillis(d.every().toMillis()));
            }
            st.pruned().forEach(p -> b.addPruned(p.toString()));
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void liveRestore(LiveRestoreRequest request, StreamObserver<LiveRestoreResponse> out) {
        RaftNode n = admitted(request.getClusterId(), out);
        if (n == null) {
            return;
        }
        Path from;
        try {
            from = backupPolicy.resolve(n.id(), request.getFrom(), n.dataDir());
        } catch (BackupPolicy.Refused e) {
            LOG.warn("node {}: refused a live restore: {}", n.id(), e.getMessage());
            out.onError((e.notConfigured() ? Status.FAILED_PRECONDITION : Status.PERMISSION_DENIED)
                    .withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        long index = request.getIndex();
        try {
            backupThread.execute(() -> {
                try {
                    RaftNode.LiveRestoreResult r = n.liveRestore(from, index, LIVE_RESTORE_TIMEOUT);
                    out.onNext(LiveRestoreResponse.newBuilder().setNodeId(n.id()).setSwitchIndex(r.switchIndex())
                            .setSourceIndex(r.state().sourceIndex()).setSha256(r.state().sha256Hex())
                            .setBytes(r.state().sizeBytes()).setStagingId(r.state().id())
                            .addAllStagedOn(r.stagedOn()).addAllChain(r.chain().stream().map(Path::toString).toList())
                            .setLeader(r.leader()).build());
                    out.onCompleted();
                } catch (IOException | RuntimeException e) {
                    LOG.warn("node {}: live restore from {} failed: {}", n.id(), from, e.toString());
                    out.onError(Status.FAILED_PRECONDITION.withDescription("node " + n.id() + " could not restore the"
                            + " live cluster from " + from + ": " + e.getMessage()).asRuntimeException());
                }
            });
        } catch (RejectedExecutionException e) {
            out.onError(Status.UNAVAILABLE.withDescription("node " + n.id() + " is shutting down").asRuntimeException());
        }
    }

    private static StagedState stagedState(String id, long origin, long sourceIndex, long bytes, ByteString sha) {
        return new StagedState(id, origin, sourceIndex, bytes, sha.toByteArray());
    }

    @Override
    public void stageState(StageStateRequest request, StreamObserver<StageStateResponse> out) {
        RaftNode n = admitted(request.getClusterId(), out);
        if (n == null) {
            return;
        }
        StagedState state;
        try {
            state = stagedState(request.getStagingId(), request.getOrigin(), request.getSourceIndex(),
                    request.getBytes(), request.getSha256());
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        try {
            stagingThread.execute(() -> {
                if (n.staging().copyFrom(state.origin(), state)) {
                    out.onNext(StageStateResponse.newBuilder().setNodeId(n.id()).build());
                    out.onCompleted();
                } else {
                    out.onError(Status.UNAVAILABLE.withDescription("node " + n.id() + " could not copy " + state
                            + " from node " + state.origin()).asRuntimeException());
                }
            });
        } catch (RejectedExecutionException e) {
            out.onError(Status.UNAVAILABLE.withDescription("node " + n.id() + " is shutting down").asRuntimeException());
        }
    }

    /** Bytes per chunk of a staged image sent to another node. */
    private static final int STAGED_CHUNK = 256 * 1024;

    @Override
    public void fetchStaged(FetchStagedRequest request, StreamObserver<StagedChunk> out) {
        RaftNode n = admitted(request.getClusterId(), out);
        if (n == null) {
            return;
        }
        Path f;
        InputStream in;
        try {
            // Validated as a StagedState id is, so the name cannot leave the staging directory.
            f = n.staging().file(new StagedState(request.getStagingId(), 1, 0, 0, new byte[32]).id());
            in = Files.newInputStream(f);
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        } catch (IOException e) {
            out.onError(Status.NOT_FOUND.withDescription("node " + n.id() + " holds no staged image "
                    + Untrusted.quote(request.getStagingId())).asRuntimeException());
            return;
        }
        // Sent only while the stream is ready: a slow receiver holds one chunk here, not the image.
        ServerCallStreamObserver<StagedChunk> call = (ServerCallStreamObserver<StagedChunk>) out;
        boolean[] done = {false};
        call.setOnCancelHandler(() -> closeQuietly(in));
        call.setOnReadyHandler(() -> {
            synchronized (done) {
                try {
                    while (!done[0] && call.isReady()) {
                        byte[] buf = in.readNBytes(STAGED_CHUNK);
                        if (buf.length == 0) {
                            done[0] = true;
                            closeQuietly(in);
                            call.onCompleted();
                            return;
                        }
                        call.onNext(StagedChunk.newBuilder().setData(ByteString.copyFrom(buf)).build());
                    }
                } catch (IOException e) {
                    done[0] = true;
                    closeQuietly(in);
                    call.onError(Status.INTERNAL.withDescription("node " + n.id() + " could not read " + f + ": "
                            + e.getMessage()).asRuntimeException());
                }
            }
        });
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // Only read from: nothing is lost.
        }
    }

    @Override
    public void switchState(SwitchStateRequest request, StreamObserver<SwitchStateResponse> out) {
        RaftNode n = admitted(request.getClusterId(), out);
        if (n == null) {
            return;
        }
        StagedState state;
        try {
            state = stagedState(request.getStagingId(), request.getOrigin(), request.getSourceIndex(),
                    request.getBytes(), request.getSha256());
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        n.server().switchState(state).whenComplete((index, t) -> {
            if (t != null) {
                Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null
                        ? t.getCause() : t;
                // The reason crosses in a trailer: the origin retries only a NOT_LEADER refusal.
                out.onError(c instanceof RaftException r ? GrpcErrors.refusal(Status.FAILED_PRECONDITION, r.reason(),
                        "node " + n.id() + ": " + r.getMessage())
                        : Status.INTERNAL.withDescription(String.valueOf(c)).asRuntimeException());
                return;
            }
            out.onNext(SwitchStateResponse.newBuilder().setSwitchIndex(index).build());
            out.onCompleted();
        });
    }

    @Override
    public void backupProgress(BackupProgressRequest request, StreamObserver<BackupProgressResponse> out) {
        RaftNode n = admitted(request.getClusterId(), out);
        if (n == null) {
            return;
        }
        BackupService.Progress p = n.backupProgress();
        BackupProgressResponse.Builder b = BackupProgressResponse.newBuilder().setNodeId(n.id()).setRunning(p != null);
        if (p != null) {
            b.setKind(proto(p.kind()))
                    .setPhase(p.phase()).setDone(p.done()).setTotal(p.total()).setUnit(p.unit());
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void snapshot(SnapshotRequest request, StreamObserver<SnapshotResponse> out) {
        RaftNode n = admitted(request.getClusterId(), out);
        if (n == null) {
            return;
        }
        // Answered from the server's snapshot stage when the snapshot is durable; no thread waits.
        n.server().snapshotNow().whenComplete((d, t) -> {
            if (t != null) {
                Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null
                        ? t.getCause() : t;
                LOG.warn("node {}: snapshot on request failed: {}", n.id(), c.toString());
                out.onError(Status.FAILED_PRECONDITION.withDescription("node " + n.id() + " could not take a snapshot: "
                        + c.getMessage()).asRuntimeException());
                return;
            }
            out.onNext(SnapshotResponse.newBuilder().setNodeId(n.id()).setIndex(d.meta().index())
                    .setTerm(d.meta().term()).setBytes(d.sizeBytes()).build());
            out.onCompleted();
        });
    }

    @Override
    public void events(EventsRequest request, StreamObserver<ProtocolEventMessage> out) {
        RaftNode n = admitted(request.getClusterId(), out);
        if (n == null) {
            return;
        }
        if (request.getSinceMicros() < 0) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("since_micros " + request.getSinceMicros()
                    + " is negative; give microseconds since the epoch, or 0 for events from now on").asRuntimeException());
            return;
        }
        // A server-side stream's observer is always a ServerCallStreamObserver: the hub needs its
        // flow control (isReady) to keep each subscriber's buffer bounded.
        events.subscribe(request.getSinceMicros(), (ServerCallStreamObserver<ProtocolEventMessage>) out);
    }

    /** Longest host:port accepted: a 253-character host name, brackets, a colon and a port. */
    static final int MAX_ADDRESS_CHARS = 263;

    @Override
    public void addPeer(AddPeerRequest request, StreamObserver<AddPeerResponse> out) {
        RaftNode n = admitted(request.getClusterId(), out);
        if (n == null) {
            return;
        }
        InetSocketAddress peer;
        try {
            // Bounded before parsing: a host name is at most 253 characters, and parsing resolves it.
            for (String address : List.of(request.getPeerAddress(), request.getClientAddress())) {
                if (address.length() > MAX_ADDRESS_CHARS) {
                    throw new IllegalArgumentException("address " + Untrusted.quote(address) + " is "
                            + address.length() + " characters long; host:port is at most " + MAX_ADDRESS_CHARS);
                }
            }
            peer = HostPort.parse(request.getPeerAddress(), "peer address");
            HostPort.parse(request.getClientAddress(), "client address");
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        if (request.getNodeId() <= 0 || request.getNodeId() == n.id()) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("node " + n.id() + " cannot add peer "
                    + Long.toUnsignedString(request.getNodeId()) + ": a peer id is between 1 and 2^63-1 and not the"
                    + " node's own").asRuntimeException());
            return;
        }
        n.addPeer(request.getNodeId(), peer, request.getClientAddress());
        LOG.info("node {}: peer {} is at {} (clients: {})", n.id(), request.getNodeId(), request.getPeerAddress(),
                request.getClientAddress());
        out.onNext(AddPeerResponse.getDefaultInstance());
        out.onCompleted();
    }

    private RaftNode admitted(String requestCluster, StreamObserver<?> out) {
        RaftNode n = node;
        if (n == null) {
            out.onError(Status.UNAVAILABLE.withDescription("the node is still starting; retry").asRuntimeException());
            return null;
        }
        if (!clusterId.equals(requestCluster)) {
            // The request's cluster id is the caller's text: echoed bounded.
            out.onError(GrpcErrors.refusal(Status.FAILED_PRECONDITION, RaftException.Reason.WRONG_CLUSTER, "node "
                    + n.id() + " belongs to cluster " + Untrusted.quote(clusterId) + ", not "
                    + Untrusted.quote(requestCluster) + "; check --cluster-id and the addresses"));
            return null;
        }
        return n;
    }

    /**
     * Ends every {@code Events} stream ({@code UNAVAILABLE}) and stops taking backups; one in
     * progress is interrupted (it leaves only a {@code .partial-} directory).
     */
    @Override
    public void close() {
        events.close(Status.UNAVAILABLE.withDescription("the node is shutting down"));
        backupThread.shutdownNow();
        stagingThread.shutdownNow();

        java.util.concurrent.ScheduledExecutorService t = schedulerThread;
        if (t != null) {
            t.shutdownNow();
        }
    }
}
