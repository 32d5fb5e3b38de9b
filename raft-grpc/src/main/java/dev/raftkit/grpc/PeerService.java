package dev.raftkit.grpc;

import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.grpc.proto.RaftPeerGrpc;
import dev.raftkit.grpc.proto.SnapshotAck;
import dev.raftkit.grpc.proto.SnapshotChunk;
import dev.raftkit.grpc.proto.SnapshotHeader;
import dev.raftkit.grpc.proto.SnapshotResume;
import dev.raftkit.grpc.proto.StreamSummary;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of {@link GrpcTransport}: peer message streams and snapshot transfers.
 * Every stream is admitted message by message ({@link #admit}); the first message that fails
 * ends the stream with an error status the sender logs, and nothing of it reaches the node.
 *
 * <p>A message kind arrives only on its own RPC: {@code Stream} carries every kind but
 * {@code InstallSnapshot}, which arrives only as the header of an {@code InstallSnapshot} call and
 * is delivered after the snapshot's bytes are stored and verified ({@link SnapshotReceiver}). An
 * {@code InstallSnapshot} on the message stream would make the node restore a snapshot its store
 * does not hold (compacting its log to the claimed index and failing to apply), so it is refused
 * with {@code INVALID_ARGUMENT} before it is decoded. A stream's sender is fixed by its first
 * message: every later message, whatever its kind, must name the same {@code from}.
 *
 * <p>Refusals are logged through the transport's {@link LogThrottle}, keyed by reason and remote
 * host; strings the sender chose are echoed only through {@link Untrusted#quote}.
 */
final class PeerService extends RaftPeerGrpc.RaftPeerImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(PeerService.class);

    private final GrpcTransport transport;

    PeerService(GrpcTransport transport) {
        this.transport = transport;
    }

    /**
     * The service as the server runs it: the generated methods, but {@code Stream} reads each
     * envelope through {@link PeerWire} (appends' entries straight from the bytes) instead of the
     * generated parser.
     */
    ServerServiceDefinition definition() {
        ServerServiceDefinition generated = bindService();
        String stream = RaftPeerGrpc.getStreamMethod().getFullMethodName();
        List<ServerMethodDefinition<?, ?>> definitions = new ArrayList<>();
        for (ServerMethodDefinition<?, ?> m : generated.getMethods()) {
            definitions.add(!m.getMethodDescriptor().getFullMethodName().equals(stream) ? m
                    : ServerMethodDefinition.create(PeerWire.STREAM_IN, ServerCalls.asyncClientStreamingCall(
                            responses -> new InboundStream(responses, RemoteAddressInterceptor.remote(),
                                    RemoteAddressInterceptor.host(), IdentityInterceptor.identity()))));
        }
        List<MethodDescriptor<?, ?>> methods = new ArrayList<>();
        definitions.forEach(d -> methods.add(d.getMethodDescriptor()));
        ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(
                new ServiceDescriptor(generated.getServiceDescriptor().getName(), methods));
        definitions.forEach(b::addMethod);
        return b.build();
    }

    @Override
    public StreamObserver<SnapshotChunk> installSnapshot(StreamObserver<SnapshotAck> responses) {
        return new SnapshotReceiver(transport, responses, RemoteAddressInterceptor.remote(),
                RemoteAddressInterceptor.host(), IdentityInterceptor.identity());
    }

    /**
     * Where a transfer of the image the header names should resume: the bytes an interrupted
     * transfer of it left verified here ({@link dev.raftkit.spi.Transport.Inbound#snapshotResumePoint}). The
     * header is admitted as a transfer's would be. On the snapshot pool (it reads the partial's
     * chunk records).
     */
    @Override
    public void snapshotResumePoint(SnapshotHeader header, StreamObserver<SnapshotResume> responses) {
        String remote = RemoteAddressInterceptor.remote();
        String host = RemoteAddressInterceptor.host();
        try {
            InstallSnapshot install = SnapshotReceiver.admitHeader(transport, header, remote, host,
                    IdentityInterceptor.identity());
            long offset = transport.inbound().snapshotResumePoint(install, header.getSizeBytes(), header.getCrc32C());
            responses.onNext(SnapshotResume.newBuilder()
                    .setOffset(Math.max(0, Math.min(offset, header.getSizeBytes()))).build());
            responses.onCompleted();
        } catch (StatusRuntimeException e) {
            responses.onError(e);
        } catch (IOException | RuntimeException e) {
            LOG.warn("node {}: cannot read the partial snapshot for a transfer from {}: {}; it starts from byte 0",
                    transport.selfId(), remote, e.toString());
            responses.onNext(SnapshotResume.newBuilder().setOffset(0).build());
            responses.onCompleted();
        }
    }

    /**
     * Checks an envelope's routing header: same cluster, from the node the caller's certificate
     * proves (when it presented one: {@code proven}, else null), addressed to this node, from a
     * known peer. Returns null if admitted, else the status to end the stream with (already logged).
     */
    static Status admit(GrpcTransport transport, PeerEnvelope e, String remote, String host,
                        CertificateIdentity proven) {
        long self = transport.selfId();
        if (!transport.clusterId().equals(e.getClusterId())) {
            String why = "node " + self + " of cluster " + Untrusted.quote(transport.clusterId())
                    + " refused messages from node " + Long.toUnsignedString(e.getFrom()) + " at " + remote
                    + " of cluster " + Untrusted.quote(e.getClusterId())
                    + ": nodes of other clusters are never delivered; check the cluster id and peer addresses "
                    + "configured on both nodes";
            warn("cluster:" + host, transport, why);
            return Status.PERMISSION_DENIED.withDescription(why);
        }
        // A node certificate proves one id; it must not speak for any other node (a forged append
        // as the leader would make replicas diverge).
        if (proven != null && e.getFrom() != proven.nodeId()) {
            String why = "node " + self + " refused messages claiming to be from node " + Long.toUnsignedString(e.getFrom())
                    + " at " + remote + " whose certificate proves " + proven + ": a node may speak only as the node"
                    + " its certificate names; check the node's --id and certificate";
            warn("impersonation:" + host, transport, why);
            return Status.PERMISSION_DENIED.withDescription(why);
        }
        if (e.getTo() != self) {
            String why = "node " + self + " refused messages addressed to node " + Long.toUnsignedString(e.getTo())
                    + " from node " + Long.toUnsignedString(e.getFrom()) + " at " + remote
                    + ": the sender has the wrong address for that node";
            warn("to:" + host, transport, why);
            return Status.FAILED_PRECONDITION.withDescription(why);
        }
        if (!transport.isKnownPeer(e.getFrom())) {
            String why = "node " + self + " refused messages from unknown node " + Long.toUnsignedString(e.getFrom())
                    + " at " + remote + ": it is not one of this node's peers " + transport.peers()
                    + "; add it to the configuration first";
            warn("from:" + host, transport, why);
            return Status.PERMISSION_DENIED.withDescription(why);
        }
        return null;
    }

    static void warn(String key, GrpcTransport transport, String message) {
        // The node and cluster as fields too, so a search for one node's refusals needs no prose parsing.
        (transport.throttle().shouldLog(key) ? LOG.atWarn() : LOG.atDebug())
                .addKeyValue("node", transport.selfId()).addKeyValue("cluster", transport.clusterId()).log(message);
    }

    /** One incoming message stream. gRPC calls it on the event loop that read it, one callback at a time. */
    private final class InboundStream implements StreamObserver<PeerWire.Incoming> {
        private final StreamObserver<StreamSummary> responses;
        private final String remote;
        private final String host;
        private final CertificateIdentity proven;
        private long sender;
        private long received;
        private boolean ended;

        InboundStream(StreamObserver<StreamSummary> responses, String remote, String host,
                      CertificateIdentity proven) {
            this.responses = responses;
            this.remote = remote;
            this.host = host;
            this.proven = proven;
        }

        @Override
        public void onNext(PeerWire.Incoming incoming) {
            PeerEnvelope e = incoming.envelope();
            if (ended) {
                return;
            }
            if (transport.isClosed()) {
                refuse(Status.UNAVAILABLE.withDescription("node " + transport.selfId() + " is shutting down"));
                return;
            }
            Status refusal = admit(transport, e, remote, host, proven);
            if (refusal != null) {
                refuse(refusal);
                return;
            }
            if (sender == 0) {
                sender = e.getFrom();
            } else if (e.getFrom() != sender) {
                String why = "node " + transport.selfId() + " refused a stream from " + remote
                        + " that switched sender from node " + sender + " to node " + e.getFrom()
                        + ": a stream speaks for one node for its whole life";
                warn("switched:" + host, transport, why);
                refuse(Status.INVALID_ARGUMENT.withDescription(why));
                return;
            }
            if (e.getBodyCase() == PeerEnvelope.BodyCase.INSTALL_SNAPSHOT) {
                String why = "node " + transport.selfId() + " refused an InstallSnapshot message from node " + sender
                        + " at " + remote + " on the message stream: a snapshot is installed only through the "
                        + "InstallSnapshot RPC, which delivers it once its bytes are stored; nothing was installed";
                warn("wrong-rpc:" + host, transport, why);
                refuse(Status.INVALID_ARGUMENT.withDescription(why));
                return;
            }
            Message m;
            try {
                m = MessageCodec.decode(e, incoming.entries());
            } catch (InvalidMessageException ex) {
                String why = "node " + transport.selfId() + " refused a malformed message from node " + sender
                        + " at " + remote + ": " + ex.getMessage();
                warn("malformed:" + host, transport, why);
                refuse(Status.INVALID_ARGUMENT.withDescription(why));
                return;
            }
            received++;
            try {
                transport.inbound().receive(m);
            } catch (RuntimeException ex) {
                LOG.error("node {}: the node failed to take a message from node {}; dropped", transport.selfId(), sender, ex);
            }
        }

        private void refuse(Status status) {
            ended = true;
            responses.onError(status.asRuntimeException());
        }

        @Override
        public void onError(Throwable t) {
            // The sender went away or cancelled; it reopens its stream by itself.
            ended = true;
        }

        @Override
        public void onCompleted() {
            if (!ended) {
                ended = true;
                responses.onNext(StreamSummary.newBuilder().setReceived(received).build());
                responses.onCompleted();
            }
        }
    }
}
