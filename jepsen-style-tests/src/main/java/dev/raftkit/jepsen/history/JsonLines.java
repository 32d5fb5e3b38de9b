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
 * Saves and loads histories as JSON lines, one event per line, in time order. Two versions of the
 * format exist (the schema is documented in {@code docs/user-guide.md}, "History format"):
 *
 * <p><b>Version 1</b>, the key-value register's {@link History}: no header line (one
 * {@code {"format":"raftkit-history","version":1}} may come first), flat events:
 * <pre>
 * {"type":"invoke","op":0,"process":1,"time":100,"f":"write","key":"x","value":"1"}
 * {"type":"invoke","op":1,"process":2,"time":105,"f":"cas","key":"x","expected":null,"new":"2"}
 * {"type":"ok","op":0,"process":1,"time":180}
 * {"type":"info","op":1,"process":2,"time":900}
 * {"type":"invoke","op":2,"process":1,"time":950,"f":"read","key":"x"}
 * {"type":"ok","op":2,"process":1,"time":990,"value":"1"}
 * </pre>
 * An ok read carries the observed {@code value} ({@code null} = absent), an ok CAS carries
 * {@code swapped}.
 *
 * <p><b>Version 2</b>, any {@link TypedHistory}: a header line, then events whose {@code input}
 * and {@code output} are JSON values written by the {@link OpType}'s codecs:
 * <pre>
 * {"format":"raftkit-history","version":2,"keyed":true}
 * {"type":"invoke","op":0,"process":1,"time":100,"key":"l","input":{"f":"Append","list":"l","value":7}}
 * {"type":"ok","op":0,"process":1,"time":180,"output":null}
 * {"type":"invoke","op":1,"process":2,"time":190,"key":"l","input":{"f":"Read","list":"l"}}
 * {"type":"ok","op":1,"process":2,"time":240,"output":[7]}
 * </pre>
 * {@code key} is written when the type has keys, for other tools' benefit; the reader recomputes
 * it from the input and refuses a line where the two differ.
 *
 * <p>In both, {@code type} is {@code invoke}, {@code ok}, {@code fail} or {@code info};
 * completions pair with their invocation by {@code op}; an invocation with no completion line is
 * indeterminate and never completed. Hand-written and tiny on purpose: the module needs no JSON
 * library, and the format is easy to produce from any other harness.
 */
public final class JsonLines {

    /** The value of the header line's {@code format} field. */
    public static final String FORMAT = "raftkit-history";
    /** The version {@link #write(History, Writer)} writes: the key-value register's flat events. */
    public static final int KEY_VALUE_VERSION = 1;
    /** The version {@link #write(TypedHistory, Writer)} writes: any operation type. */
    public static final int TYPED_VERSION = 2;

    private JsonLines() {
    }

    /** The history as version-1 JSON lines, each ending in {@code \n}. */
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

    /** Reads a key-value history (version 1) written by {@link #write(History, Writer)} or any other producer. */
    public static History read(Reader in) throws IOException {
        List<Operation> operations = new ArrayList<>();
        for (Paired p : pair(in, KEY_VALUE_VERSION)) {
            operations.add(toOperation(p.invoke(), p.completion()));
        }
        return History.of(operations);
    }

    /**
     * Reads a history of {@code type} (version 2) written by {@link #write(TypedHistory, Writer)}
     * or any other producer; throws {@link IllegalArgumentException} naming the line for anything
     * malformed, including a version it does not know.
     */
    public static <I, O> TypedHistory<I, O> read(Reader in, OpType<I, O> type) throws IOException {
        List<TypedOperation<I, O>> operations = new ArrayList<>();
        for (Paired p : pair(in, TYPED_VERSION)) {
            operations.add(toTypedOperation(type, p.invoke(), p.completion()));
        }
        return TypedHistory.of(type, operations);
    }

    /** Parses version-2 JSON lines of {@code type} held in a string. */
    public static <I, O> TypedHistory<I, O> parse(String jsonLines, OpType<I, O> type) {
        try {
            return read(new StringReader(jsonLines), type);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringReader does not throw
        }
    }

    /** The history as version-2 JSON lines, each ending in {@code \n}. */
    public static <I, O> String toJsonLines(TypedHistory<I, O> history) {
        StringBuilder b = new StringBuilder();
        for (String line : lines(history)) {
            b.append(line).append('\n');
        }
        return b.toString();
    }

    /** Writes the history as version-2 JSON lines to {@code out} (not closed). */
    public static <I, O> void write(TypedHistory<I, O> history, Writer out) throws IOException {
        for (String line : lines(history)) {
            out.write(line);
            out.write('\n');
        }
        out.flush();
    }

    private record Paired(Map<String, Object> invoke, Map<String, Object> completion) {
    }

    /**
     * Reads every event and pairs completions with invocations, in invocation line order. A
     * version-2 file must begin with its header; a version-1 file may.
     */
    private static List<Paired> pair(Reader in, int version) throws IOException {
        BufferedReader reader = in instanceof BufferedReader br ? br : new BufferedReader(in);
        Map<Long, Map<String, Object>> invokes = new LinkedHashMap<>();
        Map<Long, Map<String, Object>> completions = new LinkedHashMap<>();
        String line;
        int lineNo = 0;
        boolean first = true;
        while ((line = reader.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> event;
            try {
                event = Json.parseObject(line);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("history line " + lineNo + " is not a JSON object: "
                        + e.getMessage() + "; line: " + line, e);
            }
            if (first) {
                first = false;
                if (header(event, version, lineNo)) {
                    continue;
                }
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
        if (first && version == TYPED_VERSION) {
            throw new IllegalArgumentException("history is empty: a version-" + TYPED_VERSION
                    + " history begins with its header line {\"format\":\"" + FORMAT + "\",\"version\":"
                    + TYPED_VERSION + "}");
        }
        for (Long op : completions.keySet()) {
            if (!invokes.containsKey(op)) {
                throw new IllegalArgumentException("history completes op " + op + " (line "
                        + completions.get(op).get("#line") + ") but never invokes it");
            }
        }
        List<Paired> paired = new ArrayList<>(invokes.size());
        for (Map<String, Object> inv : invokes.values()) {
            paired.add(new Paired(inv, completions.get((Long) inv.get("op"))));
        }
        return paired;
    }

    /** Whether {@code event}, the first line, is a header; throws if it is the wrong one or missing. */
    private static boolean header(Map<String, Object> event, int version, int lineNo) {
        if (!event.containsKey("format")) {
            if (version == TYPED_VERSION) {
                throw new IllegalArgumentException("history line " + lineNo + " is not the header {\"format\":\""
                        + FORMAT + "\",\"version\":" + TYPED_VERSION + ",...} a typed history begins with"
                        + (event.containsKey("f") ? "; it looks like a version-1 key-value history: read it with "
                        + "JsonLines.read(Reader)" : ""));
            }
            return false;
        }
        if (!FORMAT.equals(event.get("format"))) {
            throw new IllegalArgumentException("history line " + lineNo + " declares format " + event.get("format")
                    + ", not " + FORMAT);
        }
        long v = number(event, "version", lineNo);
        if (v != version) {
            throw new IllegalArgumentException("history line " + lineNo + " declares version " + v
                    + " but this reader reads version " + version
                    + (v == TYPED_VERSION ? ": read it with JsonLines.read(Reader, OpType)"
                    : v == KEY_VALUE_VERSION ? ": read it with JsonLines.read(Reader)"
                    : ": it was written by a newer Raftkit; upgrade to read it"));
        }
        return true;
    }

    private static <I, O> TypedOperation<I, O> toTypedOperation(OpType<I, O> type, Map<String, Object> inv,
                                                              Map<String, Object> done) {
        int line = (int) (long) (Long) inv.get("#line");
        long id = number(inv, "op", line);
        int process = (int) number(inv, "process", line);
        long invoked = number(inv, "time", line);
        if (!inv.containsKey("input")) {
            throw new IllegalArgumentException("history line " + line + " invokes op " + id + " without an 'input'");
        }
        I input = decode(type.inputCodec(), inv.get("input"), "input", line);
        if (input == null) {
            throw new IllegalArgumentException("history line " + line + " has a null 'input'");
        }
        if (inv.containsKey("key") && !type.key(input).equals(inv.get("key"))) {
            throw new IllegalArgumentException("history line " + line + " says key " + inv.get("key")
                    + " but its input " + input + " touches key '" + type.key(input) + "'");
        }
        if (done == null) {
            return new TypedOperation<>(id, process, input, invoked, OpStatus.INFO, TypedOperation.NEVER, null);
        }
        int doneLine = (int) (long) (Long) done.get("#line");
        long completed = number(done, "time", doneLine);
        OpStatus status = OpStatus.valueOf(string(done, "type", doneLine).toUpperCase(java.util.Locale.ROOT));
        O output = null;
        if (status == OpStatus.OK) {
            if (!done.containsKey("output")) {
                throw new IllegalArgumentException("history line " + doneLine
                        + " completes op " + id + " ok without an 'output' (use null for none)");
            }
            output = decode(type.outputCodec(), done.get("output"), "output", doneLine);
        } else if (done.get("output") != null) {
            throw new IllegalArgumentException("history line " + doneLine + " completes op " + id + " "
                    + status.name().toLowerCase(java.util.Locale.ROOT) + " with an 'output'; only ok has one");
        }
        try {
            return new TypedOperation<>(id, process, input, invoked, status, completed, output);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("history lines " + line + " and " + doneLine + ": "
                    + e.getMessage(), e);
        }
    }

    /** JSON null is null whatever the codec: codecs never see null (see {@link Codec}). */
    private static <T> T decode(Codec<T> codec, Object json, String field, int line) {
        if (json == null) {
            return null;
        }
        try {
            return codec.fromJson(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("history line " + line + " has an '" + field + "' its codec cannot "
                    + "decode: " + e.getMessage() + "; " + field + ": " + Json.write(json), e);
        }
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
            return new Operation(id, process, command, invoked, OpStatus.INFO, Operation.NEVER, null);
        }
        int doneLine = (int) (long) (Long) done.get("#line");
        long completed = number(done, "time", doneLine);
        OpStatus status = OpStatus.valueOf(string(done, "type", doneLine).toUpperCase(java.util.Locale.ROOT));
        Response response = null;
        if (status == OpStatus.OK) {
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
        return timeOrdered(history.operations(), Operation::invokeNanos, Operation::completeNanos,
                o -> o.status() == OpStatus.INFO && o.completeNanos() == Operation.NEVER,
                JsonLines::invokeLine, JsonLines::completionLine);
    }

    private static <I, O> List<String> lines(TypedHistory<I, O> history) {
        OpType<I, O> type = history.type();
        List<String> lines = new ArrayList<>(history.size() * 2 + 1);
        lines.add("{\"format\":\"" + FORMAT + "\",\"version\":" + TYPED_VERSION + ",\"keyed\":" + type.isKeyed() + "}");
        lines.addAll(timeOrdered(history.operations(), TypedOperation::invokeNanos, TypedOperation::completeNanos,
                o -> o.status() == OpStatus.INFO && o.completeNanos() == TypedOperation.NEVER,
                o -> {
                    StringBuilder b = head("invoke", o.id(), o.process(), o.invokeNanos());
                    if (type.isKeyed()) {
                        b.append(",\"key\":").append(quote(type.key(o.input())));
                    }
                    b.append(",\"input\":");
                    return Json.write(type.inputCodec().toJson(o.input()), b).append('}').toString();
                },
                o -> {
                    StringBuilder b = head(o.status().name().toLowerCase(java.util.Locale.ROOT), o.id(), o.process(),
                            o.completeNanos());
                    if (o.status() == OpStatus.OK) {
                        Json.write(o.output() == null ? null : type.outputCodec().toJson(o.output()),
                                b.append(",\"output\":"));
                    }
                    return b.append('}').toString();
                }));
        return lines;
    }

    /**
     * Each operation's invocation line and (unless it never completed: that is what "never" means
     * on the wire, and it reads back as INFO) its completion line, sorted by time; ties keep
     * operation order, invocation before completion.
     */
    private static <T> List<String> timeOrdered(List<T> operations, java.util.function.ToLongFunction<T> invoked,
                                                java.util.function.ToLongFunction<T> completed,
                                                java.util.function.Predicate<T> neverCompleted,
                                                java.util.function.Function<T, String> invokeLine,
                                                java.util.function.Function<T, String> completionLine) {
        List<Event> events = new ArrayList<>(operations.size() * 2);
        for (T o : operations) {
            events.add(new Event(invoked.applyAsLong(o), invokeLine.apply(o)));
            if (!neverCompleted.test(o)) {
                events.add(new Event(completed.applyAsLong(o), completionLine.apply(o)));
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
        return head(type, o.id(), o.process(), time);
    }

    private static StringBuilder head(String type, long id, int process, long time) {
        return new StringBuilder(96).append("{\"type\":\"").append(type).append("\",\"op\":").append(id)
                .append(",\"process\":").append(process).append(",\"time\":").append(time);
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
}
