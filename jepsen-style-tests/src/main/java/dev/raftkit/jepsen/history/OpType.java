package dev.raftkit.jepsen.history;

import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Your operations as a history sees them: what a client asks ({@code I}, the input), what it is
 * answered ({@code O}, the output), which independent key an input touches, and how both are
 * written as JSON (see {@code docs/user-guide.md}, "History format").
 *
 * <pre>{@code
 * sealed interface ListOp permits Append, Read {}
 * record Append(String list, long value) implements ListOp {}
 * record Read(String list) implements ListOp {}
 * OpType<ListOp, List<Long>> lists = OpType.of(Codec.auto(ListOp.class), Codec.listOf(Codec.auto(Long.class)))
 *         .keyedBy(op -> op instanceof Append a ? a.list() : ((Read) op).list())
 *         .readOnlyWhen(op -> op instanceof Read);
 * }</pre>
 *
 * <p>Immutable and thread-safe; the functions given to it must be pure.
 *
 * @param <I> the input type: everything the client sent
 * @param <O> the output type: what a successful ({@link OpStatus#OK}) operation returned;
 *            {@link Void} (always {@code null}) if it returns nothing
 */
public final class OpType<I, O> {

    private static final OpType<Command, Response> KEY_VALUE = OpType.of(Command.class, Response.class)
            .keyedBy(Command::key).readOnlyWhen(c -> c instanceof Command.Read);

    private final Codec<I> input;
    private final Codec<O> output;
    private final Function<? super I, String> key; // null: no key, the whole history is one partition
    private final Predicate<? super I> readOnly;

    private OpType(Codec<I> input, Codec<O> output, Function<? super I, String> key, Predicate<? super I> readOnly) {
        this.input = Objects.requireNonNull(input, "input codec");
        this.output = Objects.requireNonNull(output, "output codec");
        this.key = key;
        this.readOnly = Objects.requireNonNull(readOnly, "readOnly");
    }

    /** Inputs and outputs encoded by {@link Codec#auto}; no key; nothing read-only. */
    public static <I, O> OpType<I, O> of(Class<I> inputType, Class<O> outputType) {
        return new OpType<>(Codec.auto(inputType), Codec.auto(outputType), null, i -> false);
    }

    /** Inputs and outputs encoded by {@code input} and {@code output}; no key; nothing read-only. */
    public static <I, O> OpType<I, O> of(Codec<I> input, Codec<O> output) {
        return new OpType<>(input, output, null, i -> false);
    }

    /** The key-value register's operations ({@link Command}, {@link Response}), keyed by key. */
    public static OpType<Command, Response> keyValue() {
        return KEY_VALUE;
    }

    /**
     * The same type, with each input touching the independent key {@code key} names. Operations on
     * different keys must never affect each other: the checker checks each key on its own.
     */
    public OpType<I, O> keyedBy(Function<? super I, String> key) {
        return new OpType<>(input, output, Objects.requireNonNull(key, "key"), readOnly);
    }

    /**
     * The same type, with inputs matching {@code readOnly} known to change nothing. An
     * indeterminate read-only operation observed nothing and so constrains nothing; the checker
     * drops it instead of searching over it. Purely an optimisation: leaving it out is correct.
     */
    public OpType<I, O> readOnlyWhen(Predicate<? super I> readOnly) {
        return new OpType<>(input, output, key, readOnly);
    }

    /** Whether inputs have keys; without, the whole history is one partition, key {@code ""}. */
    public boolean isKeyed() {
        return key != null;
    }

    /** The key {@code in} touches; {@code ""} for a type without keys. */
    public String key(I in) {
        if (key == null) {
            return "";
        }
        return Objects.requireNonNull(key.apply(in), () -> "the key function returned null for " + in);
    }

    /** Whether {@code in} is known to change nothing. */
    public boolean isReadOnly(I in) {
        return readOnly.test(in);
    }

    public Codec<I> inputCodec() {
        return input;
    }

    public Codec<O> outputCodec() {
        return output;
    }
}
