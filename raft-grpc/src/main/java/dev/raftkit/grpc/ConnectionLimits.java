package dev.raftkit.grpc;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How a node's gRPC listener (peer or client port) bounds the connections it accepts, so that
 * connections nobody uses cannot pile up and starve the node (issue 12: 19,800 idle half-open
 * connections were accepted and never closed, and the node lost leadership under them).
 *
 * <ul>
 *   <li>A connection must finish its handshake (TLS, and HTTP/2's preface and settings) within
 *       {@code handshakeTimeout}, or it is closed.</li>
 *   <li>A connection with no RPC for {@code maxConnectionIdle} is closed gracefully (HTTP/2
 *       GOAWAY); a gRPC client reconnects by itself on its next call. Peer connections always
 *       carry their long-lived message streams, so they are never idle.</li>
 *   <li>The server pings a connection with RPCs that has been silent for {@code keepAliveTime}
 *       and closes it if the answer does not come within {@code keepAliveTimeout}: a peer or
 *       client that vanished without closing its socket is noticed.</li>
 *   <li>At most {@code maxConnectionsPerHost} connections from one remote IP address, and
 *       {@code maxConnections} in all, are open at once; a connection beyond either is closed
 *       as soon as it is accepted, with one throttled log line per host and interval.</li>
 *   <li>At most {@code maxCallsPerConnection} RPCs run at once on one connection (HTTP/2's
 *       {@code MAX_CONCURRENT_STREAMS}); a gRPC client queues further calls until one ends, so one
 *       connection cannot hold unbounded server state with calls it never finishes.</li>
 * </ul>
 *
 * <p>The defaults never hurt a real cluster: a peer opens one connection (two lanes on it) to
 * each node, a {@link RaftClient} one per node it talks to.
 *
 * @param handshakeTimeout      how long a new connection may take to finish its handshake
 * @param maxConnectionIdle     how long a connection may have no RPC before it is closed
 * @param keepAliveTime         silence on a connection after which the server pings it
 * @param keepAliveTimeout      how long the server waits for the ping's answer
 * @param maxConnectionsPerHost connections accepted at once from one remote IP address
 * @param maxConnections        connections accepted at once in all
 * @param maxCallsPerConnection RPCs open at once on one connection
 */
public record ConnectionLimits(Duration handshakeTimeout, Duration maxConnectionIdle, Duration keepAliveTime,
                               Duration keepAliveTimeout, int maxConnectionsPerHost, int maxConnections,
                               int maxCallsPerConnection) {

    public ConnectionLimits {
        positive(handshakeTimeout, "handshakeTimeout");
        positive(maxConnectionIdle, "maxConnectionIdle");
        positive(keepAliveTime, "keepAliveTime");
        positive(keepAliveTimeout, "keepAliveTimeout");
        if (maxConnectionsPerHost < 1 || maxConnections < maxConnectionsPerHost) {
            throw new IllegalArgumentException("need 1 <= maxConnectionsPerHost <= maxConnections, got "
                    + maxConnectionsPerHost + " and " + maxConnections);
        }
        if (maxCallsPerConnection < 1) {
            throw new IllegalArgumentException("maxCallsPerConnection must be positive, got " + maxCallsPerConnection);
        }
    }

    /**
     * For a peer port: 10 s handshake, 5 min idle, 30 s keep-alive with 10 s to answer, 64
     * connections per host and 1,024 in all, 64 calls per connection. A node needs one connection
     * to each peer, two while it reconnects, but several nodes may share a host or reach us through
     * one proxy (the Jepsen harness), and a connection cut by a partition lingers until the
     * keep-alive notices; a peer's connection carries two message streams and a snapshot transfer.
     */
    public static ConnectionLimits peerDefaults() {
        return new ConnectionLimits(Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ofSeconds(30),
                Duration.ofSeconds(10), 64, 1024, 64);
    }

    /**
     * For a client port: as for peers, but 1,024 connections per host (many clients may run on one
     * application server, behind one NAT address), 8,192 in all, and 16,384 calls per connection
     * (a {@link RaftClient} pipelines its commands on one connection per node).
     */
    public static ConnectionLimits clientDefaults() {
        return new ConnectionLimits(Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ofSeconds(30),
                Duration.ofSeconds(10), 1024, 8192, 16_384);
    }

    /** These limits with another handshake timeout and idle time (tests use short ones). */
    public ConnectionLimits withTimeouts(Duration handshake, Duration idle) {
        return new ConnectionLimits(handshake, idle, keepAliveTime, keepAliveTimeout, maxConnectionsPerHost,
                maxConnections, maxCallsPerConnection);
    }

    /** These limits with other connection caps. */
    public ConnectionLimits withCaps(int perHost, int total) {
        return new ConnectionLimits(handshakeTimeout, maxConnectionIdle, keepAliveTime, keepAliveTimeout, perHost,
                total, maxCallsPerConnection);
    }

    /** These limits with another cap on the calls open at once per connection. */
    public ConnectionLimits withMaxCallsPerConnection(int calls) {
        return new ConnectionLimits(handshakeTimeout, maxConnectionIdle, keepAliveTime, keepAliveTimeout,
                maxConnectionsPerHost, maxConnections, calls);
    }

    /**
     * Applies the limits to {@code b}; {@code what} names the listener in log lines ("node 3's peer
     * port"). Replaces the builder's channel type with a capped NIO server channel.
     */
    NettyServerBuilder applyTo(NettyServerBuilder b, String what) {
        ConnectionCap cap = new ConnectionCap(what, maxConnectionsPerHost, maxConnections);
        return b.channelFactory(cap::newChannel)
                .handshakeTimeout(handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .maxConnectionIdle(maxConnectionIdle.toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTime(keepAliveTime.toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(keepAliveTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .maxConcurrentCallsPerConnection(maxCallsPerConnection);
    }

    private static void positive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be a positive duration, got " + d);
        }
    }
}
