package dev.raftkit.grpc;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.proto.AddPeerRequest;
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
import dev.raftkit.grpc.proto.RaftAdminServiceGrpc.RaftAdminServiceFutureStub;
import dev.raftkit.grpc.proto.SnapshotRequest;
import dev.raftkit.grpc.proto.SnapshotResponse;
import dev.raftkit.grpc.proto.StageStateRequest;
import dev.raftkit.grpc.proto.StagedChunk;
import dev.raftkit.grpc.proto.SwitchStateRequest;
import dev.raftkit.grpc.proto.SwitchStateResponse;
import dev.raftkit.runtime.ProtocolEvent;
import dev.raftkit.spi.StagedState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A connection to one node's admin service ({@code admin.proto}, served on the node's client
 * port): unlike {@link RaftClient}, calls act on the node they are sent to, without redirects.
 * Besides one-shot calls (snapshot, backups, peer addresses) it follows the node's live protocol
 * events ({@link #events}).
 *
 * <p>Every call returns a future at once; it completes on this client's own thread with the
 * node's answer, or fails with a {@link RaftException}: {@code UNAUTHORIZED} without the admin
 * role, {@code WRONG_CLUSTER}, {@code UNAVAILABLE} if the node is unreachable or starting, {@code
 * TIMED_OUT} past the call's timeout, {@code INVALID} for a request the node refused, {@code
 * FAILED} if the node tried and could not (the message says why). Any thread may call. Close it to
 * release its channel and threads.
 */
public final class AdminClient implements AutoCloseable {

    /** A snapshot node {@code node} took, durable when this is returned. */
    public record SnapshotTaken(long node, long index, long term, long bytes) {
    }

    /**
     * A backup node {@code node} took into {@code directory} on its host: a full one holds the
     * snapshot at {@code lastIndex}; an incremental or differential one the entries after
     * {@code prevIndex} up to {@code lastIndex}. {@code fallbackReason} says why an incremental or
     * differential was taken as a full one, or is null. {@code kind} is {@code "full"},
     * {@code "incremental"} or {@code "differential"}; {@code incremental} is true for an
     * incremental one only. {@code staleReason} says why the backup may miss writes acknowledged
     * before it was asked for (the node reached no leader for a read index), or is null.
     */
    public record BackupTaken(long node, String directory, boolean incremental, long prevIndex, long lastIndex,
                              long lastTerm, long bytes, String fallbackReason, String kind, String staleReason) {

        /** As taken before differential backups: {@code kind} from {@code incremental}. */
        public BackupTaken(long node, String directory, boolean incremental, long prevIndex, long lastIndex,
                           long lastTerm, long bytes, String fallbackReason) {
            this(node, directory, incremental, prevIndex, lastIndex, lastTerm, bytes, fallbackReason,
                    incremental ? "incremental" : "full", null);
        }
    }

    /**
     * How far the backup node {@code node} is taking has got: {@code phase} in words, {@code done}
     * of {@code total} {@code unit}s ({@code "bytes"} or {@code "entries"}; {@code total} 0 while
     * not known). Null from {@link #backupProgress} when no backup runs.
     */
    public record BackupProgress(long node, boolean incremental, String phase, long done, long total, String unit) {
    }

    /**
     * A live restore done ({@link #liveRestore}): from {@code switchIndex} on, the cluster's state is
     * the backup's at {@code sourceIndex}, the state-machine image of {@code bytes} bytes whose
     * SHA-256 is {@code sha256} (hex). {@code node} built it from the backup directories {@code
     * chain}; {@code stagedOn} held it before {@code leader} proposed the switch.
     */
    public record LiveRestored(long node, long switchIndex, long sourceIndex, String sha256, long bytes,
                               String stagingId, List<Long> stagedOn, List<String> chain, long leader) {
    }

    /**
     * A node's protocol events being followed ({@link #events}): {@link #done} completes when the
     * stream ends; {@link #close} stops following.
     */
    public static final class EventStream implements AutoCloseable {
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private volatile ClientCallStreamObserver<EventsRequest> call;
        private volatile boolean closed;

        private EventStream() {
        }

        /**
         * Completes normally once {@link #close} was called (or the node ended the stream
         * cleanly); fails with a {@link RaftException} if the stream broke: {@code UNAVAILABLE} (the
         * node is unreachable or stopped; a subscriber cut off for falling behind, too),
         * {@code UNAUTHORIZED} without the admin role, {@code WRONG_CLUSTER}; or with what the
         * consumer threw.
         */
        public CompletableFuture<Void> done() {
            return done;
        }

        /** Stops following; {@link #done} completes normally. Idempotent. */
        @Override
        public void close() {
            closed = true;
            ClientCallStreamObserver<EventsRequest> c = call;
            if (c != null) {
                try {
                    c.cancel("the caller stopped following the events", null);
                } catch (java.util.concurrent.RejectedExecutionException clientClosed) {
                    // The AdminClient was closed first, and its channel with it: the call is gone already.
                }
            }
            done.complete(null);
        }
    }

    private final ExecutorService executor = Executors.newFixedThreadPool(1, Endpoints.Threads.daemonFactory(
            "raftkit-admin-client"));
    private final EventLoopGroup loop = Endpoints.eventLoop(1, "raftkit-admin-netty");
    /** host:port, for messages. */
    private final String where;
    private final ManagedChannel channel;
    private final TlsCredentials credentials;

    /**
     * Connects (lazily) to the admin service at {@code target}; {@code tls} null for plaintext. On
     * mutual TLS the node admits the calls only with an admin certificate
     * ({@code raftkit://CLUSTER/admin/NAME}); on plaintext only if it runs with insecure admin.
     */
    public AdminClient(InetSocketAddress target, TlsConfig tls) {
        this.where = target.getHostString() + ":" + target.getPort();
        credentials = TlsCredentials.of(tls);
        channel = Endpoints.channel(target, loop, executor, 4 << 20, credentials);
    }

    /**
     * Tells the node that node {@code id} listens for peers at {@code peerHostPort} and for
     * clients at {@code clientHostPort}; completes once the node knows.
     */
    public CompletableFuture<Void> addPeer(String clusterId, long id, String peerHostPort, String clientHostPort,
                                           Duration timeout) {
        return call(stub(timeout).addPeer(AddPeerRequest.newBuilder().setClusterId(clusterId).setNodeId(id)
                .setPeerAddress(peerHostPort).setClientAddress(clientHostPort).build()), r -> null,
                "tell the node at " + where + " where node " + id + " listens");
    }

    /** Has the node take a snapshot now; completes once it is durable. */
    public CompletableFuture<SnapshotTaken> snapshot(String clusterId, Duration timeout) {
        return call(stub(timeout).snapshot(SnapshotRequest.newBuilder().setClusterId(clusterId).build()),
                (SnapshotResponse r) -> new SnapshotTaken(r.getNodeId(), r.getIndex(), r.getTerm(), r.getBytes()),
                "take a snapshot at the node at " + where);
    }

    /**
     * Has the node take a full backup (a snapshot now, copied with a manifest) into {@code dir}
     * under its backup root on its host: relative to the root, or absolute inside it.
     */
    public CompletableFuture<BackupTaken> fullBackup(String clusterId, String dir, Duration timeout) {
        return backup(clusterId, BackupKindProto.BACKUP_KIND_FULL, dir, timeout);
    }

    /**
     * Has the node take an incremental backup (the entries since the chain's last backup) into
     * {@code dir}; the node takes a full one instead, and says why, if the chain cannot be
     * extended.
     */
    public CompletableFuture<BackupTaken> incrementalBackup(String clusterId, String dir, Duration timeout) {
        return backup(clusterId, BackupKindProto.BACKUP_KIND_INCREMENTAL, dir, timeout);
    }

    /**
     * Has the node take a differential backup (every entry since the chain's full backup) into
     * {@code dir}; the node takes a full one instead, and says why, if the chain cannot be extended.
     */
    public CompletableFuture<BackupTaken> differentialBackup(String clusterId, String dir, Duration timeout) {
        return backup(clusterId, BackupKindProto.BACKUP_KIND_DIFFERENTIAL, dir, timeout);
    }

    /**
     * Has the node take a backup of {@code kind} ({@code "full"}, {@code "incremental"} or
     * {@code "differential"}) into {@code dir}. A null {@code timeout} sets no deadline: a large
     * backup may take as long as it needs, and the caller watches {@link #backupProgress} to tell a
     * backup that stalls from one that is slow (as {@code raftkit backup} does).
     *
     * @throws IllegalArgumentException for another kind
     */
    public CompletableFuture<BackupTaken> backup(String clusterId, String kind, String dir, Duration timeout) {
        BackupKindProto k = switch (kind) {
            case "full" -> BackupKindProto.BACKUP_KIND_FULL;
            case "incremental" -> BackupKindProto.BACKUP_KIND_INCREMENTAL;
            case "differential" -> BackupKindProto.BACKUP_KIND_DIFFERENTIAL;
            default -> throw new IllegalArgumentException("backup kind '" + kind + "' is none of full, incremental,"
                    + " differential");
        };
        return backup(clusterId, k, dir, timeout);
    }

    private CompletableFuture<BackupTaken> backup(String clusterId, BackupKindProto kind, String dir,
                                                  Duration timeout) {
        BackupRequest request = BackupRequest.newBuilder().setClusterId(clusterId).setKind(kind).setRoot(dir).build();
        return call(stub(timeout).backup(request), (BackupResponse r) -> new BackupTaken(r.getNodeId(),
                        r.getDirectory(), r.getKind() == BackupKindProto.BACKUP_KIND_INCREMENTAL, r.getPrevIndex(),
                        r.getLastIndex(), r.getLastTerm(), r.getBytes(),
                        r.getFallbackReason().isEmpty() ? null : r.getFallbackReason(), kindWord(r.getKind()),
                        r.getStaleReason().isEmpty() ? null : r.getStaleReason()),
                "take a backup at the node at " + where);
    }

    private static String kindWord(BackupKindProto k) {
        return switch (k) {
            case BACKUP_KIND_INCREMENTAL -> "incremental";
            case BACKUP_KIND_DIFFERENTIAL -> "differential";
            default -> "full";
        };
    }

    /**
     * What a node's backup schedule did and will do ({@code raftkit backup policy}): the schedule,
     * how many chains it keeps, where it writes, the backups it ran and the ones that failed
     * (oldest first), when each kind is next due, the backups retention deleted, and the kind
     * running now (null if none). {@code scheduled} false: the node has no schedule.
     */
    public record BackupPolicyStatus(long node, boolean scheduled, String schedule, int keepChains, String root,
                                     List<PolicyRun> ran, List<PolicyFailure> failed, List<PolicyDue> due,
                                     List<String> pruned, String running) {
    }

    /** A scheduled backup that ran: when, the kind due and the kind taken, what it covers, where. */
    public record PolicyRun(java.time.Instant at, String asked, String taken, long lastIndex, long bytes,
                            String directory, String fallbackReason, Duration took) {
    }

    /** A scheduled backup that failed, and why. */
    public record PolicyFailure(java.time.Instant at, String kind, String reason) {
    }

    /** When a kind is next due (in the past: at the node's next check), and its interval. */
    public record PolicyDue(String kind, java.time.Instant at, Duration every) {
    }

    /** Asks the node what its backup schedule ran, what failed and what is due. */
    public CompletableFuture<BackupPolicyStatus> backupPolicy(String clusterId, Duration timeout) {
        dev.raftkit.grpc.proto.BackupPolicyRequest request = dev.raftkit.grpc.proto.BackupPolicyRequest.newBuilder()
                .setClusterId(clusterId).build();
        return call(stub(timeout).backupPolicy(request), (dev.raftkit.grpc.proto.BackupPolicyResponse r) ->
                new BackupPolicyStatus(r.getNodeId(), r.getScheduled(), r.getSchedule(), r.getKeepChains(), r.getRoot(),
                        r.getRanList().stream().map(x -> new PolicyRun(java.time.Instant.ofEpochMilli(x.getAtMillis()),
                                kindWord(x.getAsked()), kindWord(x.getTaken()), x.getLastIndex(), x.getBytes(),
                                x.getDirectory(), x.getFallbackReason().isEmpty() ? null : x.getFallbackReason(),
                                Duration.ofMillis(x.getTookMillis()))).toList(),
                        r.getFailedList().stream().map(x -> new PolicyFailure(java.time.Instant.ofEpochMilli(
                                x.getAtMillis()), kindWord(x.getKind()), x.getReason())).toList(),
                        r.getDueList().stream().map(x -> new PolicyDue(kindWord(x.getKind()),
                                java.time.Instant.ofEpochMilli(x.getAtMillis()), Duration.ofMillis(x.getEveryMillis())))
                                .toList(),
                        List.copyOf(r.getPrunedList()),
                        r.getRunning() == BackupKindProto.BACKUP_KIND_UNSPECIFIED ? null : kindWord(r.getRunning())),
                "ask the node at " + where + " about its backup schedule");
    }

    /**
     * How far the backup the node is taking now has got; completes with null if it takes none.
     * Poll it while a {@link #fullBackup} or {@link #incrementalBackup} call waits.
     */
    public CompletableFuture<BackupProgress> backupProgress(String clusterId, Duration timeout) {
        BackupProgressRequest request = BackupProgressRequest.newBuilder().setClusterId(clusterId).build();
        return call(stub(timeout).backupProgress(request), (BackupProgressResponse r) -> !r.getRunning() ? null
                        : new BackupProgress(r.getNodeId(), r.getKind() == BackupKindProto.BACKUP_KIND_INCREMENTAL,
                                r.getPhase(), r.getDone(), r.getTotal(), r.getUnit()),
                "ask the node at " + where + " how far its backup has got");
    }

    /**
     * Follows the node's live protocol events (votes and their reasons, role changes, step-downs,
     * disk stalls; {@link ProtocolEvent}), passing each to {@code each} in order, on this client's
     * thread, until the returned stream is closed or breaks. With {@code sinceMicros} positive
     * (microseconds since the epoch), the events the node still keeps from that time on come
     * first. The node cuts off a subscriber that falls too far behind, so keep {@code each} quick.
     */
    public EventStream events(String clusterId, long sinceMicros, Consumer<ProtocolEvent> each) {
        EventStream stream = new EventStream();
        String what = "follow the events of the node at " + where;
        EventsRequest request = EventsRequest.newBuilder().setClusterId(clusterId).setSinceMicros(sinceMicros).build();
        RaftAdminServiceGrpc.newStub(channel).events(request, new ClientResponseObserver<EventsRequest,
                ProtocolEventMessage>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<EventsRequest> call) {
                stream.call = call;
            }

            @Override
            public void onNext(ProtocolEventMessage m) {
                if (stream.done.isDone()) {
                    return;
                }
                try {
                    each.accept(new ProtocolEvent(m.getTimeMicros(), m.getNode(), m.getTerm(), m.getKind(),
                            m.getDetail()));
                } catch (RuntimeException e) {
                    stream.done.completeExceptionally(e);
                    stream.call.cancel("the consumer of the events threw", e);
                }
            }

            @Override
            public void onError(Throwable t) {
                if (stream.closed && Status.fromThrowable(t).getCode() == Status.Code.CANCELLED) {
                    stream.done.complete(null);
                } else {
                    stream.done.completeExceptionally(GrpcErrors.toRaftException(t, "could not " + what));
                }
            }

            @Override
            public void onCompleted() {
                stream.done.complete(null);
            }
        });
        return stream;
    }

    /**
     * Rolls the running cluster back to the state of the backup chain in {@code from} (under the
     * node's backup root on its host) at {@code index} (0: the chain's last): the node rebuilds the
     * state, stages it on the members and has the leader switch every replica to it at one log
     * index. Completes once the leader has applied the switch.
     */
    public CompletableFuture<LiveRestored> liveRestore(String clusterId, String from, long index, Duration timeout) {
        LiveRestoreRequest request = LiveRestoreRequest.newBuilder().setClusterId(clusterId).setFrom(from)
                .setIndex(index).build();
        return call(stub(timeout).liveRestore(request), (LiveRestoreResponse r) -> new LiveRestored(r.getNodeId(),
                        r.getSwitchIndex(), r.getSourceIndex(), r.getSha256(), r.getBytes(), r.getStagingId(),
                        List.copyOf(r.getStagedOnList()), List.copyOf(r.getChainList()), r.getLeader()),
                "restore the live cluster through the node at " + where);
    }

    /** Node to node: has the node copy staged image {@code state} from its origin; completes once durable there. */
    public CompletableFuture<Void> stageState(String clusterId, StagedState state, Duration timeout) {
        StageStateRequest request = StageStateRequest.newBuilder().setClusterId(clusterId).setStagingId(state.id())
                .setOrigin(state.origin()).setSourceIndex(state.sourceIndex()).setBytes(state.sizeBytes())
                .setSha256(ByteString.copyFrom(state.sha256())).build();
        return call(stub(timeout).stageState(request), r -> null, "stage " + state + " on the node at " + where);
    }

    /** Node to node: has the node (the leader) propose the switch to staged image {@code state}; completes with its index. */
    public CompletableFuture<Long> switchState(String clusterId, StagedState state, Duration timeout) {
        SwitchStateRequest request = SwitchStateRequest.newBuilder().setClusterId(clusterId).setStagingId(state.id())
                .setOrigin(state.origin()).setSourceIndex(state.sourceIndex()).setBytes(state.sizeBytes())
                .setSha256(ByteString.copyFrom(state.sha256())).build();
        return call(stub(timeout).switchState(request), SwitchStateResponse::getSwitchIndex,
                "switch the cluster to " + state + " through the node at " + where);
    }

    /**
     * Node to node: copies the bytes of the staged image {@code stagingId} the node holds into
     * {@code to}, on this client's thread; completes with the bytes copied once the node has sent
     * them all. The caller checks them against the image's size and SHA-256.
     */
    public CompletableFuture<Long> fetchStaged(String clusterId, String stagingId, OutputStream to, Duration timeout) {
        CompletableFuture<Long> result = new CompletableFuture<>();
        long[] bytes = {0};
        FetchStagedRequest request = FetchStagedRequest.newBuilder().setClusterId(clusterId).setStagingId(stagingId)
                .build();
        RaftAdminServiceGrpc.newStub(channel).withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
                .fetchStaged(request, new StreamObserver<StagedChunk>() {
                    @Override
                    public void onNext(StagedChunk chunk) {
                        if (result.isDone()) {
                            return;
                        }
                        try {
                            chunk.getData().writeTo(to);
                            bytes[0] += chunk.getData().size();
                        } catch (IOException e) {
                            result.completeExceptionally(e);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        result.completeExceptionally(GrpcErrors.toRaftException(t, "could not fetch staged state "
                                + stagingId + " from the node at " + where));
                    }

                    @Override
                    public void onCompleted() {
                        result.complete(bytes[0]);
                    }
                });
        return result;
    }


    /** A stub whose calls end at {@code timeout}; null: no deadline. */
    private RaftAdminServiceFutureStub stub(Duration timeout) {
        RaftAdminServiceFutureStub stub = RaftAdminServiceGrpc.newFutureStub(channel);
        return timeout == null ? stub : stub.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    private <R, T> CompletableFuture<T> call(ListenableFuture<R> rpc, Function<R, T> answer, String what) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Futures.addCallback(rpc, new FutureCallback<>() {
            @Override
            public void onSuccess(R r) {
                result.complete(answer.apply(r));
            }

            @Override
            public void onFailure(Throwable t) {
                result.completeExceptionally(GrpcErrors.toRaftException(t, "could not " + what));
            }
        }, executor);
        return result;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        credentials.close();
    }
}
