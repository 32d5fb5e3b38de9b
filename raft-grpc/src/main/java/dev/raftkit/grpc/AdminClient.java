package dev.raftkit.grpc;

import dev.raftkit.grpc.proto.AddPeerRequest;
import dev.raftkit.grpc.proto.RaftAdminServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A connection to one node's admin service ({@code admin.proto}, served on the node's client
 * port): unlike {@link RaftClient}, calls act on the node they are sent to, without redirects.
 *
 * <p>Threads: any thread may call; the stub's futures complete on this client's own thread. Close
 * it to release its channel and threads.
 */
public final class AdminClient implements AutoCloseable {

    private final ExecutorService executor = Executors.newFixedThreadPool(1, Endpoints.Threads.daemonFactory(
            "raftkit-admin-client"));
    private final EventLoopGroup loop = Endpoints.eventLoop(1, "raftkit-admin-netty");
    private final ManagedChannel channel;
    private final TlsCredentials credentials;

    /**
     * Connects (lazily) to the admin service at {@code target}; {@code tls} null for plaintext. On
     * mutual TLS the node admits the calls only with an admin certificate
     * ({@code raftkit://CLUSTER/admin/NAME}); on plaintext only if it runs with insecure admin.
     */
    public AdminClient(InetSocketAddress target, TlsConfig tls) {
        credentials = TlsCredentials.of(tls);
        channel = Endpoints.channel(target, loop, executor, 4 << 20, credentials);
    }

    /** The generated stub, for calls with their own deadlines. */
    public RaftAdminServiceGrpc.RaftAdminServiceFutureStub stub() {
        return RaftAdminServiceGrpc.newFutureStub(channel);
    }

    /**
     * Tells the node that node {@code id} listens for peers at {@code peerHostPort} and for
     * clients at {@code clientHostPort}, waiting up to {@code timeout}.
     *
     * @throws ExecutionException with the gRPC status as cause if the node refused or did not answer
     */
    public void addPeer(String clusterId, long id, String peerHostPort, String clientHostPort, Duration timeout)
            throws ExecutionException, InterruptedException {
        stub().withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS).addPeer(AddPeerRequest.newBuilder()
                .setClusterId(clusterId).setNodeId(id).setPeerAddress(peerHostPort).setClientAddress(clientHostPort)
                .build()).get();
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        credentials.close();
    }
}
