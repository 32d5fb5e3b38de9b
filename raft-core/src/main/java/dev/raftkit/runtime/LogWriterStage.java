package dev.raftkit.runtime;

import dev.raftkit.core.Ready;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.message.Message;
import dev.raftkit.spi.LogStorage;
import dev.raftkit.spi.LogWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * The log-writer thread: the only caller of {@link LogWriter}. Each round drains every queued
 * Ready, writes them in order (snapshot, entries, hard state: Ready contract point 2), makes them
 * durable with one {@code sync()} (group commit), then sends their after-persist messages (votes,
 * append acknowledgements: §3.8) and acknowledges the last one to the raft loop (point 3).
 * A failed write or sync is fail-stop (point 6): nothing of the batch is acknowledged or sent.
 *
 * <p>Compactions queued by the snapshot pool run after the batch's sync; they only drop entries a
 * durable snapshot covers, and none at or after the log-retention pin ({@link RaftServer#retainLogFrom}).
 */
final class LogWriterStage implements PersistQueue {

    private record Compact(SnapshotMeta snapshot) {
    }

    private static final Object STOP = new Object();

    /** Who reads {@link LogStorage#firstIndex}, too: to skip a compaction an installed snapshot overtook. */
    private final LogStorage log;
    private final PeerSend peers;
    private final ControlPort loop;
    private final LongSupplier retainedFrom;
    private final Lifecycle lifecycle;
    /** logSynced, once per group commit. */
    private final SafeMetrics metrics;
    private final Stage stage;
    private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private boolean stopped;

    /**
     * Only what the writer may use (docs/threads.md, the log-writer row).
     *
     * @param log          the log; this stage is the only caller of its {@link LogWriter} face
     * @param peers        sends after-persist messages (votes, acknowledgements) once durable
     * @param loop         the raft loop's control queue: Persisted, Compacted
     * @param retainedFrom the backup pin ({@link RaftServer#logRetainedFrom()}), read at each compaction
     * @param lifecycle    fail-stop
     * @param metrics      where each sync's duration, entries and bytes go
     */
    LogWriterStage(long id, Executor executor, LogStorage log, PeerSend peers, ControlPort loop,
                   LongSupplier retainedFrom, Lifecycle lifecycle, SafeMetrics metrics) {
        this.log = log;
        this.peers = peers;
        this.loop = loop;
        this.retainedFrom = retainedFrom;
        this.lifecycle = lifecycle;
        this.metrics = metrics;
        this.stage = new Stage("log-writer-" + id, executor, this::round, () -> !queue.isEmpty(),
                t -> lifecycle.fail(t, "the log writer (writing or syncing the log)"));
    }

    @Override
    public void persist(Ready ready) {
        queue.add(ready);
        stage.signal();
    }

    void compact(SnapshotMeta snapshot) {
        queue.add(new Compact(snapshot));
        stage.signal();
    }

    @Override
    public void stop() {
        queue.add(STOP);
        stage.signal();
    }

    void signal() {
        stage.signal();
    }

    CompletableFuture<Void> drained() {
        return drained;
    }

    private boolean round() throws Exception {
        if (stopped || lifecycle.failure() != null) {
            queue.clear();
            drained.complete(null);
            return false;
        }
        boolean sync = false;
        boolean stop = false;
        long lastNumber = -1;
        List<Message> afterPersist = null;
        List<Compact> compactions = null;
        int entries = 0;
        long bytes = 0;
        Object task;
        while ((task = queue.poll()) != null) {
            if (task instanceof Ready r) {
                if (r.snapshot() != null) {
                    log.installSnapshot(r.snapshot());
                }
                if (!r.entries().isEmpty()) {
                    log.append(r.entries());
                    if (metrics.enabled) {
                        entries += r.entries().size();
                        for (int i = 0; i < r.entries().size(); i++) {
                            bytes += r.entries().get(i).sizeBytes();
                        }
                    }
                }
                if (r.hardState() != null) {
                    log.setHardState(r.hardState());
                }
                sync |= r.mustSync();
                lastNumber = r.number();
                if (!r.messagesAfterPersist().isEmpty()) {
                    if (afterPersist == null) {
                        afterPersist = new ArrayList<>();
                    }
                    afterPersist.addAll(r.messagesAfterPersist());
                }
            } else if (task instanceof Compact c) {
                if (compactions == null) {
                    compactions = new ArrayList<>();
                }
                compactions.add(c);
            } else if (task == STOP) {
                stop = true;
                break;
            }
        }
        if (sync || stop) {
            // One fsync for every Ready of the batch (group commit). On stop, also the hard states
            // whose commit-only changes needed none, so a restart resumes exactly here.
            long start = metrics.enabled ? System.nanoTime() : 0;
            log.sync();
            if (metrics.enabled) {
                metrics.logSynced(System.nanoTime() - start, entries, bytes);
            }
        }
        if (compactions != null) {
            for (Compact c : compactions) {
                // A snapshot installed from the leader may already have moved the log past it.
                if (c.snapshot().index() >= log.firstIndex()) {
                    // A backup's pin, read now: entries it needs must outlive this compaction.
                    log.compact(c.snapshot(), retainedFrom.getAsLong());
                    // Compaction enters the core through step, like every other input.
                    loop.post(new LoopInput.Compacted(c.snapshot()));
                }
            }
        }
        if (afterPersist != null) {
            peers.send(afterPersist);
        }
        if (lastNumber > 0) {
            loop.post(new LoopInput.Persisted(lastNumber));
        }
        if (stop) {
            stopped = true;
            drained.complete(null);
        }
        return false;
    }
}
