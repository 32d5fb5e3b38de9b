package dev.raftkit.runtime;

import java.util.Objects;

/**
 * One protocol event — a vote granted or refused and why, a role change, a leader stepping down,
 * a disk stall — in the one schema that a live node's event stream ({@link RaftListener#onProtocolEvent})
 * and the simulator's trace file share (docs/user-guide.md, "The simulator's trace"). A line
 * {@link #toJson} wrote on a live node and one the simulator wrote read the same, and
 * {@link #fromJson} reads both.
 *
 * <p>The JSON line is {@code {"t":…,"node":…,"term":…,"ev":…,"detail":…}}; {@code term} is left
 * out when it is not known ({@link #NO_TERM}), which is how the simulator writes its events.
 *
 * @param timeMicros microseconds: on a live node since the Unix epoch, from the server's clock (at
 *                   its millisecond resolution); in the simulator, virtual time since the run began
 * @param node       the node it happened on; 0 for the cluster as a whole (the simulator's nemesis
 *                   and clients)
 * @param term       the node's current term when the event was recorded, or {@link #NO_TERM}
 * @param kind       a short stable name: {@code role}, {@code vote-granted}, {@code vote-refused},
 *                   {@code stepped-down}, {@code disk-stalled}, {@link #GAP}, … (the user guide lists them)
 * @param detail     the particulars, as a person reads them
 */
public record ProtocolEvent(long timeMicros, long node, long term, String kind, String detail) {

    /** The schema's version; it changes when a field changes meaning (the simulator's trace header carries it). */
    public static final int SCHEMA_VERSION = 1;

    /** {@link #term} when the term is not known (the event came before the core existed, or from the simulator). */
    public static final long NO_TERM = -1;

    /**
     * The kind of the gap marker: a listener fell so far behind that events were dropped rather
     * than held (the detail starts with how many).
     */
    public static final String GAP = "events-dropped";

    /** Longest line {@link #fromJson} reads: an event is a few hundred characters. */
    static final int MAX_LINE_CHARS = 64 * 1024;

    public ProtocolEvent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(detail, "detail");
    }

    /** The time in milliseconds ({@link #timeMicros} / 1000): since the epoch on a live node. */
    public long timeMillis() {
        return Math.floorDiv(timeMicros, 1000);
    }

    /** The event as one JSON line (no newline): {@code {"t":…,"node":…[,"term":…],"ev":…,"detail":…}}. */
    public String toJson() {
        return toJson(timeMicros, node, term, kind, detail);
    }

    /**
     * The JSON line of an event from its fields, without building the record (the simulator's
     * trace writer formats this way).
     */
    public static String toJson(long timeMicros, long node, long term, String kind, String detail) {
        StringBuilder b = new StringBuilder(48 + kind.length() + detail.length());
        b.append("{\"t\":").append(timeMicros).append(",\"node\":").append(node);
        if (term != NO_TERM) {
            b.append(",\"term\":").append(term);
        }
        b.append(",\"ev\":");
        quote(b, kind);
        b.append(",\"detail\":");
        quote(b, detail);
        return b.append('}').toString();
    }

    /**
     * Reads one line {@link #toJson} wrote (fields in any order; unknown fields are skipped, so a
     * newer writer's additions do not break an older reader).
     *
     * @throws IllegalArgumentException naming the column and what was expected, if the line is not
     *                                  such an object or lacks {@code t}, {@code node}, {@code ev} or {@code detail}
     */
    public static ProtocolEvent fromJson(String line) {
        Objects.requireNonNull(line, "line");
        if (line.length() > MAX_LINE_CHARS) {
            throw new IllegalArgumentException("protocol event line is " + line.length() + " characters; at most "
                    + MAX_LINE_CHARS + " are read");
        }
        return new Reader(line).event();
    }

    /** A string as a JSON string literal (RFC 8259 §7), escaping exactly as the simulator always has. */
    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    // U+2028/U+2029 are legal raw but split lines in some readers, so escaped too.
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /** A reader of the one flat object the schema has: string and integer values only. */
    private static final class Reader {
        private final String s;
        private int i;

        Reader(String s) {
            this.s = s;
        }

        ProtocolEvent event() {
            Long t = null;
            Long node = null;
            long term = NO_TERM;
            String kind = null;
            String detail = null;
            skipSpace();
            expect('{');
            skipSpace();
            if (peek() != '}') {
                while (true) {
                    skipSpace();
                    String name = string();
                    skipSpace();
                    expect(':');
                    skipSpace();
                    switch (name) {
                        case "t" -> t = number(name);
                        case "node" -> node = number(name);
                        case "term" -> term = number(name);
                        case "ev" -> kind = string();
                        case "detail" -> detail = string();
                        default -> skipValue();
                    }
                    skipSpace();
                    if (peek() == ',') {
                        i++;
                        continue;
                    }
                    break;
                }
            }
            expect('}');
            skipSpace();
            if (i != s.length()) {
                throw error("nothing after the closing '}'");
            }
            if (t == null || node == null || kind == null || detail == null) {
                throw new IllegalArgumentException("protocol event " + shortened() + " lacks "
                        + (t == null ? "\"t\"" : node == null ? "\"node\"" : kind == null ? "\"ev\"" : "\"detail\"")
                        + "; every event has t, node, ev and detail");
            }
            return new ProtocolEvent(t, node, term, kind, detail);
        }

        private char peek() {
            if (i >= s.length()) {
                throw error("more of the object");
            }
            return s.charAt(i);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("'" + c + "'");
            }
            i++;
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private long number(String field) {
            int start = i;
            if (i < s.length() && s.charAt(i) == '-') {
                i++;
            }
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            try {
                return Long.parseLong(s.substring(start, i));
            } catch (NumberFormatException e) {
                i = start;
                throw error("an integer for \"" + field + "\"");
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = peek();
                i++;
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = peek();
                i++;
                switch (e) {
                    case '"', '\\', '/' -> b.append(e);
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        if (i + 4 > s.length()) {
                            throw error("four hex digits after \\u");
                        }
                        try {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        } catch (NumberFormatException x) {
                            throw error("four hex digits after \\u");
                        }
                        i += 4;
                    }
                    default -> {
                        i--;
                        throw error("an escape (\\\" \\\\ \\/ \\n \\r \\t \\b \\f \\uXXXX)");
                    }
                }
            }
        }

        /** Skips a value of a field this reader does not know: a string, a number, true, false or null. */
        private void skipValue() {
            char c = peek();
            if (c == '"') {
                string();
            } else if (c == '-' || Character.isDigit(c)) {
                i++;
                while (i < s.length() && "0123456789.eE+-".indexOf(s.charAt(i)) >= 0) {
                    i++;
                }
            } else if (s.startsWith("true", i) || s.startsWith("null", i)) {
                i += 4;
            } else if (s.startsWith("false", i)) {
                i += 5;
            } else {
                throw error("a string, number, true, false or null (events hold no nested values)");
            }
        }

        private IllegalArgumentException error(String expected) {
            return new IllegalArgumentException("protocol event " + shortened() + ": expected " + expected
                    + " at column " + (i + 1));
        }

        private String shortened() {
            StringBuilder b = new StringBuilder();
            quote(b, s.length() <= 120 ? s : s.substring(0, 120) + "…");
            return b.toString();
        }
    }
}
