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
 *
 * <p>Every call is authorized before a service sees it ({@link Access}): on mutual TLS by the role
 * its certificate names ({@link CertificateIdentity}), admin calls needing the admin role; without a
 * client certificate, client calls only, unless {@link Access#insecureAdmin()}.
 */
public final class ClientEndpoint implements AutoCloseable {

    private static final String SUBMIT =
            dev.raftkit.grpc.proto.RaftClientServiceGrpc.getSubmitMethod().getFullMethodName();

    /**
     * Who may call what on a node's client port.
     *
     * @param clusterId     the node's cluster: certificates of other clusters are refused
     * @param nodeId        the node's id, for log lines
     * @param insecureAdmin let callers without a client certificate (plaintext) make admin calls
     *                      (membership, leadership transfer, backups, peers); only for a network where
     *                      everyone is trusted. Callers with a certificate still need the admin role.
     */
    public record Access(String clusterId, long nodeId, boolean insecureAdmin) {
        /** Checks the cluster id is present. */
        public Access {
            java.util.Objects.requireNonNull(clusterId, "clusterId");
        }
    }

    private final Server server;
    private final ExecutorService executor;
    private final EventLoopGroup loop;
    private final LogThrottle throttle;
    private final TlsCredentials credentials;

    private ClientEndpoint(Server server, ExecutorService executor, EventLoopGroup loop, LogThrottle throttle,
                           TlsCredentials credentials) {
        this.server = server;
        this.executor = executor;
        this.loop = loop;
        this.throttle = throttle;
        this.credentials = credentials;
    }

    /** Starts serving {@code service} on {@code listen} (port 0 picks one). */
    public static ClientEndpoint start(InetSocketAddress listen, BindableService service, TlsConfig tls,
                                       int maxMessageBytes, Access access) throws IOException {
        return start(listen, List.of(service), tls, maxMessageBytes, access);
    }

    /**
     * Starts serving {@code services} on {@code listen}: the client service and any that belong on
     * the same port (an admin service), so an operator needs one address per node.
     */
    public static ClientEndpoint start(InetSocketAddress listen, List<BindableService> services, TlsConfig tls,
                                       int maxMessageBytes, Access access) throws IOException {
        return start(listen, services, tls, maxMessageBytes, access, ConnectionLimits.clientDefaults());
    }

    /**
     * As {@link #start(InetSocketAddress, List, TlsConfig, int, Access)}, bounding the connections
     * it accepts by {@code limits}. Requests whose bytes do not parse are refused with
     * {@code INVALID_ARGUMENT} and a throttled log line.
     */
    public static ClientEndpoint start(InetSocketAddress listen, List<BindableService> services, TlsConfig tls,
                                       int maxMessageBytes, Access access, ConnectionLimits limits)
            throws IOException {
        TlsCredentials credentials = TlsCredentials.of(tls);
        ExecutorService executor = Executors.newFixedThreadPool(2, Endpoints.Threads.daemonFactory("raftkit-client-io"));
        EventLoopGroup loop = Endpoints.eventLoop(1, "raftkit-client-netty");
        NettyServerBuilder builder = Endpoints.server(listen, loop, executor, maxMessageBytes, credentials, limits,
                        "the client port")
                // Authorization of every service on this port, keyed by method name, before the service runs.
                .intercept(new IdentityInterceptor(access.clusterId(), access.nodeId(), IdentityInterceptor.Port.CLIENT,
                        access.insecureAdmin()))
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
            credentials.close();
            throw new IOException("cannot listen for clients on " + listen + ": " + e.getMessage()
                    + "; is another process using the port?", e);
        }
        return new ClientEndpoint(server, executor, loop, throttle, credentials);
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
        credentials.close();
    }
}
