package dev.raftkit.grpc;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC server for a node's {@link ClientService}, on its own port, with its own small thread
 * pool and event loop (client traffic must not compete with the peer transport's threads), and
 * the same TLS settings as the transport if given.
 */
public final class ClientEndpoint implements AutoCloseable {

    private static final String SUBMIT =
            dev.raftkit.grpc.proto.RaftClientServiceGrpc.getSubmitMethod().getFullMethodName();

    private final Server server;
    private final ExecutorService executor;
    private final EventLoopGroup loop;
    private final LogThrottle throttle;

    private ClientEndpoint(Server server, ExecutorService executor, EventLoopGroup loop, LogThrottle throttle) {
        this.server = server;
        this.executor = executor;
        this.loop = loop;
        this.throttle = throttle;
    }

    /** Starts serving {@code service} on {@code listen} (port 0 picks one). */
    public static ClientEndpoint start(InetSocketAddress listen, BindableService service, TlsConfig tls,
                                       int maxMessageBytes) throws IOException {
        return start(listen, List.of(service), tls, maxMessageBytes);
    }

    /**
     * Starts serving {@code services} on {@code listen}: the client service and any that belong on
     * the same port (an admin service), so an operator needs one address per node.
     */
    public static ClientEndpoint start(InetSocketAddress listen, List<BindableService> services, TlsConfig tls,
                                       int maxMessageBytes) throws IOException {
        return start(listen, services, tls, maxMessageBytes, ConnectionLimits.clientDefaults());
    }

    /**
     * As {@link #start(InetSocketAddress, List, TlsConfig, int)}, bounding the connections it
     * accepts by {@code limits}. Requests whose bytes do not parse are refused with
     * {@code INVALID_ARGUMENT} and a throttled log line.
     */
    public static ClientEndpoint start(InetSocketAddress listen, List<BindableService> services, TlsConfig tls,
                                       int maxMessageBytes, ConnectionLimits limits) throws IOException {
        ExecutorService executor = Executors.newFixedThreadPool(2, Endpoints.Threads.daemonFactory("raftkit-client-io"));
        EventLoopGroup loop = Endpoints.eventLoop(1, "raftkit-client-netty");
        NettyServerBuilder builder = Endpoints.server(listen, loop, executor, maxMessageBytes, tls, limits,
                        "the client port")
                // Submit never blocks (RaftServer.submit offers to a bounded inbox and returns a future),
                // so it runs on the event loop that read it: no hand-off to the pool per command.
                .callExecutor(new io.grpc.ServerCallExecutorSupplier() {
                    @Override
                    public <Q, R> java.util.concurrent.Executor getExecutor(io.grpc.ServerCall<Q, R> call,
                                                                           io.grpc.Metadata headers) {
                        return call.getMethodDescriptor().getFullMethodName().equals(SUBMIT)
                                ? com.google.common.util.concurrent.MoreExecutors.directExecutor() : null;
                    }
                });
        LogThrottle throttle = new LogThrottle();
        services.forEach(s -> builder.addService(MalformedRequestGuard.guard(s, "the client port", throttle)));
        Server server = builder.build();
        try {
            server.start();
        } catch (IOException e) {
            executor.shutdownNow();
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("cannot listen for clients on " + listen + ": " + e.getMessage()
                    + "; is another process using the port?", e);
        }
        return new ClientEndpoint(server, executor, loop, throttle);
    }

    /** The throttle of this port's refusal log lines (for tests that bound them). */
    LogThrottle throttle() {
        return throttle;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getListenSockets().get(0);
    }

    /** host:port, as clients and redirects name it. */
    public String hostPort() {
        InetSocketAddress a = address();
        return a.getHostString() + ":" + a.getPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
