package dev.raftkit.grpc;

import dev.raftkit.core.message.Message;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.grpc.proto.RaftPeerGrpc;
import dev.raftkit.grpc.proto.SnapshotAck;
import dev.raftkit.grpc.proto.SnapshotChunk;
import dev.raftkit.grpc.proto.StreamSummary;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving side of {@link GrpcTransport}: peer message streams and snapshot transfers.
 * Every stream is admitted message by message ({@link #admit}); the first message that fails
 * ends the stream with an error status the sender logs, and nothing of it reaches the node.
 */
final class PeerService extends RaftPeerGrpc.RaftPeerImplBase {

    private static final Logger LOG = LoggerFactory.getLogger(PeerService.class);

    private final GrpcTransport transport;

    PeerService(GrpcTransport transport) {
        this.transport = transport;
    }

    @Override
    public StreamObserver<PeerEnvelope> stream(StreamObserver<StreamSummary> responses) {
        return new InboundStream(responses, RemoteAddressInterceptor.remote());
    }

    @Override
    public StreamObserver<SnapshotChunk> installSnapshot(StreamObserver<SnapshotAck> responses) {
        return new SnapshotReceiver(transport, responses, RemoteAddressInterceptor.remote());
    }

    /**
     * Checks an envelope's routing header: same cluster, addressed to this node, from a known
     * peer. Returns null if admitted, else the status to end the stream with (already logged).
     */
    static Status admit(GrpcTransport transport, PeerEnvelope e, String remote) {
        long self = transport.selfId();
        if (!transport.clusterId().equals(e.getClusterId())) {
            String why = "node " + self + " of cluster '" + transport.clusterId() + "' refused messages from node "
                    + Long.toUnsignedString(e.getFrom()) + " at " + remote + " of cluster '" + e.getClusterId()
                    + "': nodes of other clusters are never delivered; check the cluster id and peer addresses "
                    + "configured on both nodes";
            warn("cluster:" + e.getClusterId() + ":" + remote, transport, why);
            return Status.PERMISSION_DENIED.withDescription(why);
        }
        if (e.getTo() != self) {
            String why = "node " + self + " refused messages addressed to node " + Long.toUnsignedString(e.getTo())
                    + " from node " + Long.toUnsignedString(e.getFrom()) + " at " + remote
                    + ": the sender has the wrong address for that node";
            warn("to:" + e.getTo() + ":" + remote, transport, why);
            return Status.FAILED_PRECONDITION.withDescription(why);
        }
        if (!transport.isKnownPeer(e.getFrom())) {
            String why = "node " + self + " refused messages from unknown node " + Long.toUnsignedString(e.getFrom())
                    + " at " + remote + ": it is not one of this node's peers " + transport.peers()
                    + "; add it to the configuration first";
            warn("from:" + e.getFrom() + ":" + remote, transport, why);
            return Status.PERMISSION_DENIED.withDescription(why);
        }
        return null;
    }

    static void warn(String key, GrpcTransport transport, String message) {
        if (transport.throttle().shouldLog(key)) {
            LOG.warn(message);
        } else {
            LOG.debug(message);
        }
    }

    /** One incoming message stream. gRPC calls it on the event loop that read it, one callback at a time. */
    private final class InboundStream implements StreamObserver<PeerEnvelope> {
        private final StreamObserver<StreamSummary> responses;
        private final String remote;
        private long sender;
        private long received;
        private boolean ended;

        InboundStream(StreamObserver<StreamSummary> responses, String remote) {
            this.responses = responses;
            this.remote = remote;
        }

        @Override
        public void onNext(PeerEnvelope e) {
            if (ended) {
                return;
            }
            if (transport.isClosed()) {
                refuse(Status.UNAVAILABLE.withDescription("node " + transport.selfId() + " is shutting down"));
                return;
            }
            Status refusal = admit(transport, e, remote);
            if (refusal != null) {
                refuse(refusal);
                return;
            }
            if (sender == 0) {
                sender = e.getFrom();
            } else if (e.getFrom() != sender) {
                refuse(Status.INVALID_ARGUMENT.withDescription("node " + transport.selfId() + " refused a stream from "
                        + remote + " that switched sender from node " + sender + " to node " + e.getFrom()));
                return;
            }
            Message m;
            try {
                m = MessageCodec.decode(e);
            } catch (InvalidMessageException ex) {
                String why = "node " + transport.selfId() + " refused a malformed message from node " + sender
                        + " at " + remote + ": " + ex.getMessage();
                warn("malformed:" + sender, transport, why);
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
