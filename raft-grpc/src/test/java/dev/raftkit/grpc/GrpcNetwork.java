package dev.raftkit.grpc;

import dev.raftkit.spi.Transport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;
import java.util.function.UnaryOperator;

/**
 * Test nodes' gRPC transports on loopback with ephemeral ports, each told the others' addresses
 * as they start. Short back-off, so reconnects happen within a test's patience.
 */
class GrpcNetwork implements AutoCloseable {

    private final String clusterId;
    private final LongFunction<TlsConfig> tls;
    private final UnaryOperator<GrpcTransportConfig.Builder> tweak;
    private final Map<Long, GrpcTransport> started = new ConcurrentHashMap<>();
    private final Map<Long, InetSocketAddress> addresses = new ConcurrentHashMap<>();
    private final List<GrpcTransport> all = new ArrayList<>();

    GrpcNetwork(String clusterId, LongFunction<TlsConfig> tls) {
        this(clusterId, tls, b -> b);
    }

    GrpcNetwork(String clusterId, LongFunction<TlsConfig> tls, UnaryOperator<GrpcTransportConfig.Builder> tweak) {
        this.clusterId = clusterId;
        this.tls = tls;
        this.tweak = tweak;
    }

    static GrpcTransportConfig.Builder testDefaults(String clusterId, long id) {
        return GrpcTransportConfig.builder(clusterId, id)
                .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .backoff(Duration.ofMillis(20), Duration.ofMillis(300));
    }

    /** A transport for node {@code id}, not started, that knows every address known so far. */
    synchronized GrpcTransport create(long id, UnaryOperator<GrpcTransportConfig.Builder> extra) {
        GrpcTransportConfig.Builder b = extra.apply(tweak.apply(testDefaults(clusterId, id)));
        addresses.forEach((peer, address) -> {
            if (peer != id) {
                b.peer(peer, address);
            }
        });
        b.tls(tls.apply(id));
        GrpcTransport t = new GrpcTransport(b.build());
        all.add(t);
        return t;
    }

    /** Starts {@code t} as node {@code id} and introduces it to every started node. */
    synchronized GrpcTransport start(long id, GrpcTransport t, Transport.Inbound inbound) throws IOException {
        t.start(inbound);
        InetSocketAddress address = t.localAddress();
        addresses.put(id, address);
        started.forEach((peer, other) -> {
            if (peer != id) {
                other.addPeer(id, address);
                t.addPeer(peer, addresses.get(peer));
            }
        });
        started.put(id, t);
        return t;
    }

    GrpcTransport start(long id, Transport.Inbound inbound) throws IOException {
        return start(id, create(id, b -> b), inbound);
    }

    /** Every node learns of a peer {@code id} whose address refuses connections. */
    synchronized void addDeadPeer(long id) throws IOException {
        InetSocketAddress address;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            address = new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort());
        }
        addresses.put(id, address);
        started.values().forEach(t -> t.addPeer(id, address));
    }

    InetSocketAddress address(long id) {
        return addresses.get(id);
    }

    @Override
    public synchronized void close() {
        for (GrpcTransport t : all) {
            t.close();
        }
    }
}
