package dev.raftkit.cli;

import dev.raftkit.jepsen.history.JsonLines;
import java.util.Collection;

/**
 * The one JSON writer of the commands' {@code --json} output: an object built field by field, in
 * the order given, on one line with no spaces (what {@code jq} and a script's line reader take).
 * Strings are escaped as RFC 8259 asks; a null string or object is written as {@code null}.
 *
 * <pre>{@code
 * Json.object().field("node", 2).field("key", "user/1").field("found", true).toString()
 * // {"node":2,"key":"user/1","found":true}
 * }</pre>
 */
final class Json {

    private final StringBuilder b = new StringBuilder("{");
    private boolean empty = true;

    private Json() {
    }

    /** A new, empty object. */
    static Json object() {
        return new Json();
    }

    private StringBuilder name(String name) {
        if (!empty) {
            b.append(',');
        }
        empty = false;
        return b.append(JsonLines.quote(name)).append(':');
    }

    /** A string field ({@code null} if {@code value} is null). */
    Json field(String name, String value) {
        name(name).append(JsonLines.quote(value));
        return this;
    }

    /** A number field. */
    Json field(String name, long value) {
        name(name).append(value);
        return this;
    }

    /** A number field, {@code null} if {@code value} is null. */
    Json field(String name, Long value) {
        name(name).append(value == null ? "null" : value.toString());
        return this;
    }

    /** A boolean field. */
    Json field(String name, boolean value) {
        name(name).append(value);
        return this;
    }

    /** An array of numbers ({@code null} if {@code values} is null). */
    Json field(String name, Collection<? extends Number> values) {
        StringBuilder s = name(name);
        if (values == null) {
            s.append("null");
            return this;
        }
        s.append('[');
        boolean first = true;
        for (Number n : values) {
            s.append(first ? "" : ",").append(n);
            first = false;
        }
        s.append(']');
        return this;
    }

    /** A nested object ({@code null} if {@code value} is null). */
    Json field(String name, Json value) {
        name(name).append(value == null ? "null" : value.toString());
        return this;
    }

    /** An array of objects. */
    Json objects(String name, Collection<Json> values) {
        StringBuilder s = name(name).append('[');
        boolean first = true;
        for (Json j : values) {
            s.append(first ? "" : ",").append(j);
            first = false;
        }
        s.append(']');
        return this;
    }

    /** The object's text, closed. The object may still get fields; the next call shows them too. */
    @Override
    public String toString() {
        return b + "}";
    }
}
