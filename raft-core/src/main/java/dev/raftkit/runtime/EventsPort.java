package dev.raftkit.runtime;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The events executor as the stages may use it (docs/threads.md, the events row): listener
 * callbacks in order, and completing futures off the raft threads so a caller's callback never
 * runs on, or stalls, a thread that owns state.
 */
interface EventsPort {

    /** The executor itself, for a stage that batches its own completions ({@link Replies}). */
    Executor executor();

    /** The embedder's listeners, to call back through {@link #event}. */
    List<RaftListener> listeners();

    /** Runs an observer callback on the events executor; a callback that throws is logged and ignored. */
    void event(Runnable r);

    /** Completes {@code f} with {@code value} on the events executor (here, if it is gone). */
    void complete(CompletableFuture<?> f, Object value);

    /** Fails {@code f} on the events executor (here, if it is gone). */
    void completeExceptionally(CompletableFuture<?> f, Throwable t);
}
