package dev.raftkit.jepsen.history;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * An immutable history of your own operations (see {@link OpType}), in the order they were
 * invoked (operation {@code i} has id {@code i}). Record one with a {@link TypedHistoryRecorder},
 * build one with {@link #builder}, or read one with {@link JsonLines#read(java.io.Reader, OpType)};
 * check it with {@code LinearizabilityChecker.check(TypedHistory, Model, ...)}.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
public final class TypedHistory<I, O> {

    private final OpType<I, O> type;
    private final List<TypedOperation<I, O>> operations;

    private TypedHistory(OpType<I, O> type, List<TypedOperation<I, O>> operations) {
        this.type = type;
        this.operations = Collections.unmodifiableList(operations);
    }

    /**
     * A history of {@code operations}, re-numbered by invocation time (ties keep their given order)
     * so that ids are indexes.
     */
    public static <I, O> TypedHistory<I, O> of(OpType<I, O> type, List<TypedOperation<I, O>> operations) {
        Objects.requireNonNull(type, "type");
        return new TypedHistory<>(type, renumbered(operations, TypedOperation::invokeNanos, TypedOperation::withId));
    }

    /** The operations' type: keys and codecs. */
    public OpType<I, O> type() {
        return type;
    }

    /** All operations in invocation order. */
    public List<TypedOperation<I, O>> operations() {
        return operations;
    }

    public int size() {
        return operations.size();
    }

    /** The operations of each key, in invocation order; keys in order of first invocation. */
    public Map<String, List<TypedOperation<I, O>>> byKey() {
        return byKey(operations, op -> type.key(op.input()));
    }

    /** Counts operations by status, in {@link OpStatus} order. */
    public Map<OpStatus, Integer> countByStatus() {
        return countByStatus(operations, TypedOperation::status);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TypedHistory<?, ?> h && h.operations.equals(operations);
    }

    @Override
    public int hashCode() {
        return operations.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("History[").append(operations.size()).append(" ops]");
        for (TypedOperation<I, O> o : operations) {
            b.append("\n  ").append(o);
        }
        return b.toString();
    }

    // Shared with the key-value History, which holds Operations rather than TypedOperations.

    static <T> List<T> renumbered(List<T> operations, ToLongFunction<T> invokeNanos, BiFunction<T, Long, T> withId) {
        List<T> sorted = new ArrayList<>(operations);
        sorted.sort((a, b) -> Long.compare(invokeNanos.applyAsLong(a), invokeNanos.applyAsLong(b)));
        List<T> renumbered = new ArrayList<>(sorted.size());
        for (int i = 0; i < sorted.size(); i++) {
            renumbered.add(withId.apply(sorted.get(i), (long) i));
        }
        return renumbered;
    }

    static <T> Map<String, List<T>> byKey(List<T> operations, Function<T, String> key) {
        Map<String, List<T>> byKey = new LinkedHashMap<>();
        for (T o : operations) {
            byKey.computeIfAbsent(key.apply(o), k -> new ArrayList<>()).add(o);
        }
        return byKey;
    }

    static <T> Map<OpStatus, Integer> countByStatus(List<T> operations, Function<T, OpStatus> status) {
        Map<OpStatus, Integer> counts = new LinkedHashMap<>();
        for (OpStatus s : OpStatus.values()) {
            counts.put(s, 0);
        }
        for (T o : operations) {
            counts.merge(status.apply(o), 1, Integer::sum);
        }
        return counts;
    }

    public static <I, O> Builder<I, O> builder(OpType<I, O> type) {
        return new Builder<>(type);
    }

    /**
     * Builds a history from explicit timestamps — for hand-written histories, simulators, and
     * converting histories from other tools. Operations may be added in any order.
     */
    public static final class Builder<I, O> {
        private final OpType<I, O> type;
        private final List<TypedOperation<I, O>> operations = new ArrayList<>();

        private Builder(OpType<I, O> type) {
            this.type = Objects.requireNonNull(type, "type");
        }

        /** Adds an operation that completed OK with {@code output}. */
        public Builder<I, O> ok(int process, I input, O output, long invokeNanos, long completeNanos) {
            return add(process, input, invokeNanos, OpStatus.OK, completeNanos, output);
        }

        /** Adds an operation that definitely did not take effect. */
        public Builder<I, O> fail(int process, I input, long invokeNanos, long completeNanos) {
            return add(process, input, invokeNanos, OpStatus.FAIL, completeNanos, null);
        }

        /** Adds an indeterminate operation: it may take effect at any time after {@code invokeNanos}, or never. */
        public Builder<I, O> info(int process, I input, long invokeNanos) {
            return add(process, input, invokeNanos, OpStatus.INFO, TypedOperation.NEVER, null);
        }

        /** Adds any operation; its id is reassigned by {@link TypedHistory#of}. */
        public Builder<I, O> add(TypedOperation<I, O> operation) {
            operations.add(Objects.requireNonNull(operation, "operation"));
            return this;
        }

        private Builder<I, O> add(int process, I input, long invokeNanos, OpStatus status, long completeNanos, O output) {
            return add(new TypedOperation<>(operations.size(), process, input, invokeNanos, status, completeNanos,
                    output));
        }

        public TypedHistory<I, O> build() {
            return TypedHistory.of(type, operations);
        }
    }
}
