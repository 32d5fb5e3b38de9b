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

    private final Server server;
    private final ExecutorService executor;
    private final EventLoopGroup loop;

    private ClientEndpoint(Server server, ExecutorService executor, EventLoopGroup loop) {
        this.server = server;
        this.executor = executor;
        this.loop = loop;
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
        ExecutorService executor = Executors.newFixedThreadPool(2, Endpoints.Threads.daemonFactory("raftkit-client-io"));
        EventLoopGroup loop = Endpoints.eventLoop(1, "raftkit-client-netty");
        NettyServerBuilder builder = Endpoints.server(listen, loop, executor, maxMessageBytes, tls);
        services.forEach(builder::addService);
        Server server = builder.build();
        try {
            server.start();
        } catch (IOException e) {
            executor.shutdownNow();
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("cannot listen for clients on " + listen + ": " + e.getMessage()
                    + "; is another process using the port?", e);
        }
        return new ClientEndpoint(server, executor, loop);
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
