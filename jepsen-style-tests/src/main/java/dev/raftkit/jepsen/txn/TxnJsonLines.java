package dev.raftkit.jepsen.txn;

import dev.raftkit.jepsen.history.Json;
import dev.raftkit.jepsen.history.OpStatus;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.Writer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Transaction histories as JSON lines, one transaction per line, so that any system's test harness
 * can write one and {@code raftkit check-txn} can judge it. {@code docs/jepsen.md} ("Transaction
 * histories") is the reference; in short:
 * <pre>
 * {"format":"raftkit-txn-history","version":1}
 * {"process":0,"type":"ok","invoke":1000,"complete":2500,"txn":[["append","x",1],["r","y",[3,4]]]}
 * {"process":1,"type":"info","invoke":1200,"complete":9000,"txn":[["append","y",5],["r","x",null]]}
 * {"process":2,"type":"ok","invoke":1300,"complete":1900,"txn":[["w","k",7],["r","j",null]]}
 * </pre>
 * The header line is optional. {@code type} is {@code ok}, {@code fail} or {@code info}; times are
 * integers on one clock (any unit); {@code complete} may be left out for {@code info}. A micro-op
 * is {@code ["append", key, int]}, {@code ["r", key, [ints]]} (a list read), {@code ["w", key, int]}
 * or {@code ["r", key, int-or-null]} (a register read; {@code null} is the initial state). A
 * read's value is {@code null} when not known (in fail and info transactions); a key read with an
 * array or appended to anywhere is a list key, and a {@code null} read of it means "not known".
 * Blank lines are skipped.
 *
 * <p>Static methods, thread-safe. Malformed input throws an {@link IllegalArgumentException} whose
 * message starts with {@code line N:} and says what is wrong and what was expected.
 */
public final class TxnJsonLines {

    /** The {@code format} of the optional header line. */
    public static final String FORMAT = "raftkit-txn-history";
    /** The version this class reads and writes. */
    public static final int VERSION = 1;

    private TxnJsonLines() {
    }

    private record RawMop(String f, String key, Object value, boolean array) {
    }

    private record RawTxn(int line, long process, OpStatus status, long invoke, long complete, List<RawMop> mops) {
    }

    /** Reads a history; the reader is read to its end and not closed. */
    public static TxnHistory read(Reader in) throws IOException {
        BufferedReader r = in instanceof BufferedReader b ? b : new BufferedReader(in);
        List<RawTxn> raw = new ArrayList<>();
        Set<String> listKeys = new HashSet<>();
        String line;
        int no = 0;
        while ((line = r.readLine()) != null) {
            no++;
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> obj;
            try {
                obj = Json.parseObject(line.strip());
            } catch (IllegalArgumentException e) {
                throw error(no, "not a JSON object: " + e.getMessage());
            }
            if (obj.containsKey("format")) {
                if (!FORMAT.equals(obj.get("format")) || !Long.valueOf(VERSION).equals(obj.get("version"))) {
                    throw error(no, "header says format " + obj.get("format") + " version " + obj.get("version")
                            + "; this reader reads format \"" + FORMAT + "\" version " + VERSION);
                }
                continue;
            }
            raw.add(txn(no, obj, listKeys));
        }
        TxnHistory.Builder b = TxnHistory.builder();
        List<Integer> lines = new ArrayList<>();
        for (RawTxn t : raw) {
            List<Mop> mops = new ArrayList<>();
            for (RawMop m : t.mops) {
                mops.add(mop(t.line, m, listKeys.contains(m.key)));
            }
            try {
                b.add(t.process, t.status, t.invoke, t.complete, mops);
            } catch (IllegalArgumentException e) {
                throw error(t.line, e.getMessage());
            }
            lines.add(t.line);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(withLines(e.getMessage(), lines), e);
        }
    }

    /** Reads a history from a string. */
    public static TxnHistory parse(String jsonLines) {
        try {
            return read(new StringReader(jsonLines));
        } catch (IOException e) {
            throw new IllegalStateException("a StringReader does not fail", e);
        }
    }

    /** Writes {@code history} with its header line; the writer is not closed. */
    public static void write(TxnHistory history, Writer out) throws IOException {
        out.write(toJsonLines(history));
        out.flush();
    }

    /** The history as JSON lines, header first. */
    public static String toJsonLines(TxnHistory history) {
        StringBuilder b = new StringBuilder();
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("format", FORMAT);
        header.put("version", (long) VERSION);
        Json.write(header, b).append('\n');
        for (Txn t : history.txns()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("process", t.process());
            m.put("type", t.status().name().toLowerCase(Locale.ROOT));
            m.put("invoke", t.invokeNanos());
            m.put("complete", t.completeNanos());
            List<Object> mops = new ArrayList<>();
            for (Mop op : t.mops()) {
                if (op instanceof Mop.Append a) {
                    mops.add(List.of("append", a.key(), a.value()));
                } else if (op instanceof Mop.Write w) {
                    mops.add(List.of("w", w.key(), w.value()));
                } else if (op instanceof Mop.Read r) {
                    List<Object> read = new ArrayList<>(List.of("r", r.key()));
                    read.add(r.values() == null ? null : new ArrayList<Object>(r.values()));
                    mops.add(read);
                } else if (op instanceof Mop.ReadRegister r) {
                    List<Object> read = new ArrayList<>(List.of("r", r.key()));
                    read.add(r.value());
                    mops.add(read);
                }
            }
            m.put("txn", mops);
            Json.write(m, b).append('\n');
        }
        return b.toString();
    }

    private static RawTxn txn(int no, Map<String, Object> obj, Set<String> listKeys) {
        long process = integer(no, obj, "process", null);
        Object type = obj.get("type");
        OpStatus status;
        if ("ok".equals(type)) {
            status = OpStatus.OK;
        } else if ("fail".equals(type)) {
            status = OpStatus.FAIL;
        } else if ("info".equals(type)) {
            status = OpStatus.INFO;
        } else {
            throw error(no, "field \"type\" must be \"ok\", \"fail\" or \"info\", got " + Json.write(type));
        }
        long invoke = integer(no, obj, "invoke", null);
        long complete = integer(no, obj, "complete", status == OpStatus.INFO ? invoke : null);
        if (!(obj.get("txn") instanceof List<?> list)) {
            throw error(no, "field \"txn\" must be an array of micro-ops such as [\"append\",\"x\",1], got "
                    + Json.write(obj.get("txn")));
        }
        List<RawMop> mops = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String where = "micro-op " + (i + 1) + " (" + Json.write(list.get(i)) + ")";
            if (!(list.get(i) instanceof List<?> m) || m.size() != 3 || !(m.get(0) instanceof String f)
                    || !(m.get(1) instanceof String key)) {
                throw error(no, where + " must be [f, key, value] with f \"append\", \"r\" or \"w\" and a string key");
            }
            Object value = m.get(2);
            switch (f) {
                case "append", "w" -> {
                    if (!(value instanceof Long)) {
                        throw error(no, where + ": the value of \"" + f + "\" must be an integer");
                    }
                    if (f.equals("append")) {
                        listKeys.add(key);
                    }
                    mops.add(new RawMop(f, key, value, false));
                }
                case "r" -> {
                    boolean array = value instanceof List<?>;
                    if (array) {
                        for (Object v : (List<?>) value) {
                            if (!(v instanceof Long)) {
                                throw error(no, where + ": a list read's elements must be integers, got " + Json.write(v));
                            }
                        }
                        listKeys.add(key);
                    } else if (value != null && !(value instanceof Long)) {
                        throw error(no, where + ": a read's value must be an array (list), an integer (register)"
                                + " or null");
                    }
                    mops.add(new RawMop(f, key, value, array));
                }
                default -> throw error(no, where + ": unknown function \"" + f + "\"; use \"append\", \"r\" or \"w\"");
            }
        }
        return new RawTxn(no, process, status, invoke, complete, mops);
    }

    @SuppressWarnings("unchecked")
    private static Mop mop(int no, RawMop m, boolean listKey) {
        switch (m.f) {
            case "append":
                return new Mop.Append(m.key, (Long) m.value);
            case "w":
                if (listKey) {
                    throw error(no, "key \"" + m.key + "\" is written as a register here but used as a list elsewhere;"
                            + " use different keys for lists and registers");
                }
                return new Mop.Write(m.key, (Long) m.value);
            default:
                if (listKey) {
                    if (m.value != null && !m.array) {
                        throw error(no, "key \"" + m.key + "\" is a list (appended to or read as an array elsewhere)"
                                + " but is read here as a register, value " + m.value);
                    }
                    return new Mop.Read(m.key, (List<Long>) m.value);
                }
                return new Mop.ReadRegister(m.key, (Long) m.value);
        }
    }

    private static long integer(int no, Map<String, Object> obj, String field, Long absent) {
        Object v = obj.get(field);
        if (v == null && absent != null && !obj.containsKey(field)) {
            return absent;
        }
        if (!(v instanceof Long l)) {
            throw error(no, "field \"" + field + "\" must be an integer, got " + (obj.containsKey(field)
                    ? Json.write(v) : "nothing (it is missing)"));
        }
        return l;
    }

    private static final Pattern TXN = Pattern.compile("\\bT(\\d+)\\b");

    /** Adds the line of each transaction a history-level error names, led by the last (where the problem shows). */
    private static String withLines(String message, List<Integer> lines) {
        StringBuilder where = new StringBuilder();
        Set<Integer> done = new HashSet<>();
        int first = -1;
        Matcher m = TXN.matcher(message);
        while (m.find()) {
            int t = Integer.parseInt(m.group(1));
            if (t < lines.size() && done.add(t)) {
                first = Math.max(first, lines.get(t));
                where.append(where.length() == 0 ? " (" : ", ").append("T").append(t).append(" is line ").append(lines.get(t));
            }
        }
        return first < 0 ? message : "line " + first + ": " + message + where + ")";
    }

    private static IllegalArgumentException error(int line, String what) {
        return new IllegalArgumentException("line " + line + ": " + what);
    }
}
