package dev.raftkit.grpc;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * What tests outside this package (the cluster tests in raft-node) may see of this module's
 * internals, without making them public API: how many refusal lines a port logged, and a channel
 * that presents a given certificate, built the way the transport and the client build theirs.
 */
public final class GrpcTestAccess {

    private GrpcTestAccess() {
    }

    /** Lines the peer port has logged about refused calls (it throttles them per host and reason). */
    public static long loggedRefusals(GrpcTransport transport) {
        return transport.throttle().logged();
    }

    /** Lines the client port has logged about refused calls (it throttles them per host and reason). */
    public static long loggedRefusals(ClientEndpoint endpoint) {
        return endpoint.throttle().logged();
    }

    /** A channel to {@code target} and what it runs on; {@link #close} releases all of it. */
    public static final class Channel implements AutoCloseable {
        private final ManagedChannel channel;
        private final ExecutorService executor;
        private final EventLoopGroup loop;
        private final TlsCredentials credentials;

        private Channel(ManagedChannel channel, ExecutorService executor, EventLoopGroup loop,
                        TlsCredentials credentials) {
            this.channel = channel;
            this.executor = executor;
            this.loop = loop;
            this.credentials = credentials;
        }

        public ManagedChannel channel() {
            return channel;
        }

        @Override
        public void close() throws InterruptedException {
            channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
            executor.shutdownNow();
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            credentials.close();
        }
    }

    /** A channel to {@code target} presenting {@code cert} (null: plaintext), as a node or client would. */
    public static Channel channel(TlsConfig cert, InetSocketAddress target, String name) {
        ExecutorService executor = Executors.newSingleThreadExecutor();
        EventLoopGroup loop = Endpoints.eventLoop(1, name);
        TlsCredentials credentials = TlsCredentials.of(cert);
        ManagedChannel channel = Endpoints.channel(target, loop, executor, 16 << 20, credentials);
        return new Channel(channel, executor, loop, credentials);
    }
}
