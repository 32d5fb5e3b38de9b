package dev.raftkit.grpc;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Builds Netty-based gRPC servers and channels that share one small event-loop group and use our
 * own executors (never gRPC's default cached pool), with or without TLS. Used by the peer
 * transport and by the client service and client.
 *
 * <p>Package-private on purpose: it deals in shaded-Netty types, which stay out of our public API.
 * TLS comes in as {@link TlsCredentials}, gRPC's transport-neutral credentials.
 */
final class Endpoints {

    private Endpoints() {
    }

    /** An event-loop group of {@code threads} daemon threads named after {@code name}. */
    static EventLoopGroup eventLoop(int threads, String name) {
        return new MultiThreadIoEventLoopGroup(threads, Threads.daemonFactory(name), NioIoHandler.newFactory());
    }

    /** A server builder on {@code listen} with the credentials {@code tls} (plaintext or TLS). */
    static NettyServerBuilder server(InetSocketAddress listen, EventLoopGroup loop, Executor executor,
                                     int maxMessageBytes, TlsCredentials tls) {
        NettyServerBuilder b = NettyServerBuilder.forAddress(listen, tls.server())
                .channelType(NioServerSocketChannel.class)
                .bossEventLoopGroup(loop)
                .workerEventLoopGroup(loop)
                .executor(executor)
                .maxInboundMessageSize(maxMessageBytes)
                // Peers keep streams open for hours; let them probe dead connections often enough
                // to notice a vanished peer, but refuse pings faster than that (abuse).
                .permitKeepAliveTime(5, TimeUnit.SECONDS)
                .permitKeepAliveWithoutCalls(true);
        return b;
    }

    /**
     * As {@link #server(InetSocketAddress, EventLoopGroup, Executor, int, TlsCredentials)}, with
     * {@code limits} on the connections it accepts; {@code what} names the listener in log lines.
     */
    static NettyServerBuilder server(InetSocketAddress listen, EventLoopGroup loop, Executor executor,
                                     int maxMessageBytes, TlsCredentials tls, ConnectionLimits limits, String what) {
        return limits.applyTo(server(listen, loop, executor, maxMessageBytes, tls), what);
    }

    /** A channel to {@code target} with the credentials {@code tls} (plaintext or TLS). */
    static ManagedChannel channel(InetSocketAddress target, EventLoopGroup loop, Executor executor,
                                  int maxMessageBytes, TlsCredentials tls) {
        return channel(target, loop, executor, executor, maxMessageBytes, tls);
    }

    /**
     * A channel whose call callbacks run on {@code callbacks} (which may be a direct executor when
     * they never block) and whose blocking chores run on {@code offload}.
     */
    static ManagedChannel channel(InetSocketAddress target, EventLoopGroup loop, Executor callbacks,
                                  Executor offload, int maxMessageBytes, TlsCredentials tls) {
        NettyChannelBuilder b = NettyChannelBuilder.forAddress(target, tls.channel())
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
        return b.build();
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
