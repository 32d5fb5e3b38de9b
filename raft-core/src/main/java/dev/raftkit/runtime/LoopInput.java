package dev.raftkit.runtime;

import dev.raftkit.core.ReadMode;
import dev.raftkit.core.Status;
import dev.raftkit.core.confchange.ConfChange;
import java.util.concurrent.CompletableFuture;

/** What reaches the raft loop besides peer messages and ticks. Records, one per kind. */
sealed interface LoopInput {

    /** Client work, from the bounded client inbox. */
    sealed interface Client extends LoopInput {
        CompletableFuture<?> future();
    }

    /** A framed NORMAL entry to propose; the loop stamps the leader's clock into it. */
    record Propose(byte[] framed, CompletableFuture<?> future) implements Client {
    }

    /** A membership change; {@code force} skips the live-quorum check (never the catch-up check). */
    record ChangeConf(ConfChange change, boolean force, CompletableFuture<?> future) implements Client {
    }

    record Read(byte[] query, ReadMode mode, long minIndex, CompletableFuture<?> future) implements Client {
    }

    record Transfer(long to, CompletableFuture<?> future) implements Client {
    }

    record GetStatus(CompletableFuture<?> future) implements Client {
    }

    /** Committed entries [from, to] (to capped at the commit index), read on the loop that owns the log view. */
    record ReadCommitted(long from, long to, long maxBytes, CompletableFuture<?> future) implements Client {
    }

    /** Acknowledgements and reports from the runtime's own threads: never dropped, never bounded. */
    sealed interface Control extends LoopInput {
    }

    record Persisted(long readyNumber) implements Control {
    }

    record Applied(long index) implements Control {
    }

    record SnapshotReport(long peer, boolean ok) implements Control {
    }

    record Unreachable(long peer) implements Control {
    }

    /** The log writer compacted the log to {@code snapshot}: the core sends that one to laggards now. */
    record Compacted(dev.raftkit.core.SnapshotMeta snapshot) implements Control {
    }

    /** An InstallSnapshot whose bytes the transport already stored: never dropped like other messages. */
    record Deliver(dev.raftkit.core.message.InstallSnapshot message) implements Control {
    }

    /**
     * The log writer took {@code millis} for one {@code operation} (an append, a hard-state
     * write, a snapshot install or a sync), over {@code diskSlowMillis}: a leader steps down.
     */
    record DiskSlow(String operation, long millis) implements Control {
    }

    /**
     * The log writer's free-space poll: {@code usableBytes} free where the log lives
     * ({@code where}), for the free-space watermark ({@code minFreeDiskBytes}).
     */
    record DiskSpace(long usableBytes, String where) implements Control {
    }

    /** Graceful shutdown: stop stepping, hand out what is pending, then stop. */
    record Stop() implements Control {
    }

    /** A read waiting for its ReadIndex answer. */
    record PendingRead(byte[] query, long minIndex, CompletableFuture<?> future, long deadlineTick) {
    }
}
