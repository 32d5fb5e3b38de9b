package dev.raftkit.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.grpc.proto.RaftPeerGrpc;
import dev.raftkit.grpc.proto.SnapshotChunk;
import dev.raftkit.grpc.proto.SnapshotHeader;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;

import java.io.IOException;


import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The guard that turns unparseable requests into INVALID_ARGUMENT, where it matters most: in the
 * middle of a snapshot transfer, whose receiver holds an open writer that must be aborted.
 */
class MalformedRequestGuardTest {

    private GrpcNetwork network;
    private ManagedChannel channel;

    @AfterEach
    void close() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (network != null) {
            network.close();
        }
    }


    @Test
    void garbageInTheMiddleOfASnapshotTransferAbortsItsWriter() throws IOException {
        network = new GrpcNetwork("test", id -> null);
        GrpcTransportTest.Inbox one = new GrpcTransportTest.Inbox();
        GrpcTransportTest.Inbox two = new GrpcTransportTest.Inbox();
        network.start(1, one);
        GrpcTransport receiver = network.start(2, two);
        channel = NettyChannelBuilder.forAddress(receiver.localAddress()).usePlaintext().build();

        InstallSnapshot install = new InstallSnapshot(1, 2, 3,
                new SnapshotMeta(new EntryId(2, 100), ConfState.ofVoters(Set.of(1L, 2L))));
        byte[] header = SnapshotChunk.newBuilder().setHeader(SnapshotHeader.newBuilder()
                .setInstallSnapshot(MessageCodec.encode("test", install)).setSizeBytes(10)).build().toByteArray();
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f};

        MethodDescriptor<byte[], byte[]> method = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setFullMethodName(RaftPeerGrpc.getInstallSnapshotMethod().getFullMethodName())
                .setType(MethodDescriptor.MethodType.CLIENT_STREAMING)
                .setRequestMarshaller(RawCalls.BYTES).setResponseMarshaller(RawCalls.BYTES).build();
        CompletableFuture<Status> ended = new CompletableFuture<>();
        ClientCall<byte[], byte[]> call = channel.newCall(method, CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                ended.complete(status);
            }
        }, new Metadata());
        call.request(1);
        call.sendMessage(header);
        await().atMost(Duration.ofSeconds(20)).until(() -> !two.writers.isEmpty());
        call.sendMessage(garbage);

        Status s = ended.orTimeout(20, TimeUnit.SECONDS).join();
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
        assertTrue(s.getDescription().contains("malformed raftkit.v1.RaftPeer/InstallSnapshot request"),
                s.getDescription());
        await().atMost(Duration.ofSeconds(20)).until(() -> two.writers.get(0).aborted);
        assertFalse(two.writers.get(0).committed);
        assertTrue(two.received.isEmpty(), "a snapshot was delivered: " + two.received);
    }
}
