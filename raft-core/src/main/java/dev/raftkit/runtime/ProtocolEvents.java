package dev.raftkit.runtime;

import dev.raftkit.core.Tracer;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the core's trace events and the runtime's own to the listeners that want them
 * ({@link RaftListener#onProtocolEvent}), on the events executor. Built only when some listener
 * wants them, so a server without one pays nothing beyond the embedder's own tracer.
 *
 * <p>Called on the raft loop (and, during start-up recovery, on the caller's thread before the
 * loop runs): it only stamps the event and enqueues it. The queue is bounded: with
 * {@code bound} events not yet delivered, further events are dropped and counted, never waited
 * for, and the next event that fits is preceded by one {@link ProtocolEvent#GAP} marker saying
 * how many were lost, so a slow listener costs events, never the loop's progress or memory.
 */
final class ProtocolEvents implements Tracer {

    private static final Logger LOG = LoggerFactory.getLogger(ProtocolEvents.class);

    private final long node;
    private final Clock clock;
    private final Executor events;
    private final List<RaftListener> wanting;
    private final Tracer downstream;
    private final int bound;
    /** Events handed to the events executor and not yet delivered. */
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong droppedTotal = new AtomicLong();
    /** Dropped since the last gap marker; an atomic only because recovery and the loop both publish. */
    private final AtomicLong droppedInGap = new AtomicLong();
    /** The core's term, read on the thread that steps it; unknown until the core exists. */
    private volatile LongSupplier term = () -> ProtocolEvent.NO_TERM;

    /**
     * @param downstream the embedder's own tracer, called first and synchronously; may be null
     * @param bound      events queued for the listeners before new ones are dropped
     */
    ProtocolEvents(long node, Clock clock, Executor events, List<RaftListener> wanting, Tracer downstream, int bound) {
        this.node = node;
        this.clock = clock;
        this.events = events;
        this.wanting = List.copyOf(wanting);
        this.downstream = downstream;
        this.bound = bound;
    }

    /** Whether {@code type} overrides {@link RaftListener#onProtocolEvent} (what the default of {@link RaftListener#wantsProtocolEvents} asks). */
    static boolean overrides(Class<?> type) {
        try {
            return type.getMethod("onProtocolEvent", ProtocolEvent.class).getDeclaringClass() != RaftListener.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** From now on events carry {@code term}'s answer (the core's current term; read on the loop). */
    void termFrom(LongSupplier term) {
        this.term = term;
    }

    /** A core event: to the embedder's tracer, then published. */
    @Override
    public void event(long node, String kind, String detail) {
        if (downstream != null) {
            downstream.event(node, kind, detail);
        }
        publish(kind, detail);
    }

    /** Events dropped so far because the listeners were {@code bound} events behind. */
    long dropped() {
        return droppedTotal.get();
    }

    /** Stamps and enqueues one event, or counts it dropped; never blocks. */
    void publish(String kind, String detail) {
        long micros = clock.millis() * 1000;
        long t = term.getAsLong();
        if (queued.get() >= bound) {
            droppedTotal.incrementAndGet();
            if (droppedInGap.incrementAndGet() == 1) {
                LOG.warn("node {}: a protocol-event listener is {} events behind; dropping events until it catches up",
                        node, bound);
            }
            return;
        }
        long lost = droppedInGap.getAndSet(0);
        if (lost > 0) {
            // The marker may take the queue one past its bound: it is what tells the reader of the gap.
            LOG.warn("node {}: {} protocol events were dropped for a slow listener", node, lost);
            enqueue(new ProtocolEvent(micros, node, t, ProtocolEvent.GAP, lost + " events dropped: a listener"
                    + " was " + bound + " events behind (maxPendingProtocolEvents)"));
        }
        enqueue(new ProtocolEvent(micros, node, t, kind, detail));
    }

    private void enqueue(ProtocolEvent e) {
        queued.incrementAndGet();
        try {
            events.execute(() -> {
                try {
                    for (RaftListener l : wanting) {
                        try {
                            l.onProtocolEvent(e);
                        } catch (RuntimeException x) {
                            LOG.warn("node {}: a RaftListener threw on a protocol event; ignored", node, x);
                        }
                    }
                } finally {
                    queued.decrementAndGet();
                }
            });
        } catch (RejectedExecutionException stopped) {
            // The events executor is gone with the server: nobody is left to tell.
            queued.decrementAndGet();
        }
    }
}
