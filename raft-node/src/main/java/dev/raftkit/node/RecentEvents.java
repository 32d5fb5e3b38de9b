package dev.raftkit.node;

import dev.raftkit.core.Tracer;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The last {@link #CAPACITY} protocol events of one node (votes, role changes, configuration
 * changes, …), for the HTTP port's {@code /status}. A {@link Tracer}: the raft loop calls it, so
 * {@link #event} only stamps the time and appends under a lock held for a few instructions, never
 * allocating more than one record, and never blocks on I/O.
 */
final class RecentEvents implements Tracer {

    /** How many events are kept; older ones are dropped as new ones arrive. */
    static final int CAPACITY = 100;

    /** One protocol event as the tracer saw it, stamped with the wall-clock time it arrived. */
    record Event(long epochMillis, long node, String kind, String detail) {
    }

    private final ArrayDeque<Event> events = new ArrayDeque<>(CAPACITY);

    @Override
    public void event(long node, String kind, String detail) {
        Event e = new Event(System.currentTimeMillis(), node, kind, detail);
        synchronized (events) {
            if (events.size() == CAPACITY) {
                events.removeFirst();
            }
            events.addLast(e);
        }
    }

    /** The kept events, oldest first (a copy: safe to read while the loop goes on adding). */
    List<Event> snapshot() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }
}
