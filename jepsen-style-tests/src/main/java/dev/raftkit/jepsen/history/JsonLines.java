package dev.raftkit.jepsen.history;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Saves and loads a {@link History} as JSON lines, one event per line, in time order:
 *
 * <pre>
 * {"type":"invoke","op":0,"process":1,"time":100,"f":"write","key":"x","value":"1"}
 * {"type":"invoke","op":1,"process":2,"time":105,"f":"cas","key":"x","expected":null,"new":"2"}
 * {"type":"ok","op":0,"process":1,"time":180}
 * {"type":"info","op":1,"process":2,"time":900}
 * {"type":"invoke","op":2,"process":1,"time":950,"f":"read","key":"x"}
 * {"type":"ok","op":2,"process":1,"time":990,"value":"1"}
 * </pre>
 *
 * <p>{@code type} is {@code invoke}, {@code ok}, {@code fail} or {@code info}; completions pair
 * with their invocation by {@code op}. An ok read carries the observed {@code value} ({@code null}
 * = absent), an ok CAS carries {@code swapped}. An invocation with no completion line is
 * indeterminate. Hand-written and tiny on purpose: the module needs no JSON library, and the
 * format is easy to produce from any other harness.
 */
public final class JsonLines {

    private JsonLines() {
    }

    /** The history as JSON lines, each ending in {@code \n}. */
    public static String toJsonLines(History history) {
        StringBuilder b = new StringBuilder();
        for (String line : lines(history)) {
            b.append(line).append('\n');
        }
        return b.toString();
    }

    /** Writes the history as JSON lines to {@code out} (not closed). */
    public static void write(History history, Writer out) throws IOException {
        for (String line : lines(history)) {
            out.write(line);
            out.write('\n');
        }
        out.flush();
    }

    /** Reads a history written by {@link #write} (or any producer of the same format). */
    public static History read(Reader in) throws IOException {
        BufferedReader reader = in instanceof BufferedReader br ? br : new BufferedReader(in);
        Map<Long, Map<String, Object>> invokes = new LinkedHashMap<>();
        Map<Long, Map<String, Object>> completions = new LinkedHashMap<>();
        String line;
        int lineNo = 0;
        while ((line = reader.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> event;
            try {
                event = new Parser(line).object();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("history line " + lineNo + " is not a JSON object: "
                        + e.getMessage() + "; line: " + line, e);
            }
            String type = string(event, "type", lineNo);
            long op = number(event, "op", lineNo);
            Map<Long, Map<String, Object>> target = type.equals("invoke") ? invokes : completions;
            if (!type.equals("invoke") && !type.equals("ok") && !type.equals("fail") && !type.equals("info")) {
                throw new IllegalArgumentException("history line " + lineNo + " has type '" + type
                        + "'; expected invoke, ok, fail or info");
            }
            if (target.put(op, event) != null) {
                throw new IllegalArgumentException("history line " + lineNo + " repeats the " + type
                        + " of op " + op + "; each op is invoked and completed at most once");
            }
            event.put("#line", (long) lineNo);
        }
        for (Long op : completions.keySet()) {
            if (!invokes.containsKey(op)) {
                throw new IllegalArgumentException("history completes op " + op + " (line "
                        + completions.get(op).get("#line") + ") but never invokes it");
            }
        }
        List<Operation> operations = new ArrayList<>(invokes.size());
        for (Map<String, Object> inv : invokes.values()) {
            operations.add(toOperation(inv, completions.get((Long) inv.get("op"))));
        }
        return History.of(operations);
    }

    /** Parses JSON lines held in a string. */
    public static History parse(String jsonLines) {
        try {
            return read(new StringReader(jsonLines));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringReader does not throw
        }
    }

    private static Operation toOperation(Map<String, Object> inv, Map<String, Object> done) {
        int line = (int) (long) (Long) inv.get("#line");
        long id = number(inv, "op", line);
        int process = (int) number(inv, "process", line);
        long invoked = number(inv, "time", line);
        String f = string(inv, "f", line);
        String key = string(inv, "key", line);
        Command command = switch (f) {
            case "write" -> Command.write(key, string(inv, "value", line));
            case "read" -> Command.read(key);
            case "cas" -> Command.cas(key, nullableString(inv, "expected", line), string(inv, "new", line));
            default -> throw new IllegalArgumentException("history line " + line + " has f '" + f
                    + "'; expected write, read or cas");
        };
        if (done == null) {
            return new Operation(id, process, command, invoked, Status.INFO, Operation.NEVER, null);
        }
        int doneLine = (int) (long) (Long) done.get("#line");
        long completed = number(done, "time", doneLine);
        Status status = Status.valueOf(string(done, "type", doneLine).toUpperCase(java.util.Locale.ROOT));
        Response response = null;
        if (status == Status.OK) {
            if (command instanceof Command.Write) {
                response = Response.written();
            } else if (command instanceof Command.Read) {
                if (!done.containsKey("value")) {
                    throw new IllegalArgumentException("history line " + doneLine
                            + " completes a read ok without the observed 'value' (use null for absent)");
                }
                response = Response.read(nullableString(done, "value", doneLine));
            } else {
                Object swapped = done.get("swapped");
                if (!(swapped instanceof Boolean)) {
                    throw new IllegalArgumentException("history line " + doneLine
                            + " completes a cas ok without a boolean 'swapped'");
                }
                response = Response.cas((Boolean) swapped);
            }
        }
        try {
            return new Operation(id, process, command, invoked, status, completed, response);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("history lines " + line + " and " + doneLine + ": "
                    + e.getMessage(), e);
        }
    }

    private static String string(Map<String, Object> event, String field, int line) {
        Object v = event.get(field);
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("history line " + line + " needs a string '" + field
                    + "', has " + v);
        }
        return s;
    }

    private static String nullableString(Map<String, Object> event, String field, int line) {
        return event.get(field) == null ? null : string(event, field, line);
    }

    private static long number(Map<String, Object> event, String field, int line) {
        Object v = event.get(field);
        if (!(v instanceof Long n)) {
            throw new IllegalArgumentException("history line " + line + " needs an integer '" + field
                    + "', has " + v);
        }
        return n;
    }

    private record Event(long time, String line) {
    }

    private static List<String> lines(History history) {
        List<Event> events = new ArrayList<>(history.size() * 2);
        for (Operation o : history.operations()) {
            events.add(new Event(o.invokeNanos(), invokeLine(o)));
            // An indeterminate op that never completed has no completion event: that is what
            // "never" means on the wire, and it reads back as INFO.
            if (!(o.status() == Status.INFO && o.completeNanos() == Operation.NEVER)) {
                events.add(new Event(o.completeNanos(), completionLine(o)));
            }
        }
        events.sort((a, b) -> Long.compare(a.time(), b.time())); // stable: ties keep op order
        List<String> lines = new ArrayList<>(events.size());
        for (Event e : events) {
            lines.add(e.line());
        }
        return lines;
    }

    private static String invokeLine(Operation o) {
        StringBuilder b = head("invoke", o, o.invokeNanos());
        Command c = o.command();
        if (c instanceof Command.Write w) {
            b.append(",\"f\":\"write\",\"key\":").append(quote(w.key())).append(",\"value\":").append(quote(w.value()));
        } else if (c instanceof Command.Read r) {
            b.append(",\"f\":\"read\",\"key\":").append(quote(r.key()));
        } else {
            Command.Cas cas = (Command.Cas) c;
            b.append(",\"f\":\"cas\",\"key\":").append(quote(cas.key())).append(",\"expected\":")
                    .append(quote(cas.expected())).append(",\"new\":").append(quote(cas.newValue()));
        }
        return b.append('}').toString();
    }

    private static String completionLine(Operation o) {
        StringBuilder b = head(o.status().name().toLowerCase(java.util.Locale.ROOT), o, o.completeNanos());
        if (o.response() instanceof Response.ReadValue rv) {
            b.append(",\"value\":").append(quote(rv.value()));
        } else if (o.response() instanceof Response.CasResult cr) {
            b.append(",\"swapped\":").append(cr.swapped());
        }
        return b.append('}').toString();
    }

    private static StringBuilder head(String type, Operation o, long time) {
        return new StringBuilder(96).append("{\"type\":\"").append(type).append("\",\"op\":").append(o.id())
                .append(",\"process\":").append(o.process()).append(",\"time\":").append(time);
    }

    /** A JSON string literal (quoted and escaped), or {@code null}. */
    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
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
                    // Other control characters must be escaped (RFC 8259 §7). U+2028/U+2029 are
                    // legal raw but split lines in some readers (JavaScript, regex '.'), so they
                    // are escaped too. The rest of Unicode, surrogate pairs included, passes through.
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /** Parses one flat JSON object whose values are strings, integers, booleans or null. */
    static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        Map<String, Object> object() {
            Map<String, Object> result = new LinkedHashMap<>();
            skipSpace();
            expect('{');
            skipSpace();
            if (peek() == '}') {
                pos++;
            } else {
                while (true) {
                    skipSpace();
                    String name = string();
                    skipSpace();
                    expect(':');
                    skipSpace();
                    if (result.put(name, value()) != null) {
                        throw error("duplicate field '" + name + "'");
                    }
                    skipSpace();
                    char c = next();
                    if (c == '}') {
                        break;
                    }
                    if (c != ',') {
                        throw error("expected ',' or '}'");
                    }
                }
            }
            skipSpace();
            if (pos != s.length()) {
                throw error("trailing characters");
            }
            return result;
        }

        private Object value() {
            char c = peek();
            if (c == '"') {
                return string();
            }
            if (c == '-' || (c >= '0' && c <= '9')) {
                int start = pos;
                if (c == '-') {
                    pos++;
                }
                while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
                    pos++;
                }
                try {
                    return Long.parseLong(s.substring(start, pos));
                } catch (NumberFormatException e) {
                    throw error("bad integer '" + s.substring(start, pos) + "' (only integers are used)");
                }
            }
            if (s.startsWith("true", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            if (s.startsWith("null", pos)) {
                pos += 4;
                return null;
            }
            throw error("expected a string, integer, boolean or null");
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return b.toString();
                }
                if (c < 0x20) {
                    throw error("unescaped control character in string");
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"' -> b.append('"');
                    case '\\' -> b.append('\\');
                    case '/' -> b.append('/');
                    case 'n' -> b.append('\n');
                    case 'r' -> b.append('\r');
                    case 't' -> b.append('\t');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        if (pos + 4 > s.length()) {
                            throw error("truncated \\u escape");
                        }
                        try {
                            b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw error("bad \\u escape");
                        }
                        pos += 4;
                    }
                    default -> throw error("bad escape \\" + e);
                }
            }
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private char peek() {
            if (pos >= s.length()) {
                throw error("unexpected end of line");
            }
            return s.charAt(pos);
        }

        private char next() {
            char c = peek();
            pos++;
            return c;
        }

        private void expect(char c) {
            if (next() != c) {
                pos--;
                throw error("expected '" + c + "'");
            }
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at column " + (pos + 1));
        }
    }
}
