package dev.raftkit.jepsen.history;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The module's small JSON reader and writer (it has no JSON library), over plain Java values:
 * {@code null}, {@link String}, {@link Boolean}, {@link Long} (integers), {@link BigDecimal}
 * (other numbers), {@link List} (arrays) and {@link Map Map&lt;String, Object&gt;} (objects, in
 * field order). {@link Codec}s translate between these trees and a user's types. Public so that
 * the module's other history format (the transaction histories of {@code dev.raftkit.jepsen.txn})
 * uses the same reader; errors are {@link IllegalArgumentException}s naming the column.
 */
public final class Json {

    private Json() {
    }

    /** Parses one JSON value filling the whole of {@code text}. */
    public static Object parse(String text) {
        Parser p = new Parser(text);
        p.skipSpace();
        Object v = p.value();
        p.skipSpace();
        if (p.pos != text.length()) {
            throw p.error("trailing characters");
        }
        return v;
    }

    /** Parses a JSON object filling the whole of {@code text}, keeping field order. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Parser p = new Parser(text);
        p.skipSpace();
        if (p.pos >= text.length() || text.charAt(p.pos) != '{') {
            throw p.error("expected '{'");
        }
        Object v = parse(text);
        return (Map<String, Object>) v;
    }

    /** Appends {@code value} as JSON text; throws if it is not one of the types above. */
    public static StringBuilder write(Object value, StringBuilder b) {
        if (value == null) {
            b.append("null");
        } else if (value instanceof String s) {
            b.append(JsonLines.quote(s));
        } else if (value instanceof Boolean || value instanceof Long || value instanceof Integer
                || value instanceof Short || value instanceof Byte) {
            b.append(value);
        } else if (value instanceof BigDecimal d) {
            b.append(d.toString());
        } else if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new IllegalArgumentException("JSON has no " + d + "; encode it as a string");
            }
            b.append(BigDecimal.valueOf(d).toString());
        } else if (value instanceof List<?> list) {
            b.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    b.append(',');
                }
                write(list.get(i), b);
            }
            b.append(']');
        } else if (value instanceof Map<?, ?> map) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String name)) {
                    throw new IllegalArgumentException("JSON object keys are strings, got " + e.getKey());
                }
                if (!first) {
                    b.append(',');
                }
                first = false;
                b.append(JsonLines.quote(name)).append(':');
                write(e.getValue(), b);
            }
            b.append('}');
        } else {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " (" + value
                    + ") as JSON: a codec must produce null, String, Boolean, Long, BigDecimal, List or Map");
        }
        return b;
    }

    /** {@link #write(Object, StringBuilder)} into a new string. */
    public static String write(Object value) {
        return write(value, new StringBuilder()).toString();
    }

    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        Object value() {
            char c = peek();
            if (c == '"') {
                return string();
            }
            if (c == '{') {
                return object();
            }
            if (c == '[') {
                return array();
            }
            if (c == '-' || (c >= '0' && c <= '9')) {
                return number();
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
            throw error("expected a value (string, number, boolean, null, array or object)");
        }

        private Map<String, Object> object() {
            Map<String, Object> result = new LinkedHashMap<>();
            expect('{');
            skipSpace();
            if (peek() == '}') {
                pos++;
                return result;
            }
            while (true) {
                skipSpace();
                String name = string();
                skipSpace();
                expect(':');
                skipSpace();
                if (result.containsKey(name)) {
                    throw error("duplicate field '" + name + "'");
                }
                result.put(name, value());
                skipSpace();
                char c = next();
                if (c == '}') {
                    return result;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}'");
                }
            }
        }

        private List<Object> array() {
            List<Object> result = new ArrayList<>();
            expect('[');
            skipSpace();
            if (peek() == ']') {
                pos++;
                return result;
            }
            while (true) {
                skipSpace();
                result.add(value());
                skipSpace();
                char c = next();
                if (c == ']') {
                    return result;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']'");
                }
            }
        }

        private Object number() {
            int start = pos;
            if (peek() == '-') {
                pos++;
            }
            boolean integral = true;
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c >= '0' && c <= '9') {
                    pos++;
                } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                    integral = false;
                    pos++;
                } else {
                    break;
                }
            }
            String text = s.substring(start, pos);
            try {
                return integral ? (Object) Long.parseLong(text) : new BigDecimal(text);
            } catch (NumberFormatException e) {
                pos = start;
                throw error("bad number '" + text + "'");
            }
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

        void skipSpace() {
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

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at column " + (pos + 1));
        }
    }
}
