package dev.raftkit.jepsen.sim;

import dev.raftkit.runtime.ProtocolEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The events of a run ({@link TraceEvent}), hashed as they are produced so two runs can be
 * compared without keeping either. Kept in memory only if asked. Written to a file as JSON lines
 * after a {@link #HEADER} line; the schema is in docs/user-guide.md ("The simulator's trace").
 * The hash covers the events' fields, not the formatted lines: formatting lines nobody keeps was
 * the simulator's biggest cost.
 */
public final class Trace {

    /** The name of the format, in the header line. */
    public static final String FORMAT = "raftkit-sim-trace";
    /**
     * The schema's version, in the header line; it changes when a field changes meaning. One
     * schema with a live node's event stream, so one constant: {@link ProtocolEvent#SCHEMA_VERSION}.
     */
    public static final int VERSION = ProtocolEvent.SCHEMA_VERSION;
    /** The first line of a trace file. */
    public static final String HEADER = "{\"format\":\"" + FORMAT + "\",\"version\":" + VERSION + "}";

    private final boolean keep;
    private final List<TraceEvent> events = new ArrayList<>();
    private long hash = 0xcbf29ce484222325L;
    private long count;

    Trace(boolean keep) {
        this.keep = keep;
    }

    void add(long timeMicros, long node, String event, String detail) {
        start(timeMicros, node, event);
        mix(detail);
        finish(timeMicros, node, event, () -> detail);
    }

    /** An event whose detail is a range {@code from..to}, formatted only if the trace is kept. */
    void addRange(long timeMicros, long node, String event, long from, long to) {
        start(timeMicros, node, event);
        mix(from);
        mix(to);
        finish(timeMicros, node, event, () -> from + ".." + to);
    }

    private void start(long timeMicros, long node, String event) {
        mix(timeMicros);
        mix(node);
        mix(event);
    }

    private void finish(long timeMicros, long node, String event, Supplier<String> detail) {
        count++;
        if (keep) {
            events.add(new TraceEvent(timeMicros, node, event, detail.get()));
        }
    }

    private void mix(long v) {
        hash = (hash ^ v) * 0x100000001b3L;
    }

    private void mix(String s) {
        for (int i = 0; i < s.length(); i++) {
            hash = (hash ^ s.charAt(i)) * 0x100000001b3L;
        }
    }

    /** FNV-1a hash of every event's fields so far: equal for equal runs. */
    public long hash() {
        return hash;
    }

    public long count() {
        return count;
    }

    /** The events, if the trace was kept. */
    public List<TraceEvent> events() {
        return events;
    }
}
