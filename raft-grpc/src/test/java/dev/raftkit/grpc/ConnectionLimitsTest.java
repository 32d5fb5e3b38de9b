package dev.raftkit.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.raftkit.core.message.Heartbeat;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: "19,800 idle half-open connections were accepted and never closed, and the node lost
 * leadership under them". Raw TCP sockets on loopback that never send a byte: they are closed
 * once the handshake timeout passes, connections beyond the per-host cap are closed at once, and
 * the node keeps exchanging messages with its real peer throughout.
 */
class ConnectionLimitsTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private GrpcTransport transport(long id, ConnectionLimits limits, GrpcTransportTest.Inbox inbox) throws IOException {
        GrpcTransport t = new GrpcTransport(GrpcNetwork.testDefaults("test", id).build(), limits);
        toClose.add(t);
        t.start(inbox);
        return t;
    }

    private List<Socket> open(InetSocketAddress to, int n) throws IOException {
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Socket s = new Socket(to.getAddress(), to.getPort());
            toClose.add(s);
            sockets.add(s);
        }
        return sockets;
    }

    /** True if the server closed {@code s} (end of stream or reset) within {@code waitMillis}. */
    private static boolean closedByServer(Socket s, int waitMillis) {
        try {
            s.setSoTimeout(waitMillis);
            InputStream in = s.getInputStream();
            // A plaintext gRPC server sends its HTTP/2 settings first; skip them, wait for the end.
            byte[] buf = new byte[256];
            while (true) {
                if (in.read(buf) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** Two peers that exchange heartbeats; returns how many node 1 received from node 2 so far. */
    private static void assertStillServes(GrpcTransport from, GrpcTransportTest.Inbox to, long fromId, long toId) {
        int before = to.received.size();
        AtomicInteger round = new AtomicInteger();
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).until(() -> {
            from.send(List.of(new Heartbeat(fromId, toId, 1, 0, round.incrementAndGet())));
            return to.received.size() > before;
        });
    }

    @Test
    void idleHalfOpenConnectionsAreClosedAfterTheHandshakeTimeout() throws IOException {
        ConnectionLimits limits = ConnectionLimits.peerDefaults()
                .withTimeouts(Duration.ofMillis(300), Duration.ofSeconds(2)).withCaps(64, 1024);
        GrpcTransportTest.Inbox inbox1 = new GrpcTransportTest.Inbox();
        GrpcTransportTest.Inbox inbox2 = new GrpcTransportTest.Inbox();
        GrpcTransport one = transport(1, limits, inbox1);
        GrpcTransport two = transport(2, limits, inbox2);
        one.addPeer(2, two.localAddress());
        two.addPeer(1, one.localAddress());
        assertStillServes(two, inbox1, 2, 1);

        List<Socket> idle = open(one.localAddress(), 40);
        assertStillServes(two, inbox1, 2, 1);
        for (Socket s : idle) {
            // Well within the patience: the handshake timeout is 300 ms.
            assertEquals(true, closedByServer(s, (int) PATIENCE.toMillis()), "an idle connection stayed open");
        }
        // The real peer's connection finished its handshake long ago and carries streams: kept.
        assertStillServes(two, inbox1, 2, 1);
        assertStillServes(one, inbox2, 1, 2);
    }

    @Test
    void connectionsPerHostAreCapped() throws IOException {
        // A long handshake timeout, so only the cap can close these connections.
        ConnectionLimits limits = ConnectionLimits.peerDefaults()
                .withTimeouts(Duration.ofSeconds(60), Duration.ofMinutes(5)).withCaps(8, 1024);
        GrpcTransportTest.Inbox inbox1 = new GrpcTransportTest.Inbox();
        GrpcTransport one = transport(1, limits, inbox1);

        List<Socket> sockets = open(one.localAddress(), 20);
        int closed = 0;
        for (Socket s : sockets) {
            if (closedByServer(s, 300)) {
                closed++;
            }
        }
        assertEquals(12, closed, "connections beyond the cap of 8 per host closed");

        // Once the idle ones go, a real peer on the same host connects and is served.
        for (Socket s : sockets) {
            s.close();
        }
        GrpcTransportTest.Inbox inbox2 = new GrpcTransportTest.Inbox();
        GrpcTransport two = transport(2, limits, inbox2);
        two.addPeer(1, one.localAddress());
        one.addPeer(2, two.localAddress());
        assertStillServes(two, inbox1, 2, 1);
    }

    /** One connection cannot hold more calls open than its cap: the client queues the rest. */
    @Test
    void callsPerConnectionAreCapped() throws Exception {
        ConnectionLimits limits = ConnectionLimits.peerDefaults().withMaxCallsPerConnection(2);
        GrpcTransportTest.Inbox inbox = new GrpcTransportTest.Inbox();
        GrpcTransport one = transport(1, limits, inbox);
        one.addPeer(2, new InetSocketAddress(one.localAddress().getAddress(), 1));
        io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                .forAddress(one.localAddress()).usePlaintext().build();
        toClose.add(() -> channel.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS));
        List<io.grpc.stub.StreamObserver<dev.raftkit.grpc.proto.PeerEnvelope>> calls = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            io.grpc.stub.StreamObserver<dev.raftkit.grpc.proto.PeerEnvelope> call =
                    dev.raftkit.grpc.proto.RaftPeerGrpc.newStub(channel).stream(new io.grpc.stub.StreamObserver<>() {
                        @Override
                        public void onNext(dev.raftkit.grpc.proto.StreamSummary value) {
                        }

                        @Override
                        public void onError(Throwable t) {
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
            call.onNext(MessageCodec.encode("test", new Heartbeat(2, 1, 1, 0, i)));
            calls.add(call);
        }
        await().atMost(PATIENCE).until(() -> inbox.received.size() == 2);
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).until(() -> inbox.received.size() == 2);
        calls.get(0).onCompleted();
        await().atMost(PATIENCE).until(() -> inbox.received.size() == 3);
    }

    @Test
    void limitsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> ConnectionLimits.peerDefaults().withCaps(0, 10));
        assertThrows(IllegalArgumentException.class, () -> ConnectionLimits.peerDefaults().withCaps(10, 5));
        assertThrows(IllegalArgumentException.class,
                () -> ConnectionLimits.peerDefaults().withTimeouts(Duration.ZERO, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> ConnectionLimits.peerDefaults().withMaxCallsPerConnection(0));
    }
}
