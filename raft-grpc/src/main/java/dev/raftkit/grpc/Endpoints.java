package dev.raftkit.grpc;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * Builds Netty-based gRPC servers and channels that share one small event-loop group and use our
 * own executors (never gRPC's default cached pool), with or without TLS. Used by the peer
 * transport and by the client service and client.
 */
public final class Endpoints {

    private Endpoints() {
    }

    /** An event-loop group of {@code threads} daemon threads named after {@code name}. */
    public static EventLoopGroup eventLoop(int threads, String name) {
        return new MultiThreadIoEventLoopGroup(threads, Threads.daemonFactory(name), NioIoHandler.newFactory());
    }

    /** A server builder on {@code listen}, TLS from {@code tls} if not null. */
    public static NettyServerBuilder server(InetSocketAddress listen, EventLoopGroup loop, Executor executor,
                                            int maxMessageBytes, TlsConfig tls) {
        NettyServerBuilder b = NettyServerBuilder.forAddress(listen)
                .channelType(NioServerSocketChannel.class)
                .bossEventLoopGroup(loop)
                .workerEventLoopGroup(loop)
                .executor(executor)
                .maxInboundMessageSize(maxMessageBytes)
                // Peers keep streams open for hours; let them probe dead connections often enough
                // to notice a vanished peer, but refuse pings faster than that (abuse).
                .permitKeepAliveTime(5, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true);
        if (tls != null) {
            b.sslContext(serverSsl(tls));
        }
        return b;
    }

    /**
     * As {@link #server(InetSocketAddress, EventLoopGroup, Executor, int, TlsConfig)}, with
     * {@code limits} on the connections it accepts; {@code what} names the listener in log lines.
     */
    public static NettyServerBuilder server(InetSocketAddress listen, EventLoopGroup loop, Executor executor,
                                            int maxMessageBytes, TlsConfig tls, ConnectionLimits limits, String what) {
        return limits.applyTo(server(listen, loop, executor, maxMessageBytes, tls), what);
    }

    /** A channel to {@code target}, TLS from {@code tls} if not null. */
    public static ManagedChannel channel(InetSocketAddress target, EventLoopGroup loop, Executor executor,
                                         int maxMessageBytes, TlsConfig tls) {
        return channel(target, loop, executor, executor, maxMessageBytes, tls);
    }

    /**
     * A channel whose call callbacks run on {@code callbacks} (which may be a direct executor when
     * they never block) and whose blocking chores run on {@code offload}.
     */
    public static ManagedChannel channel(InetSocketAddress target, EventLoopGroup loop, Executor callbacks,
                                         Executor offload, int maxMessageBytes, TlsConfig tls) {
        NettyChannelBuilder b = NettyChannelBuilder.forAddress(target)
                .channelType(NioSocketChannel.class)
                .eventLoopGroup(loop)
                .executor(callbacks)
                .offloadExecutor(offload)
                .maxInboundMessageSize(maxMessageBytes)
                .keepAliveTime(10, TimeUnit.SECONDS)
                .keepAliveTimeout(5, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(true)
                // Raft retries by itself; gRPC's transparent retry buffer would hold big appends.
                .disableRetry();
        if (tls != null) {
            b.negotiationType(NegotiationType.TLS).sslContext(clientSsl(tls));
        } else {
            b.usePlaintext();
        }
        return b.build();
    }

    private static SslContext serverSsl(TlsConfig tls) {
        try {
            return GrpcSslContexts.forServer(tls.certChain().toFile(), tls.privateKey().toFile())
                    .trustManager(tls.trustedCa().toFile())
                    .clientAuth(tls.requireClientAuth() ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL)
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new UncheckedIOException(new IOException("cannot load the server TLS material (certificate "
                    + tls.certChain() + ", key " + tls.privateKey() + ", CA " + tls.trustedCa()
                    + "): " + e.getMessage() + "; the key must be an unencrypted PKCS#8 PEM file", e));
        }
    }

    private static SslContext clientSsl(TlsConfig tls) {
        try {
            return GrpcSslContexts.forClient()
                    .trustManager(tls.trustedCa().toFile())
                    .keyManager(tls.certChain().toFile(), tls.privateKey().toFile())
                    .build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new UncheckedIOException(new IOException("cannot load the client TLS material (certificate "
                    + tls.certChain() + ", key " + tls.privateKey() + ", CA " + tls.trustedCa()
                    + "): " + e.getMessage() + "; the key must be an unencrypted PKCS#8 PEM file", e));
        }
    }

    /** Thread factories for the transport's own threads. */
    static final class Threads {
        private Threads() {
        }

        static ThreadFactory daemonFactory(String name) {
            java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
            return r -> {
                Thread t = new Thread(r, name + "-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
        }
    }
}
