package dev.raftkit.jepsen.sim;

import dev.raftkit.runtime.ProtocolEvent;

/**
 * One event of a simulated run, in the schema a live node's event stream uses too
 * ({@link ProtocolEvent}: the simulator's events carry no term).
 *
 * @param timeMicros virtual time in microseconds since the run began
 * @param node       the node it happened on; 0 for the cluster as a whole (the nemesis, a client's
 *                   invocation before it reaches a node)
 * @param kind       what happened: {@code role}, {@code vote-granted}, {@code vote-refused},
 *                   {@code append}, {@code commit}, {@code apply}, {@code fault}, {@code crash},
 *                   {@code restart}, {@code invoke}, {@code complete}, … (docs/user-guide.md lists them)
 * @param detail     the particulars, as a person reads them (a range {@code from..to} for appends,
 *                   commits and applies; the reason for a refused vote)
 */
public record TraceEvent(long timeMicros, long node, String kind, String detail) {

    /**
     * The event as one JSON line, {@code {"t":…,"node":…,"ev":…,"detail":…}}, written by the same
     * encoder as a live node's ({@link ProtocolEvent#toJson}), so the two read the same.
     */
    public String toJson() {
        return ProtocolEvent.toJson(timeMicros, node, ProtocolEvent.NO_TERM, kind, detail);
    }

    /** The event as the shared schema's record (no term: the simulator records none). */
    public ProtocolEvent toProtocolEvent() {
        return new ProtocolEvent(timeMicros, node, ProtocolEvent.NO_TERM, kind, detail);
    }
}
