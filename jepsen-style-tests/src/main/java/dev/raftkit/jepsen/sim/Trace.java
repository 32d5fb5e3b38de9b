package dev.raftkit.jepsen.sim;

import dev.raftkit.jepsen.history.JsonLines;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The events of a run as JSON lines ({@code {"t":…,"node":…,"ev":…,"detail":…}}), hashed as they
 * are produced so two runs can be compared without keeping either. Kept in memory only if asked.
 * The hash covers the events' fields, not the formatted lines: formatting lines nobody keeps was
 * the simulator's biggest cost.
 */
public final class Trace {

    private final boolean keep;
    private final List<String> lines = new ArrayList<>();
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
            lines.add("{\"t\":" + timeMicros + ",\"node\":" + node + ",\"ev\":" + JsonLines.quote(event)
                    + ",\"detail\":" + JsonLines.quote(detail.get()) + "}");
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

    /** The lines, if the trace was kept. */
    public List<String> lines() {
        return lines;
    }
}
