package dev.raftkit.runtime;

import dev.raftkit.runtime.ApplyInput.Pending;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * The client outcomes one apply round settled (results, session refusals, read answers), handed
 * to the events executor in one task at the end of the round, in the order they were settled. A
 * future's callbacks run on the thread that completes it; completing on the apply thread would let
 * a caller's callback (or a client endpoint building its reply there) stall the state machine, so
 * the apply thread only decides outcomes and never runs what waits on them. One task per round,
 * not per future, because every cross-thread hand-off costs tens of microseconds (docs/threads.md).
 */
final class Replies {

    private record Outcome(CompletableFuture<?> future, Object value, Throwable error) {
    }

    private final Executor events;
    /** Counts the refusals settled here (session refusals, unknown outcomes), on the apply thread. */
    private final SafeMetrics metrics;
    private List<Outcome> settled = new ArrayList<>();

    /**
     * @param events  where futures complete: the server's events executor
     * @param metrics counts each refusal as it is settled
     */
    Replies(Executor events, SafeMetrics metrics) {
        this.events = events;
        this.metrics = metrics;
    }

    /** Completes {@code p}'s future with {@code value} at the next {@link #flush()}; null {@code p}: no one waits. */
    void complete(Pending p, Object value) {
        if (p != null) {
            settled.add(new Outcome(p.future(), value, null));
        }
    }

    /** Fails {@code p}'s future at the next {@link #flush()}; null {@code p}: no one waits. */
    void fail(Pending p, Throwable t) {
        if (p != null) {
            metrics.refused(t);
            settled.add(new Outcome(p.future(), null, t));
        }
    }

    void complete(CompletableFuture<?> f, Object value) {
        settled.add(new Outcome(f, value, null));
    }

    void fail(CompletableFuture<?> f, Throwable t) {
        metrics.refused(t);
        settled.add(new Outcome(f, null, t));
    }

    /** Hands what this round settled to the events executor (at once on this thread if it is gone). */
    void flush() {
        if (settled.isEmpty()) {
            return;
        }
        List<Outcome> batch = settled;
        settled = new ArrayList<>();
        try {
            events.execute(() -> settle(batch));
        } catch (RejectedExecutionException stopped) {
            // The events executor is gone with the server: nothing is left to protect.
            settle(batch);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void settle(List<Outcome> batch) {
        for (Outcome o : batch) {
            if (o.error() != null) {
                o.future().completeExceptionally(o.error());
            } else {
                ((CompletableFuture) o.future()).complete(o.value());
            }
        }
    }
}
