package dev.raftkit.grpc;

import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.Message;
import io.grpc.ManagedChannel;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Everything this node keeps to send to one peer: its address, one gRPC channel (one HTTP/2
 * connection, created lazily), and two {@link SendLane}s on it: {@code control} for small
 * messages and {@code bulk} for appends that carry entries.
 */
final class PeerLink {

    private final GrpcTransport transport;
    private final long peer;
    private final InetSocketAddress address;
    private final SendLane control;
    private final SendLane bulk;
    private volatile ManagedChannel channel;
    private volatile boolean closed;

    PeerLink(GrpcTransport transport, long peer, InetSocketAddress address) {
        this.transport = transport;
        this.peer = peer;
        this.address = address;
        GrpcTransportConfig c = transport.config();
        this.control = new SendLane(this, "control", c.queueMessages(), Long.MAX_VALUE);
        this.bulk = new SendLane(this, "append", c.queueMessages(), c.queueBytes());
    }

    GrpcTransport transport() {
        return transport;
    }

    long peer() {
        return peer;
    }

    InetSocketAddress address() {
        return address;
    }

    /** Queues {@code m} on its lane; false if it was dropped. */
    boolean offer(Message m) {
        boolean bulky = m instanceof AppendEntries a && !a.slice().isEmpty();
        return (bulky ? bulk : control).offer(m);
    }

    ManagedChannel channel() {
        ManagedChannel c = channel;
        if (c == null) {
            synchronized (this) {
                c = channel;
                if (c == null) {
                    if (closed) {
                        throw new IllegalStateException("link to node " + peer + " is closed");
                    }
                    GrpcTransportConfig cfg = transport.config();
                    c = Endpoints.channel(address, transport.eventLoop(), transport.ioExecutor(),
                            cfg.maxMessageBytes(), transport.credentials());
                    channel = c;
                }
            }
        }
        return c;
    }

    /** Cancels the streams and closes the connection; idempotent. */
    void close() {
        ManagedChannel c;
        synchronized (this) {
            closed = true;
            c = channel;
        }
        control.close();
        bulk.close();
        if (c != null) {
            c.shutdownNow();
        }
    }

    /** Waits up to {@code millis} for the connection to be released. */
    void awaitClosed(long millis) throws InterruptedException {
        ManagedChannel c = channel;
        if (c != null) {
            c.awaitTermination(millis, TimeUnit.MILLISECONDS);
        }
    }
}
