package dev.raftkit.testkit.runtime;

import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.Transport;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * An in-memory network of {@link Transport}s for tests, with fault hooks: cut a directed link,
 * isolate a node, partition the cluster, or drop messages by a predicate. Messages are delivered
 * synchronously into the receiver's inbox (which never blocks); snapshots stream on the network's
 * own threads, chunk by chunk, like a real transport.
 */
public final class LocalNetwork implements AutoCloseable {

    private record Link(long from, long to) {
    }

    private final Map<Long, LocalTransport> nodes = new ConcurrentHashMap<>();
    private final Set<Link> cut = ConcurrentHashMap.newKeySet();
    private final Set<Long> isolated = ConcurrentHashMap.newKeySet();
    private volatile Predicate<Message> drop = m -> false;
    private final ExecutorService streams = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "local-network-snapshots");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    /** A new transport for node {@code id}; it joins the network when the server starts it. */
    public Transport transport(long id) {
        return new LocalTransport(id);
    }

    /** Drops every message from {@code from} to {@code to} (one direction). */
    public void cut(long from, long to) {
        cut.add(new Link(from, to));
    }

    /** Cuts every link to and from {@code id}, including to nodes that join later. */
    public void isolate(long id) {
        isolated.add(id);
    }

    /** Splits the nodes into two sides that cannot talk to each other. */
    public void partition(Set<Long> side, Set<Long> otherSide) {
        for (long a : side) {
            for (long b : otherSide) {
                cut(a, b);
                cut(b, a);
            }
        }
    }

    /** Also drops every message {@code predicate} accepts. */
    public void dropIf(Predicate<Message> predicate) {
        this.drop = predicate;
    }

    /** Restores every link and stops dropping. */
    public void heal() {
        cut.clear();
        isolated.clear();
        drop = m -> false;
    }

    public long delivered() {
        return delivered.get();
    }

    public long dropped() {
        return dropped.get();
    }

    private boolean blocked(long from, Message m) {
        return isolated.contains(from) || isolated.contains(m.to()) || cut.contains(new Link(from, m.to()))
                || drop.test(m);
    }

    @Override
    public void close() {
        streams.shutdownNow();
    }

    private final class LocalTransport implements Transport {
        private final long id;
        private volatile Inbound inbound;
        private volatile boolean closed;

        LocalTransport(long id) {
            this.id = id;
        }

        @Override
        public void start(Inbound inbound) {
            this.inbound = inbound;
            nodes.put(id, this);
        }

        @Override
        public void send(List<Message> messages) {
            if (closed) {
                return;
            }
            for (Message m : messages) {
                LocalTransport target = nodes.get(m.to());
                if (target == null || target.closed || blocked(id, m)) {
                    dropped.incrementAndGet();
                    continue;
                }
                delivered.incrementAndGet();
                target.inbound.receive(m);
            }
        }

        @Override
        public CompletableFuture<Void> sendSnapshot(InstallSnapshot message, SnapshotReader data) {
            return CompletableFuture.runAsync(() -> {
                try (data) {
                    LocalTransport target = nodes.get(message.to());
                    if (closed || target == null || target.closed || blocked(id, message)) {
                        throw new IOException("node " + message.to() + " is unreachable from node " + id);
                    }
                    try (SnapshotWriter w = target.inbound.beginSnapshot(message)) {
                        OutputStream out = w.output();
                        long offset = 0;
                        for (byte[] chunk = data.chunk(0, 64 * 1024); chunk.length > 0;
                             chunk = data.chunk(offset, 64 * 1024)) {
                            out.write(chunk);
                            offset += chunk.length;
                        }
                        if (offset != data.descriptor().sizeBytes()) {
                            throw new IOException("snapshot stream ended at " + offset + " of "
                                    + data.descriptor().sizeBytes() + " bytes");
                        }
                        w.commit();
                    }
                    target.inbound.receive(message);
                } catch (Exception e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, streams);
        }

        @Override
        public void close() {
            closed = true;
            nodes.remove(id, this);
        }
    }
}
