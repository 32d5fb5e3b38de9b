package dev.raftkit.runtime;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.spi.ResumableSnapshotWriter;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotStore;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.StateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshot pool's work: writing local snapshots (then asking the log writer to compact),
 * streaming snapshots to lagging followers, and receiving them from the leader. Everything here
 * may block on I/O; none of it runs on the raft loop, the log writer or the apply thread.
 */
final class SnapshotWork implements SnapshotStreams {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotWork.class);

    private final long id;
    private final Executor pool;
    private final SnapshotStore store;
    private final int snapshotsToKeep;
    private final SnapshotSend transport;
    /** The log writer's compaction queue. */
    private final Consumer<SnapshotMeta> compact;
    private final ControlPort loop;
    private final EventsPort events;
    private final Lifecycle lifecycle;
    /** snapshotCreated and snapshotSent, on the pool. */
    private final SafeMetrics metrics;
    /** Snapshots this server wrote or received, by last entry: what the core may ask to send or install. */
    private final Map<EntryId, SnapshotDescriptor> known = new ConcurrentHashMap<>();
    private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
    /**
     * Per follower, the image last streamed to it and how far any attempt got: a later attempt
     * that reads bytes below that mark is sending them again (counted as re-sent). Cleared when a
     * transfer succeeds; lost with the process (a restarted leader cannot know what it sent).
     */
    private final Map<Long, Streamed> streamed = new ConcurrentHashMap<>();

    /** The image streamed to a follower ({@link #streamed}) and the end of the furthest attempt. */
    private record Streamed(SnapshotDescriptor image, long highWater) {
    }

    /** Streams a stored snapshot to a follower: {@link dev.raftkit.spi.Transport#sendSnapshot} alone. */
    @FunctionalInterface
    interface SnapshotSend {
        CompletableFuture<Void> sendSnapshot(InstallSnapshot message, SnapshotReader data);
    }

    /**
     * Only what the pool may use (docs/threads.md, the snapshot-pool row).
     *
     * @param store     writes, retains, opens and lists snapshots
     * @param transport streams a snapshot to a lagging follower
     * @param compact   the log writer's compaction queue, after a snapshot is durable
     * @param loop      the raft loop's control queue: SnapshotReport
     * @param events    listener callbacks (onSnapshotTaken)
     * @param lifecycle the STOPPED refusal when the pool is gone
     * @param metrics   where each write's and each stream's duration and size go
     */
    SnapshotWork(long id, Executor pool, SnapshotStore store, int snapshotsToKeep, SnapshotSend transport,
                 Consumer<SnapshotMeta> compact, ControlPort loop, EventsPort events, Lifecycle lifecycle,
                 SafeMetrics metrics) {
        this.id = id;
        this.pool = pool;
        this.store = store;
        this.snapshotsToKeep = snapshotsToKeep;
        this.transport = transport;
        this.compact = compact;
        this.loop = loop;
        this.events = events;
        this.lifecycle = lifecycle;
        this.metrics = metrics;
    }

    /** Completes when no snapshot write is running (for shutdown). */
    CompletableFuture<Void> idle() {
        return CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new));
    }

    /** Records the stored snapshot the server started from, so a request for one at its index reuses it. */
    void remember(SnapshotDescriptor d) {
        known.put(d.meta().last(), d);
    }

    /**
     * A snapshot this server started from, wrote or received whose last entry is {@code last}, or
     * null; no I/O. Any thread.
     */
    SnapshotDescriptor known(EntryId last) {
        return known.get(last);
    }

    /** The stored snapshot whose last entry is {@code last}, or null. Any thread. */
    SnapshotDescriptor find(EntryId last) {
        SnapshotDescriptor d = known.get(last);
        if (d != null) {
            return d;
        }
        try {
            Optional<SnapshotDescriptor> latest = store.latest();
            return latest.filter(l -> l.meta().last().equals(last)).orElse(null);
        } catch (IOException e) {
            LOG.warn("node {}: cannot list snapshots: {}", id, e.toString());
            return null;
        }
    }

    /**
     * Writes a captured image (header + state machine image) and, once durable, compacts the log
     * to it. A failed write is not fatal: the store keeps its previous snapshots and the next
     * threshold tries again.
     */
    void write(SnapshotMeta meta, byte[] header, StateMachine.Snapshot image,
               BiConsumer<SnapshotDescriptor, Throwable> done) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        inFlight.add(f);
        Runnable task = () -> {
            SnapshotDescriptor stored = null;
            Throwable error = null;
            long start = metrics.enabled ? System.nanoTime() : 0;
            try (image; SnapshotWriter w = store.begin(meta)) {
                OutputStream out = w.output();
                out.write(header);
                image.writeTo(out);
                out.flush();
                SnapshotDescriptor d = w.commit();
                if (metrics.enabled) {
                    metrics.snapshotCreated(System.nanoTime() - start, d.sizeBytes());
                }
                stored = d;
                known.put(meta.last(), d);
                store.retain(snapshotsToKeep);
                forgetOlderThanKept();
                compact.accept(meta);
                LOG.debug("node {} took snapshot {} ({} bytes)", id, meta.last(), d.sizeBytes());
                for (RaftListener l : events.listeners()) {
                    events.event(() -> l.onSnapshotTaken(d));
                }
            } catch (IOException | RuntimeException e) {
                error = e;
                LOG.warn("node {}: writing snapshot {} failed ({}); the previous snapshot stays, the next threshold"
                        + " tries again", id, meta.last(), e.toString());
            } finally {
                done.accept(error == null ? stored : null, error);
                inFlight.remove(f);
                f.complete(null);
            }
        };
        try {
            pool.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            image.close();
            done.accept(null, lifecycle.stoppedException());
            inFlight.remove(f);
            f.complete(null);
        }
    }

    private void forgetOlderThanKept() {
        int keep = snapshotsToKeep + 2;
        while (known.size() > keep) {
            known.keySet().stream().min((a, b) -> Long.compare(a.index(), b.index())).ifPresent(known::remove);
        }
    }

    /**
     * Leader, or a peer streaming its own snapshot at the leader's request ({@code m.fromPeer()}):
     * streams the snapshot {@code m} names to its recipient, then reports to the core (a peer's
     * core ignores the report; the leader learns of the outcome from the recipient's answer).
     */
    @Override
    public void send(InstallSnapshot m) {
        try {
            pool.execute(() -> {
                SnapshotDescriptor d = find(m.snapshot().last());
                if (d == null) {
                    LOG.warn("node {}: cannot send snapshot {} to node {}: no longer stored; the core retries with"
                            + " a newer one", id, m.snapshot().last(), m.to());
                    report(m.to(), false);
                    return;
                }
                SnapshotReader reader;
                try {
                    reader = store.open(d);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("node {}: cannot open snapshot {} for node {}: {}", id, d.meta().last(), m.to(),
                            e.toString());
                    report(m.to(), false);
                    return;
                }
                long start = metrics.enabled ? System.nanoTime() : 0;
                CountingReader counting = new CountingReader(m.to(), reader);
                transport.sendSnapshot(m, counting).whenComplete((v, e) -> {
                    if (e == null) {
                        streamed.remove(m.to());
                        if (counting.resent > 0 || counting.resumedAt > 0) {
                            LOG.info("node {}: snapshot {} delivered to node {} resumed at byte {} of {}; {} bytes"
                                    + " were sent again", id, d.meta().last(), m.to(), counting.resumedAt,
                                    d.sizeBytes(), counting.resent);
                        }
                    }
                    if (e == null && metrics.enabled) {
                        metrics.snapshotSent(m.to(), System.nanoTime() - start, d.sizeBytes());
                    }
                    if (e != null) {
                        LOG.info("node {}: streaming snapshot {} to node {} failed: {}", id,
                                d.meta().last(), m.to(), e.toString());
                    }
                    report(m.to(), e == null);
                });
            });
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            // Shutting down.
        }
    }

    /**
     * The reader a transport streams from, counting what it reads as sent (a transport sends each
     * chunk it reads): where an attempt starts (a resume when past 0, with a log line) and how
     * many of its bytes an earlier attempt to the same follower had already sent. Used by one
     * transport thread at a time, as any {@link SnapshotReader}.
     */
    private final class CountingReader implements SnapshotReader {
        private final long peer;
        private final SnapshotReader reader;
        private boolean started;
        long resumedAt;
        long resent;

        CountingReader(long peer, SnapshotReader reader) {
            this.peer = peer;
            this.reader = reader;
        }

        @Override
        public SnapshotDescriptor descriptor() {
            return reader.descriptor();
        }

        @Override
        public InputStream input() throws IOException {
            return reader.input();
        }

        @Override
        public byte[] chunk(long offset, int maxBytes) throws IOException {
            byte[] bytes = reader.chunk(offset, maxBytes);
            SnapshotDescriptor image = reader.descriptor();
            Streamed before = streamed.get(peer);
            long high = before != null && before.image().equals(image) ? before.highWater() : 0;
            if (!started) {
                started = true;
                if (offset > 0) {
                    resumedAt = offset;
                    LOG.info("node {}: resuming snapshot {} to node {} at byte {} of {} (the bytes before it were"
                            + " verified by the receiver)", id, image.meta().last(), peer, offset, image.sizeBytes());
                    if (metrics.enabled) {
                        metrics.snapshotResumed(peer, offset, image.sizeBytes());
                    }
                }
            }
            long end = offset + bytes.length;
            long again = Math.max(0, Math.min(end, high) - offset);
            resent += again;
            if (end > high || before == null || !before.image().equals(image)) {
                streamed.put(peer, new Streamed(image, Math.max(end, high)));
            }
            if (metrics.enabled && bytes.length > 0) {
                metrics.snapshotBytesSent(peer, bytes.length, again);
            }
            return bytes;
        }

        @Override
        public void verify() throws IOException {
            reader.verify();
        }

        @Override
        public void close() throws IOException {
            reader.close();
        }
    }

    private void report(long peer, boolean ok) {
        loop.post(new LoopInput.SnapshotReport(peer, ok));
    }

    /**
     * Follower: where the transport writes an incoming snapshot. The returned writer remembers
     * the descriptor on commit, so the apply thread can find the snapshot when the core installs it.
     */
    @Override
    public ResumableSnapshotWriter beginReceive(InstallSnapshot m, long sizeBytes, int crc32c) throws IOException {
        ResumableSnapshotWriter w = store.beginReceive(m.snapshot(), sizeBytes, crc32c);
        if (w.resumeOffset() > 0) {
            LOG.info("node {}: resuming the receipt of snapshot {} from node {} at byte {} of {}", id,
                    m.snapshot().last(), m.from(), w.resumeOffset(), sizeBytes);
        }
        return new ResumableSnapshotWriter() {
            @Override
            public long resumeOffset() {
                return w.resumeOffset();
            }

            @Override
            public void checkpoint() throws IOException {
                w.checkpoint();
            }

            @Override
            public void restart() throws IOException {
                w.restart();
            }

            @Override
            public void suspend() {
                w.suspend();
            }

            @Override
            public OutputStream output() {
                return w.output();
            }

            @Override
            public SnapshotDescriptor commit() throws IOException {
                SnapshotDescriptor d = w.commit();
                known.put(d.meta().last(), d);
                if (m.fromPeer()) {
                    metrics.snapshotReceivedFromPeer(m.from(), d.sizeBytes());
                }
                return d;
            }

            @Override
            public void abort() {
                w.abort();
            }

            @Override
            public void close() {
                w.close();
            }
        };
    }

    @Override
    public long resumePoint(InstallSnapshot m, long sizeBytes, int crc32c) throws IOException {
        return store.receivedBytes(m.snapshot(), sizeBytes, crc32c);
    }

    @Override
    public SnapshotWriter beginReceive(InstallSnapshot m) throws IOException {
        SnapshotWriter w = store.begin(m.snapshot());
        return new SnapshotWriter() {
            @Override
            public OutputStream output() {
                return w.output();
            }

            @Override
            public SnapshotDescriptor commit() throws IOException {
                SnapshotDescriptor d = w.commit();
                known.put(d.meta().last(), d);
                if (m.fromPeer()) {
                    metrics.snapshotReceivedFromPeer(m.from(), d.sizeBytes());
                }
                return d;
            }

            @Override
            public void abort() {
                w.abort();
            }

            @Override
            public void close() {
                w.close();
            }
        };
    }
}
