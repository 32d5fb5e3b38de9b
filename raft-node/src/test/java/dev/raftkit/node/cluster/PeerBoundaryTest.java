package dev.raftkit.node.cluster;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.message.Heartbeat;
import dev.raftkit.grpc.GrpcTestAccess;
import dev.raftkit.grpc.MessageCodec;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.RawCalls;
import dev.raftkit.grpc.proto.InstallSnapshotProto;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.grpc.proto.RaftClientServiceGrpc;
import dev.raftkit.grpc.proto.RaftPeerGrpc;
import dev.raftkit.grpc.proto.SnapshotAck;
import dev.raftkit.grpc.proto.SnapshotChunk;
import dev.raftkit.grpc.proto.SnapshotHeader;
import dev.raftkit.grpc.proto.StatusRequest;
import dev.raftkit.grpc.proto.StreamSummary;
import dev.raftkit.runtime.ServerStatus;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The peer and client ports against hostile input (issue 12), on a live 3-node cluster on
 * loopback: each test sends the exact input of a finding from a raw gRPC channel and checks that
 * it is refused with a clear status and at most one log line, that the node keeps running, and
 * that nothing acknowledged is lost.
 */
class PeerBoundaryTest {

    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private GrpcCluster cluster;
    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void close() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow();
            c.awaitTermination(5, TimeUnit.SECONDS);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private GrpcCluster started() {
        cluster = new GrpcCluster(dir, "test", Set.of(1L, 2L, 3L), id -> null, (id, b) -> { });
        cluster.startAll();
        cluster.awaitLeader();
        return cluster;
    }

    private ManagedChannel channel(InetSocketAddress to) {
        ManagedChannel c = NettyChannelBuilder.forAddress(to).usePlaintext().maxInboundMessageSize(64 << 20).build();
        channels.add(c);
        return c;
    }

    /** Sends {@code envelopes} on one message stream; returns how the receiver ended it. */
    private static Status stream(ManagedChannel channel, PeerEnvelope... envelopes) {
        CompletableFuture<Status> ended = new CompletableFuture<>();
        StreamObserver<PeerEnvelope> out = RaftPeerGrpc.newStub(channel).stream(RawCalls.<StreamSummary>endedInto(ended));
        for (PeerEnvelope e : envelopes) {
            out.onNext(e);
        }
        out.onCompleted();
        return ended.orTimeout(20, TimeUnit.SECONDS).join();
    }

    private static void assertRefused(Status s, String expected) {
        assertTrue(s.getCode() == Status.Code.INVALID_ARGUMENT || s.getCode() == Status.Code.PERMISSION_DENIED,
                "refused with " + s);
        assertTrue(s.getDescription() != null && s.getDescription().contains(expected),
                "expected '" + expected + "' in " + s.getDescription());
    }

    /** Writes {@code n} keys through a client (acknowledged writes that must never be lost). */
    private static void write(RaftClient client, String prefix, int n) {
        for (int i = 0; i < n; i++) {
            client.submit(put(prefix + i, "v" + i));
        }
    }

    /**
     * Issue 12: "One peer message destroys a node's data". The exact envelope of the issue — an
     * InstallSnapshot at 1,000,000@2 on the ordinary message stream, claiming to come from a
     * member — sent to all three nodes.
     */
    @Test
    void installSnapshotOnTheMessageStreamIsRefused() {
        GrpcCluster c = started();
        RaftClient client = c.client();
        write(client, "before", 5);
        c.awaitSameState(Set.of(1L, 2L, 3L), 5);

        for (long to = 1; to <= 3; to++) {
            long claimed = to == 1 ? 2 : 1;
            long term = c.node(to).server.status().term();
            PeerEnvelope e = PeerEnvelope.newBuilder().setClusterId("test").setFrom(claimed).setTo(to).setTerm(term)
                    .setInstallSnapshot(InstallSnapshotProto.newBuilder().setSnapshot(MessageCodec.encode(
                            new SnapshotMeta(new EntryId(Math.min(2, term), 1_000_000),
                                    ConfState.ofVoters(Set.of(1L, 2L, 3L))))))
                    .build();
            Status s = stream(channel(c.node(to).transport.localAddress()), e);
            assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
            assertRefused(s, "a snapshot is installed only through the InstallSnapshot RPC");
        }

        for (long id = 1; id <= 3; id++) {
            ServerStatus st = c.node(id).server.status();
            assertTrue(st.running(), "node " + id + " stopped: " + st.failure());
            assertTrue(st.lastIndex() < 1_000_000, "node " + id + " compacted its log to " + st.lastIndex());
            assertEquals(0, c.node(id).snapshotsInstalled.get(), "node " + id + " installed a snapshot");
        }
        write(client, "after", 5);
        c.awaitSameState(Set.of(1L, 2L, 3L), 10);
        // Every node still restarts on its directory and catches up.
        for (long id = 1; id <= 3; id++) {
            c.kill(id);
            c.start(id);
            c.awaitLeader();
        }
        write(c.client(), "restarted", 1);
        c.awaitSameState(Set.of(1L, 2L, 3L), 11);
    }

    /** The reverse of the above: the snapshot RPC admits only InstallSnapshot in its header. */
    @Test
    void otherMessageKindsOnTheSnapshotRpcAreRefused() {
        GrpcCluster c = started();
        long term = c.node(2).server.status().term();
        PeerEnvelope heartbeat = MessageCodec.encode("test", new Heartbeat(1, 2, term, 0, 1));
        CompletableFuture<Status> ended = new CompletableFuture<>();
        StreamObserver<SnapshotChunk> out = RaftPeerGrpc.newStub(channel(c.node(2).transport.localAddress()))
                .installSnapshot(RawCalls.<SnapshotAck>endedInto(ended));
        out.onNext(SnapshotChunk.newBuilder().setHeader(SnapshotHeader.newBuilder().setInstallSnapshot(heartbeat)
                .setSizeBytes(0)).build());
        out.onCompleted();
        Status s = ended.orTimeout(20, TimeUnit.SECONDS).join();
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
        assertRefused(s, "instead of INSTALL_SNAPSHOT");
        assertTrue(c.node(2).server.status().running());
    }

    /**
     * Issue 12: "One heartbeat with term 2^63−1 ends elections forever". Refused at the decoder
     * on every node; terms stay where they were and a new leader is elected when the old one dies.
     */
    @Test
    void oneHeartbeatWithTermMaxLongIsRefusedAndElectionsGoOn() {
        GrpcCluster c = started();
        write(c.client(), "k", 3);
        for (long to = 1; to <= 3; to++) {
            long claimed = to == 1 ? 2 : 1;
            PeerEnvelope e = MessageCodec.encode("test", new Heartbeat(claimed, to, 1, 0, 1)).toBuilder()
                    .setTerm(Long.MAX_VALUE).build();
            Status s = stream(channel(c.node(to).transport.localAddress()), e);
            assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
            assertRefused(s, "above the largest allowed term");
        }
        for (GrpcCluster.Node n : c.running()) {
            assertTrue(n.server.status().term() < 1000, "node " + n.id + " adopted term " + n.server.status().term());
        }
        long leader = c.awaitLeader().id;
        c.kill(leader);
        GrpcCluster.Node next = c.awaitLeader();
        assertNotEquals(leader, next.id);
        assertTrue(next.server.status().term() < 1000);
    }


    /** Sends {@code bytes} as the one request of {@code method} (any type); returns the call's status. */
    private static Status raw(ManagedChannel channel, String method, MethodDescriptor.MethodType type, byte[] bytes) {
        MethodDescriptor<byte[], byte[]> m = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setFullMethodName(method).setType(type)
                .setRequestMarshaller(RawCalls.BYTES).setResponseMarshaller(RawCalls.BYTES).build();
        CompletableFuture<Status> ended = new CompletableFuture<>();
        ClientCall<byte[], byte[]> call = channel.newCall(m, CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                ended.complete(status);
            }
        }, new Metadata());
        call.request(1);
        call.sendMessage(bytes);
        call.halfClose();
        return ended.orTimeout(20, TimeUnit.SECONDS).join();
    }

    /**
     * Issue 12: "garbage protobufs get UNKNOWN and a stack trace per message in the log". Now
     * INVALID_ARGUMENT with a description, and one throttled log line per host on each port.
     */
    @Test
    void garbageProtobufsGetInvalidArgumentAndOneLogLine() {
        GrpcCluster c = started();
        GrpcCluster.Node n = c.node(2);
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f, 0x01, 0x02};
        long peerLines = GrpcTestAccess.loggedRefusals(n.transport);
        long clientLines = GrpcTestAccess.loggedRefusals(n.endpoint);
        ManagedChannel peer = channel(n.transport.localAddress());
        ManagedChannel client = channel(n.endpoint.address());
        for (int i = 0; i < 50; i++) {
            Status s = raw(peer, RaftPeerGrpc.getStreamMethod().getFullMethodName(),
                    MethodDescriptor.MethodType.CLIENT_STREAMING, garbage);
            assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
            assertTrue(s.getDescription().contains("malformed raftkit.v1.RaftPeer/Stream request"), s.getDescription());
            s = raw(peer, RaftPeerGrpc.getInstallSnapshotMethod().getFullMethodName(),
                    MethodDescriptor.MethodType.CLIENT_STREAMING, garbage);
            assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
            s = raw(client, RaftClientServiceGrpc.getSubmitMethod().getFullMethodName(),
                    MethodDescriptor.MethodType.UNARY, garbage);
            assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
            assertTrue(s.getDescription().contains("malformed raftkit.v1.RaftClientService/Submit request"),
                    s.getDescription());
        }
        assertEquals(1, GrpcTestAccess.loggedRefusals(n.transport) - peerLines, "log lines for 100 garbage peer calls");
        assertEquals(1, GrpcTestAccess.loggedRefusals(n.endpoint) - clientLines, "log lines for 50 garbage client calls");
        assertTrue(n.server.status().running());
        write(c.client(), "still", 3);
        c.awaitSameState(Set.of(1L, 2L, 3L), 3);
    }

    /**
     * Issue 12: "the log throttle is keyed by remote port (1,000 refused streams → 977 WARN
     * lines)". Refused streams from one host, each on a new connection (so a new port), give one
     * line per reason and interval.
     */
    @Test
    void refusedStreamsFromOneHostLogOnceNotOncePerPort() throws InterruptedException {
        GrpcCluster c = started();
        GrpcCluster.Node n = c.node(3);
        long before = GrpcTestAccess.loggedRefusals(n.transport);
        PeerEnvelope stranger = MessageCodec.encode("other-cluster", new Heartbeat(1, 3, 1, 0, 1));
        for (int i = 0; i < 200; i++) {
            ManagedChannel ch = NettyChannelBuilder.forAddress(n.transport.localAddress()).usePlaintext().build();
            try {
                Status s = stream(ch, stranger);
                assertEquals(Status.Code.PERMISSION_DENIED, s.getCode(), s.toString());
            } finally {
                ch.shutdownNow();
                ch.awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        assertEquals(1, GrpcTestAccess.loggedRefusals(n.transport) - before, "log lines for 200 refused streams");
    }

    /** Issue 12: "a 1 MB cluster id is echoed into logs and replies". Both ports echo it bounded. */
    @Test
    void aMegabyteClusterIdIsNotEchoed() {
        GrpcCluster c = started();
        String huge = "x".repeat(1 << 20);
        try {
            RaftClientServiceGrpc.newBlockingStub(channel(c.node(1).endpoint.address()))
                    .status(StatusRequest.newBuilder().setClusterId(huge).build());
            throw new AssertionError("a request of another cluster was served");
        } catch (StatusRuntimeException e) {
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
            String d = e.getStatus().getDescription();
            assertTrue(d.length() < 400, "reply of " + d.length() + " characters");
            assertTrue(d.contains("1048576 characters"), d);
        }
        PeerEnvelope e = MessageCodec.encode("test", new Heartbeat(2, 1, 1, 0, 1)).toBuilder().setClusterId(huge).build();
        Status s = stream(channel(c.node(1).transport.localAddress()), e);
        assertEquals(Status.Code.PERMISSION_DENIED, s.getCode());
        assertTrue(s.getDescription().length() < 600, "reply of " + s.getDescription().length() + " characters");
        assertFalse(s.getDescription().contains("x".repeat(100)));
    }

    /**
     * Issue 12, impersonation on plaintext: a stream speaks for one node for its whole life,
     * whatever the kinds of its messages.
     */
    @Test
    void aStreamThatSwitchesSenderIsRefused() {
        GrpcCluster c = started();
        long term = c.node(3).server.status().term();
        PeerEnvelope asOne = MessageCodec.encode("test", new dev.raftkit.core.message.HeartbeatResponse(1, 3, term, 1));
        PeerEnvelope asTwo = MessageCodec.encode("test", new dev.raftkit.core.message.HeartbeatResponse(2, 3, term, 1));
        Status s = stream(channel(c.node(3).transport.localAddress()), asOne, asTwo);
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
        assertRefused(s, "switched sender from node 1 to node 2");
        assertTrue(c.node(3).server.status().running());
    }

    @SuppressWarnings("unused")
    private static ByteString unused() {
        return ByteString.EMPTY;
    }
}
