package dev.raftkit.grpc;

import dev.raftkit.runtime.SizeLimits;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Settings of a {@link GrpcTransport}. Build with {@link #builder(String, long)}; every setting
 * but the cluster id and the node id has a default suited to a LAN.
 *
 * @param clusterId            stamped on every message; messages of other clusters are refused
 * @param nodeId               this node's id (positive)
 * @param listen               where to accept peers; port 0 picks a free port (see
 *                             {@link GrpcTransport#localAddress()})
 * @param peers                the other nodes' addresses (more can be added with
 *                             {@link GrpcTransport#addPeer}); messages from nodes not listed are refused
 * @param maxMessageBytes      the largest message accepted from a peer, and the largest one sent
 *                             (larger ones are dropped with a log line): keep the core's max
 *                             append size well below it, and at least
 *                             {@link SizeLimits#peerMessageBytes} of the server's
 *                             {@code maxCommandBytes} (default {@value SizeLimits#DEFAULT_PEER_MESSAGE_BYTES})
 * @param queueMessages        messages queued per peer and lane before send drops
 * @param queueBytes           bytes ({@link dev.raftkit.core.message.Message#sizeBytes}) queued per
 *                             peer on the append lane before send drops
 * @param backoffMin           first reconnect delay after a failed stream
 * @param backoffMax           the reconnect delay doubles up to this
 * @param snapshotChunkBytes   bytes per snapshot chunk (below {@code maxMessageBytes})
 * @param ioThreads            threads running gRPC callbacks and the send queues
 * @param eventLoopThreads     Netty event-loop threads (sockets) shared by server and clients
 * @param tls                  TLS settings, or null for plaintext
 */
public record GrpcTransportConfig(String clusterId, long nodeId, InetSocketAddress listen,
                                  Map<Long, InetSocketAddress> peers, int maxMessageBytes,
                                  int queueMessages, long queueBytes, Duration backoffMin, Duration backoffMax,
                                  int snapshotChunkBytes, int ioThreads, int eventLoopThreads, TlsConfig tls) {

    public GrpcTransportConfig {
        MessageCodec.checkClusterId(clusterId);
        if (nodeId <= 0) {
            throw new IllegalArgumentException("node id must be positive, got " + nodeId);
        }
        Objects.requireNonNull(listen, "listen");
        peers = Map.copyOf(peers);
        if (peers.containsKey(nodeId)) {
            throw new IllegalArgumentException("peers must not list this node itself (" + nodeId + ")");
        }
        positive(maxMessageBytes, "maxMessageBytes");
        positive(queueMessages, "queueMessages");
        positive(queueBytes, "queueBytes");
        positive(ioThreads, "ioThreads");
        positive(eventLoopThreads, "eventLoopThreads");
        if (backoffMin.isNegative() || backoffMin.isZero() || backoffMax.compareTo(backoffMin) < 0) {
            throw new IllegalArgumentException("need 0 < backoffMin <= backoffMax, got " + backoffMin + " and " + backoffMax);
        }
        // Room for the chunk's framing (offset, checksum, tags) under the receiver's limit.
        if (snapshotChunkBytes < 1024 || snapshotChunkBytes > maxMessageBytes - 64) {
            throw new IllegalArgumentException("snapshotChunkBytes must be between 1024 and maxMessageBytes - 64 ("
                    + (maxMessageBytes - 64) + "), got " + snapshotChunkBytes);
        }
        if (tls != null) {
            tls.checkReadable();
        }
    }

    private static void positive(long value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    public static Builder builder(String clusterId, long nodeId) {
        return new Builder(clusterId, nodeId);
    }

    /** Builder with LAN defaults; see the record's parameters. */
    public static final class Builder {
        private final String clusterId;
        private final long nodeId;
        private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 0);
        private final Map<Long, InetSocketAddress> peers = new TreeMap<>();
        private int maxMessageBytes = SizeLimits.DEFAULT_PEER_MESSAGE_BYTES;
        private int queueMessages = 4096;
        private long queueBytes = 64L << 20;
        private Duration backoffMin = Duration.ofMillis(50);
        private Duration backoffMax = Duration.ofSeconds(2);
        private int snapshotChunkBytes = 256 << 10;
        private int ioThreads = 2;
        private int eventLoopThreads = 1;
        private TlsConfig tls;

        private Builder(String clusterId, long nodeId) {
            this.clusterId = clusterId;
            this.nodeId = nodeId;
        }

        public Builder listen(InetSocketAddress listen) {
            this.listen = listen;
            return this;
        }

        public Builder peer(long id, InetSocketAddress address) {
            peers.put(id, address);
            return this;
        }

        public Builder maxMessageBytes(int bytes) {
            this.maxMessageBytes = bytes;
            return this;
        }

        public Builder queue(int messages, long bytes) {
            this.queueMessages = messages;
            this.queueBytes = bytes;
            return this;
        }

        public Builder backoff(Duration min, Duration max) {
            this.backoffMin = min;
            this.backoffMax = max;
            return this;
        }

        public Builder snapshotChunkBytes(int bytes) {
            this.snapshotChunkBytes = bytes;
            return this;
        }

        public Builder threads(int io, int eventLoop) {
            this.ioThreads = io;
            this.eventLoopThreads = eventLoop;
            return this;
        }

        public Builder tls(TlsConfig tls) {
            this.tls = tls;
            return this;
        }

        public GrpcTransportConfig build() {
            return new GrpcTransportConfig(clusterId, nodeId, listen, peers, maxMessageBytes, queueMessages,
                    queueBytes, backoffMin, backoffMax, snapshotChunkBytes, ioThreads, eventLoopThreads, tls);
        }
    }
}
