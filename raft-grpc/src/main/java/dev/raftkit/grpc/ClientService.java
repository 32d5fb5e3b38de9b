package dev.raftkit.grpc;

import com.google.protobuf.ByteString;
import dev.raftkit.core.RaftException;
import dev.raftkit.core.ReadMode;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.grpc.proto.ConfigurationProto;
import dev.raftkit.grpc.proto.FollowerStatus;
import dev.raftkit.grpc.proto.MembershipRequest;
import dev.raftkit.grpc.proto.MembershipResponse;
import dev.raftkit.grpc.proto.OpenSessionRequest;
import dev.raftkit.grpc.proto.OpenSessionResponse;
import dev.raftkit.grpc.proto.RaftClientServiceGrpc;
import dev.raftkit.grpc.proto.ReadRequest;
import dev.raftkit.grpc.proto.ReadResponse;
import dev.raftkit.grpc.proto.Refusal;
import dev.raftkit.grpc.proto.StatusRequest;
import dev.raftkit.grpc.proto.StatusResponse;
import dev.raftkit.grpc.proto.SubmitRequest;
import dev.raftkit.grpc.proto.SubmitResponse;
import dev.raftkit.grpc.proto.TransferRequest;
import dev.raftkit.grpc.proto.TransferResponse;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.ServerStatus;
import dev.raftkit.runtime.SizeLimits;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-facing gRPC service ({@code client.proto}) of one node, over its {@link RaftServer}.
 *
 * <p>Never blocks a gRPC thread: every call hands its request to the server and answers when the
 * server's future completes. A request the server refuses is answered with a {@link Refusal}
 * carrying the reason, whether it may be retried, and the leader this node knows of (with its
 * client address, if this node has it) so clients can follow the redirect. A request naming
 * another cluster is refused with {@code FAILED_PRECONDITION} and the reason {@code WRONG_CLUSTER}
 * in its trailers ({@link GrpcErrors}).
 */
public final class ClientService extends RaftClientServiceGrpc.RaftClientServiceImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(ClientService.class);

    private final String clusterId;
    private final RaftServer server;
    /** Refused commands are a client's mistake: one line per kind and interval, never one per request. */
    private final LogThrottle refusals = new LogThrottle();
    private final Map<Long, String> clientAddresses = new ConcurrentHashMap<>();

    /**
     * @param clientAddresses host:port of other nodes' client services, for redirects; more can be
     *                        added with {@link #setClientAddress}
     */
    public ClientService(String clusterId, RaftServer server, Map<Long, String> clientAddresses) {
        this.clusterId = MessageCodec.checkClusterId(clusterId);
        this.server = Objects.requireNonNull(server, "server");
        this.clientAddresses.putAll(clientAddresses);
    }

    /** Records where node {@code id}'s client service listens (for redirects to it). */
    public void setClientAddress(long id, String hostPort) {
        clientAddresses.put(id, hostPort);
    }

    /** Where node {@code id}'s client service listens, as last recorded; null if unknown. */
    public String clientAddress(long id) {
        return clientAddresses.get(id);
    }

    @Override
    public void openSession(OpenSessionRequest request, StreamObserver<OpenSessionResponse> out) {
        if (admitted(request.getClusterId(), out)) {
            answer(server.openSession(), out, id -> OpenSessionResponse.newBuilder().setClientId(id).build(),
                    r -> OpenSessionResponse.newBuilder().setRefused(r).build());
        }
    }

    @Override
    public void submit(SubmitRequest request, StreamObserver<SubmitResponse> out) {
        if (!admitted(request.getClusterId(), out)) {
            return;
        }
        int size = request.getCommand().size();
        if (size > server.maxCommandBytes()) {
            // Before copying it: a command over the limit never reaches the log (it would fit no
            // peer message), and retrying it elsewhere cannot help.
            RaftException tooLarge = SizeLimits.tooLarge(server.id(), size, server.maxCommandBytes());
            logRefused(tooLarge);
            out.onNext(SubmitResponse.newBuilder().setRefused(refusal(tooLarge)).build());
            out.onCompleted();
            return;
        }
        byte[] command = request.getCommand().toByteArray();
        CompletableFuture<byte[]> f = request.getClientId() == 0 ? server.submit(command)
                : server.submit(request.getClientId(), request.getSequence(), request.getLowestUnacked(), command);
        if (f.isCompletedExceptionally()) {
            // Refused before it was proposed (invalid or too large): say so once in a while.
            f.whenComplete((r, e) -> {
                if (e instanceof RaftException refused) {
                    logRefused(refused);
                }
            });
        }
        answer(f, out, r -> SubmitResponse.newBuilder().setResult(ByteString.copyFrom(r)).build(),
                r -> SubmitResponse.newBuilder().setRefused(r).build());
    }

    @Override
    public void read(ReadRequest request, StreamObserver<ReadResponse> out) {
        if (!admitted(request.getClusterId(), out)) {
            return;
        }
        ReadMode mode = switch (request.getMode()) {
            case READ_MODE_LINEARIZABLE -> ReadMode.LINEARIZABLE;
            case READ_MODE_LEASE -> ReadMode.LEASE;
            case READ_MODE_STALE -> ReadMode.STALE;
            case READ_MODE_UNSPECIFIED, UNRECOGNIZED -> null;
        };
        if (mode == null) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("unknown read mode " + request.getModeValue()
                    + "; use LINEARIZABLE, LEASE or STALE").asRuntimeException());
            return;
        }
        answer(server.read(request.getQuery().toByteArray(), mode, request.getMinIndex()), out,
                r -> ReadResponse.newBuilder().setResult(ByteString.copyFrom(r)).build(),
                r -> ReadResponse.newBuilder().setRefused(r).build());
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> out) {
        if (!admitted(request.getClusterId(), out)) {
            return;
        }
        ServerStatus s = server.status();
        StatusResponse.Builder b = StatusResponse.newBuilder().setNodeId(s.id()).setTerm(s.term())
                .setLeaderId(s.leader()).setRole(s.state()).setCommitIndex(s.commit())
                .setAppliedIndex(s.applied()).setLastIndex(s.lastIndex()).setRunning(s.running())
                .setRecovering(s.recovering())
                .addAllVoters(s.conf().voters()).addAllLearners(s.conf().learners())
                .setVersion(Version.current()).setUptimeMillis(s.uptime().toMillis())
                .setSnapshotIndex(s.snapshotIndex()).setLogBytes(s.logBytes());
        // By id, so every answer lists them in the same order.
        s.followers().values().stream().sorted(Comparator.comparingLong(ServerStatus.Follower::id))
                .forEach(f -> b.addFollowers(FollowerStatus.newBuilder().setNodeId(f.id()).setMatchIndex(f.match())
                        .setLag(f.lag()).setLive(f.live()).setRecovering(f.recovering()).setLearner(f.learner())));
        String leaderAddress = clientAddresses.get(s.leader());
        if (leaderAddress != null) {
            b.setLeaderAddress(leaderAddress);
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void changeMembership(MembershipRequest request, StreamObserver<MembershipResponse> out) {
        if (!admitted(request.getClusterId(), out)) {
            return;
        }
        long node = request.getNodeId();
        boolean force = request.getForce();
        CompletableFuture<ConfState> f = switch (request.getChange()) {
            case MEMBERSHIP_CHANGE_ADD_LEARNER -> server.addLearner(node);
            case MEMBERSHIP_CHANGE_ADD_VOTER -> server.addVoter(node, force);
            case MEMBERSHIP_CHANGE_PROMOTE -> server.promote(node, force);
            case MEMBERSHIP_CHANGE_REMOVE -> server.remove(node, force);
            case MEMBERSHIP_CHANGE_UNSPECIFIED, UNRECOGNIZED -> null;
        };
        if (f == null) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("unknown membership change "
                    + request.getChangeValue()).asRuntimeException());
            return;
        }
        answer(f, out, conf -> {
            ConfigurationProto.Builder c = ConfigurationProto.newBuilder().addAllVoters(conf.voters())
                    .addAllLearners(conf.learners());
            return MembershipResponse.newBuilder().setConfiguration(c).build();
        }, r -> MembershipResponse.newBuilder().setRefused(r).build());
    }

    @Override
    public void transferLeadership(TransferRequest request, StreamObserver<TransferResponse> out) {
        if (admitted(request.getClusterId(), out)) {
            answer(server.transferLeadership(request.getTo()), out,
                    v -> TransferResponse.newBuilder().setNewLeader(request.getTo()).build(),
                    r -> TransferResponse.newBuilder().setRefused(r).build());
        }
    }

    private void logRefused(RaftException e) {
        if ((e.reason() == RaftException.Reason.TOO_LARGE || e.reason() == RaftException.Reason.INVALID)
                && refusals.shouldLog(e.reason().name())) {
            LOG.atWarn().addKeyValue("node", server.id()).addKeyValue("cluster", clusterId)
                    .addKeyValue("reason", e.reason())
                    .log("node {}: refused a client command ({}): {}. Refusals of this kind are logged at most every"
                            + " 30 s", server.id(), e.reason(), e.getMessage());
        }
    }

    private boolean admitted(String requestCluster, StreamObserver<?> out) {
        if (clusterId.equals(requestCluster)) {
            return true;
        }
        // The request's cluster id is the caller's text: echoed bounded (a megabyte id would be
        // copied into every refusal).
        out.onError(GrpcErrors.refusal(Status.FAILED_PRECONDITION, RaftException.Reason.WRONG_CLUSTER, "node "
                + server.id() + " belongs to cluster " + Untrusted.quote(clusterId) + ", not "
                + Untrusted.quote(requestCluster) + "; check the client's cluster id and addresses"));
        return false;
    }

    private <T, R> void answer(CompletableFuture<T> f, StreamObserver<R> out, Function<T, R> ok,
                               Function<Refusal, R> refused) {
        f.whenComplete((BiConsumer<T, Throwable>) (value, error) -> {
            R response;
            try {
                response = error == null ? ok.apply(value) : refused.apply(refusal(error));
            } catch (RuntimeException e) {
                out.onError(Status.INTERNAL.withDescription("node " + server.id() + ": " + e).asRuntimeException());
                return;
            }
            out.onNext(response);
            out.onCompleted();
        });
    }

    /** The refusal that tells a client what went wrong and where to go next. */
    Refusal refusal(Throwable error) {
        Throwable t = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        Refusal.Builder b = Refusal.newBuilder().setMessage("node " + server.id() + ": "
                + (t.getMessage() == null ? t.toString() : t.getMessage()));
        long leader;
        if (t instanceof RaftException r) {
            b.setReason(r.reason().name()).setRetryable(r.retryable());
            leader = r.leaderHint();
        } else {
            b.setReason("INTERNAL").setRetryable(false);
            leader = 0;
        }
        if (leader == 0) {
            leader = server.status().leader();
        }
        if (leader != 0 && leader != server.id()) {
            b.setLeaderId(leader);
            String address = clientAddresses.get(leader);
            if (address != null) {
                b.setLeaderAddress(address);
            }
        }
        return b.build();
    }
}
