package dev.raftkit.grpc;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts a listener's open connections per remote host and in all, and closes a connection beyond
 * either cap the moment it is accepted, before gRPC allocates anything for it (see
 * {@link ConnectionLimits}). Implemented as the listener's NIO server channel because gRPC offers
 * no hook between accept and its own handshake; a {@code ServerTransportFilter} sees a connection
 * only after its handshake, which is exactly what a half-open connection never completes.
 */
final class ConnectionCap {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionCap.class);
    /** Refusals in a row handled in one read, so a flood cannot hold the event loop. */
    private static final int MAX_REFUSED_PER_READ = 64;

    private final String what;
    private final int perHost;
    private final int total;
    private final Map<String, Integer> open = new ConcurrentHashMap<>();
    private final AtomicInteger openTotal = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final LogThrottle throttle = new LogThrottle();

    ConnectionCap(String what, int perHost, int total) {
        this.what = what;
        this.perHost = perHost;
        this.total = total;
    }

    /** A new server channel counting against this cap (one per listening socket). */
    ServerChannel newChannel() {
        return new CappedServerChannel();
    }

    /** Connections refused so far (for tests). */
    int refused() {
        return refused.get();
    }

    /** True (and counted) if a connection from {@code remote} may stay open. */
    private boolean admit(SocketAddress remote) {
        String host = RemoteAddressInterceptor.host(remote);
        // Accepts run on the listener's event loop, releases on any: count atomically per host.
        int forHost = open.merge(host, 1, Integer::sum);
        int all = openTotal.incrementAndGet();
        if (forHost <= perHost && all <= total) {
            return true;
        }
        release(host);
        refused.incrementAndGet();
        String why = what + " closed a new connection from " + remote + ": "
                + (forHost > perHost ? perHost + " connections from " + host + " are open already"
                        : total + " connections are open already")
                + " (the limit); a client or peer that needs more should reuse its connections";
        if (throttle.shouldLog("cap:" + host)) {
            LOG.warn(why);
        } else {
            LOG.debug(why);
        }
        return false;
    }

    private void release(String host) {
        openTotal.decrementAndGet();
        open.computeIfPresent(host, (h, n) -> n <= 1 ? null : n - 1);
    }

    /** The listening channel: accepts as Netty's does, then applies the cap. */
    private final class CappedServerChannel extends NioServerSocketChannel {
        @Override
        protected int doReadMessages(List<Object> buf) throws Exception {
            for (int refusedHere = 0; refusedHere < MAX_REFUSED_PER_READ; refusedHere++) {
                int before = buf.size();
                int n = super.doReadMessages(buf);
                if (n <= 0) {
                    return n;
                }
                Channel child = (Channel) buf.get(before);
                SocketAddress remote = child.remoteAddress();
                if (admit(remote)) {
                    String host = RemoteAddressInterceptor.host(remote);
                    child.closeFuture().addListener(f -> release(host));
                    return n;
                }
                buf.remove(before);
                // Not registered with an event loop yet: close the socket directly, as Netty does
                // with a child it cannot register.
                child.unsafe().closeForcibly();
            }
            return 0;
        }
    }
}
