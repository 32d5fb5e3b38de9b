package dev.raftkit.node;

import java.util.Collection;

/**
 * A tiny JSON writer for the HTTP port's answers: an object or an array built value by value, in
 * the order given, on one line. Strings are escaped as RFC 8259 asks (quote, backslash and every
 * control character), so event details and failure messages cannot break the document.
 */
final class JsonText {

    private final StringBuilder b;
    private final char close;
    private boolean empty = true;

    private JsonText(char open, char close) {
        this.b = new StringBuilder().append(open);
        this.close = close;
    }

    /** A new, empty object. */
    static JsonText object() {
        return new JsonText('{', '}');
    }

    /** A new, empty array. */
    static JsonText array() {
        return new JsonText('[', ']');
    }

    private StringBuilder next() {
        if (!empty) {
            b.append(',');
        }
        empty = false;
        return b;
    }

    private StringBuilder name(String name) {
        return quote(next(), name).append(':');
    }

    /** A string field ({@code null} if {@code value} is null). */
    JsonText field(String name, String value) {
        StringBuilder s = name(name);
        if (value == null) {
            s.append("null");
        } else {
            quote(s, value);
        }
        return this;
    }

    /** A number field. */
    JsonText field(String name, long value) {
        name(name).append(value);
        return this;
    }

    /** A boolean field. */
    JsonText field(String name, boolean value) {
        name(name).append(value);
        return this;
    }

    /** A nested object or array ({@code null} if {@code value} is null). */
    JsonText field(String name, JsonText value) {
        name(name).append(value == null ? "null" : value.toString());
        return this;
    }

    /** An array of numbers. */
    JsonText field(String name, Collection<? extends Number> values) {
        JsonText a = array();
        values.forEach(v -> a.next().append(v.longValue()));
        return field(name, a);
    }

    /** Appends an element to this array. */
    JsonText add(JsonText value) {
        next().append(value.toString());
        return this;
    }

    private static StringBuilder quote(StringBuilder s, String text) {
        s.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                default -> {
                    if (c < 0x20) {
                        s.append(String.format("\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        return s.append('"');
    }

    @Override
    public String toString() {
        return b + String.valueOf(close);
    }
}
