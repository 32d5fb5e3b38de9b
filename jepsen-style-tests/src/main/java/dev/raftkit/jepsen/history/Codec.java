package dev.raftkit.jepsen.history;

import java.util.Objects;
import java.util.function.Function;

/**
 * Translates one of your types to and from a JSON value, for the JSON-lines history format.
 *
 * <p>A JSON value is a plain Java value: {@code null}, {@link String}, {@link Boolean},
 * {@link Long} (an integer), {@link java.math.BigDecimal} (any other number), a {@link java.util.List}
 * of JSON values (an array) or a {@link java.util.Map Map&lt;String, Object&gt;} of them (an object).
 * {@link #toJson} may also return {@link Integer}, {@link Double} and other boxed numbers; they are
 * written as numbers and read back as {@link Long} or {@link java.math.BigDecimal}.
 *
 * <p>Most types need no hand-written codec: {@link #auto} handles strings, numbers, booleans,
 * enums, records, lists, and sealed interfaces whose implementations are records.
 *
 * <p>A codec never sees {@code null}: the JSON-lines writer and reader translate a {@code null}
 * output (e.g. of an operation that answers nothing) to JSON {@code null} and back themselves.
 *
 * <p>Codecs are called on the thread that writes or reads the history; they must be pure. A
 * {@link #fromJson} that cannot decode its input throws {@link IllegalArgumentException} saying
 * what it expected; the reader adds the line number.
 *
 * @param <T> the type encoded
 */
public interface Codec<T> {

    /** {@code value} as a JSON value (see the class documentation). */
    Object toJson(T value);

    /** The value {@code json} encodes; throws {@link IllegalArgumentException} if it encodes none. */
    T fromJson(Object json);

    /** A codec from two functions. */
    static <T> Codec<T> of(Function<? super T, Object> toJson, Function<Object, ? extends T> fromJson) {
        Objects.requireNonNull(toJson, "toJson");
        Objects.requireNonNull(fromJson, "fromJson");
        return new Codec<>() {
            @Override
            public Object toJson(T value) {
                return toJson.apply(value);
            }

            @Override
            public T fromJson(Object json) {
                return fromJson.apply(json);
            }
        };
    }

    /** A codec for lists, as JSON arrays of {@code element}'s values; reads back immutable lists. */
    static <T> Codec<java.util.List<T>> listOf(Codec<T> element) {
        Objects.requireNonNull(element, "element");
        return of(list -> {
            java.util.List<Object> out = new java.util.ArrayList<>(list.size());
            for (T e : list) {
                out.add(element.toJson(e));
            }
            return out;
        }, json -> {
            if (!(json instanceof java.util.List<?> array)) {
                throw new IllegalArgumentException("expected an array, has " + json);
            }
            java.util.List<T> out = new java.util.ArrayList<>(array.size());
            for (Object e : array) {
                out.add(element.fromJson(e));
            }
            return java.util.Collections.unmodifiableList(out);
        });
    }

    /**
     * A codec for {@code type} by its shape:
     * <ul>
     *   <li>{@link String}, {@link Boolean}, {@link Long}, {@link Integer}, {@link Double},
     *       their primitives, and {@link java.math.BigDecimal}: as themselves;</li>
     *   <li>an enum: its constant's name;</li>
     *   <li>a record: an object with one field per component, in declaration order, each encoded
     *       by the codec for the component's declared type; {@code List<X>} components as arrays;</li>
     *   <li>a sealed interface whose permitted subtypes are records: the record's object with an
     *       extra first field {@code "f"} naming the record's simple name (so a component may not
     *       be called {@code f});</li>
     *   <li>{@link Void}: {@code null} (an operation that answers nothing).</li>
     * </ul>
     * Nested and non-public records work (their components are read reflectively). Throws
     * {@link IllegalArgumentException} now, naming the part, for a type it cannot handle.
     */
    static <T> Codec<T> auto(Class<T> type) {
        return AutoCodec.forClass(type);
    }
}
