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
        String line = "{\"t\":" + timeMicros + ",\"node\":" + node + ",\"ev\":\"" + event + "\",\"detail\":\""
                + escape(detail) + "\"}";
        for (int i = 0; i < line.length(); i++) {
            hash ^= line.charAt(i);
            hash *= 0x100000001b3L;
        }
        count++;
        if (keep) {
            lines.add(line);
        }
    }

    /** FNV-1a hash of every line so far: equal for equal runs. */
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
