package dev.raftkit.runtime;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.AppliedConfChange;
import dev.raftkit.core.log.Entry;
import dev.raftkit.spi.SnapshotDescriptor;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** What reaches the apply thread, in the order the raft loop took its Readys. */
sealed interface ApplyInput {

    /**
     * One Ready's work for the apply thread: first register the futures of entries proposed since
     * the last task, then restore {@code snapshot} if any (§5: before any later entry), then apply
     * {@code committed} (with the core's decision on each configuration change among them,
     * {@code confChanges}), then queue {@code reads}.
     */
    record Task(List<Pending> pendings, SnapshotMeta snapshot, List<Entry> committed,
                List<AppliedConfChange> confChanges, List<ReadWaiter> reads) implements ApplyInput {
    }

    /**
     * A {@link Task} with the time ({@link System#nanoTime()}) the raft loop handed it over, for
     * the apply-latency measurement; only when metrics are on, so the default path wraps nothing.
     */
    record Timed(Task task, long handedAtNanos) implements ApplyInput {
    }

    /**
     * A read served locally once the state machine has applied {@code index}; a null {@code query}
     * is a barrier, answered with the index itself.
     */
    record ReadWaiter(long index, byte[] query, CompletableFuture<?> future, long createdTick) implements ApplyInput {
    }

    /** Fails reads that waited longer than the read timeout; {@code tick} is the loop's tick count. */
    record Sweep(long tick) implements ApplyInput {
    }

    /**
     * Take a snapshot at the applied index now, thresholds or not; {@code future} gets what the
     * store committed. A null future only wakes the apply thread (a snapshot write finished).
     */
    record SnapshotNow(CompletableFuture<SnapshotDescriptor> future) implements ApplyInput {
    }

    /**
     * As {@link SnapshotNow}, and {@code future} also gets the state's digest and log time read at
     * the capture ({@link RaftServer#snapshotNowWithDigest()}).
     */
    record DigestedSnapshotNow(CompletableFuture<DigestedSnapshot> future) implements ApplyInput {
    }

    /** Read the applied index, log time and the state machine's digest together, between two batches. */
    record DigestNow(CompletableFuture<StateDigestAt> future) implements ApplyInput {
    }

    /** Graceful shutdown: apply what is queued, then fail whatever still waits. */
    record Stop() implements ApplyInput {
    }

    /** What a proposed entry's future waits for. */
    enum Kind { COMMAND, OPEN_SESSION, CLOSE_SESSION, CONF_CHANGE }

    /** A client future waiting for the entry the core placed at {@code index} in {@code term}. */
    record Pending(long index, long term, Kind kind, CompletableFuture<?> future) {
    }
}
