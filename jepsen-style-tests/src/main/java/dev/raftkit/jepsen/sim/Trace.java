package dev.raftkit.jepsen.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * The events of a run as JSON lines ({@code {"t":…,"node":…,"ev":…,"detail":…}}), hashed as they
 * are produced so two runs can be compared without keeping either. Kept in memory only if asked.
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
        // Hash the fields, not the JSON line: building lines nobody keeps was the simulator's
        // biggest cost.
        mix(timeMicros);
        mix(node);
        mix(event);
        mix(detail);
        count++;
        if (keep) {
            lines.add("{\"t\":" + timeMicros + ",\"node\":" + node + ",\"ev\":\"" + event + "\",\"detail\":\""
                    + escape(detail) + "\"}");
        }
    }

    /** An event whose detail is a range {@code from..to}: formatted only if the trace is kept. */
    void addRange(long timeMicros, long node, String event, long from, long to) {
        mix(timeMicros);
        mix(node);
        mix(event);
        mix(from);
        mix(to);
        count++;
        if (keep) {
            lines.add("{\"t\":" + timeMicros + ",\"node\":" + node + ",\"ev\":\"" + event + "\",\"detail\":\""
                    + from + ".." + to + "\"}");
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

    private static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }
}
