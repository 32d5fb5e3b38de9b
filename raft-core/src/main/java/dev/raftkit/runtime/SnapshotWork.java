package dev.raftkit.runtime;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.StateMachine;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshot pool's work: writing local snapshots (then asking the log writer to compact),
 * streaming snapshots to lagging followers, and receiving them from the leader. Everything here
 * may block on I/O; none of it runs on the raft loop, the log writer or the apply thread.
 */
final class SnapshotWork {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotWork.class);

    private final RaftServer server;
    private final Executor pool;
    /** Snapshots this server wrote or received, by last entry: what the core may ask to send or install. */
    private final Map<EntryId, SnapshotDescriptor> known = new ConcurrentHashMap<>();
    private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();

    SnapshotWork(RaftServer server, Executor pool) {
        this.server = server;
        this.pool = pool;
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
            Optional<SnapshotDescriptor> latest = server.snapshotStore.latest();
            return latest.filter(l -> l.meta().last().equals(last)).orElse(null);
        } catch (IOException e) {
            LOG.warn("node {}: cannot list snapshots: {}", server.id, e.toString());
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
            try (image; SnapshotWriter w = server.snapshotStore.begin(meta)) {
                OutputStream out = w.output();
                out.write(header);
                image.writeTo(out);
                out.flush();
                SnapshotDescriptor d = w.commit();
                stored = d;
                known.put(meta.last(), d);
                server.snapshotStore.retain(server.settings.snapshotsToKeep());
                forgetOlderThanKept();
                server.writer.compact(meta);
                LOG.debug("node {} took snapshot {} ({} bytes)", server.id, meta.last(), d.sizeBytes());
                for (RaftListener l : server.listeners()) {
                    server.event(() -> l.onSnapshotTaken(d));
                }
            } catch (IOException | RuntimeException e) {
                error = e;
                LOG.warn("node {}: writing snapshot {} failed ({}); the previous snapshot stays, the next threshold"
                        + " tries again", server.id, meta.last(), e.toString());
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
            done.accept(null, server.stoppedException());
            inFlight.remove(f);
            f.complete(null);
        }
    }

    private void forgetOlderThanKept() {
        int keep = server.settings.snapshotsToKeep() + 2;
        while (known.size() > keep) {
            known.keySet().stream().min((a, b) -> Long.compare(a.index(), b.index())).ifPresent(known::remove);
        }
    }

    /** Leader: streams the snapshot {@code m} names to its recipient, then reports to the core. */
    void send(InstallSnapshot m) {
        try {
            pool.execute(() -> {
                SnapshotDescriptor d = find(m.snapshot().last());
                if (d == null) {
                    LOG.warn("node {}: cannot send snapshot {} to node {}: no longer stored; the core retries with"
                            + " a newer one", server.id, m.snapshot().last(), m.to());
                    report(m.to(), false);
                    return;
                }
                SnapshotReader reader;
                try {
                    reader = server.snapshotStore.open(d);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("node {}: cannot open snapshot {} for node {}: {}", server.id, d.meta().last(), m.to(),
                            e.toString());
                    report(m.to(), false);
                    return;
                }
                server.transport.sendSnapshot(m, reader).whenComplete((v, e) -> {
                    if (e != null) {
                        LOG.info("node {}: streaming snapshot {} to node {} failed: {}", server.id,
                                d.meta().last(), m.to(), e.toString());
                    }
                    report(m.to(), e == null);
                });
            });
        } catch (java.util.concurrent.RejectedExecutionException stopped) {
            // Shutting down.
        }
    }

    private void report(long peer, boolean ok) {
        server.loop.post(new LoopInput.SnapshotReport(peer, ok));
    }

    /**
     * Follower: where the transport writes an incoming snapshot. The returned writer remembers
     * the descriptor on commit, so the apply thread can find the snapshot when the core installs it.
     */
    SnapshotWriter beginReceive(InstallSnapshot m) throws IOException {
        SnapshotWriter w = server.snapshotStore.begin(m.snapshot());
        return new SnapshotWriter() {
            @Override
            public OutputStream output() {
                return w.output();
            }

            @Override
            public SnapshotDescriptor commit() throws IOException {
                SnapshotDescriptor d = w.commit();
                known.put(d.meta().last(), d);
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
