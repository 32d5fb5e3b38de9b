package dev.raftkit.cli;

import dev.raftkit.cli.node.HostPort;
import dev.raftkit.grpc.Endpoints;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.grpc.proto.RaftAdminServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** A connection to one node's admin service (on its client port). */
final class AdminClient implements AutoCloseable {

    private final ExecutorService executor = Executors.newFixedThreadPool(1, r -> {
        Thread t = new Thread(r, "raftkit-admin-client");
        t.setDaemon(true);
        return t;
    });
    private final EventLoopGroup loop = Endpoints.eventLoop(1, "raftkit-admin-netty");
    private final ManagedChannel channel;

    AdminClient(String hostPort, TlsConfig tls) {
        channel = Endpoints.channel(HostPort.parse(hostPort, "node address"), loop, executor, 4 << 20, tls);
    }

    RaftAdminServiceGrpc.RaftAdminServiceFutureStub stub() {
        return RaftAdminServiceGrpc.newFutureStub(channel);
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
    }
}
