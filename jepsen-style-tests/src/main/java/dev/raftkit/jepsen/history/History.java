package dev.raftkit.jepsen.history;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * An immutable history of client operations on a key-value register, in the order they were
 * invoked (operation {@code i} has id {@code i}).
 *
 * <p>Build one with {@link #builder()} (hand-written or simulated histories), take one from a
 * {@link HistoryRecorder} (real clients on threads), or read one back with {@link JsonLines}.
 */
public final class History {

    private final List<Operation> operations;

    private History(List<Operation> operations) {
        this.operations = Collections.unmodifiableList(operations);
    }

    /**
     * A history of {@code operations}, re-numbered by invocation time (ties keep their given order)
     * so that ids are indexes.
     */
    public static History of(List<Operation> operations) {
        return new History(TypedHistory.renumbered(operations, Operation::invokeNanos, (o, id) -> o.id() == id ? o
                : new Operation(id, o.process(), o.command(), o.invokeNanos(), o.status(), o.completeNanos(),
                o.response())));
    }

    /** The same history as a {@link TypedHistory} of {@link OpType#keyValue()}. */
    public TypedHistory<Command, Response> toTyped() {
        List<TypedOperation<Command, Response>> typed = new ArrayList<>(operations.size());
        for (Operation o : operations) {
            typed.add(new TypedOperation<>(o.id(), o.process(), o.command(), o.invokeNanos(), o.status(),
                    o.completeNanos(), o.response()));
        }
        return TypedHistory.of(OpType.keyValue(), typed);
    }

    /**
     * A key-value history from a typed one; throws {@link IllegalArgumentException} if an OK
     * operation's output does not fit its command (e.g. a read answered with a CAS result).
     */
    public static History fromTyped(TypedHistory<Command, Response> typed) {
        List<Operation> operations = new ArrayList<>(typed.size());
        for (TypedOperation<Command, Response> o : typed.operations()) {
            operations.add(new Operation(o.id(), o.process(), o.input(), o.invokeNanos(), o.status(),
                    o.completeNanos(), o.output()));
        }
        return new History(operations);
    }

    /** All operations in invocation order. */
    public List<Operation> operations() {
        return operations;
    }

    public int size() {
        return operations.size();
    }

    /** The operations of each key, in invocation order; keys in order of first invocation. */
    public Map<String, List<Operation>> byKey() {
        return TypedHistory.byKey(operations, Operation::key);
    }

    /** Counts operations by status, in {@link OpStatus} order. */
    public Map<OpStatus, Integer> countByStatus() {
        return TypedHistory.countByStatus(operations, Operation::status);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof History h && h.operations.equals(operations);
    }

    @Override
    public int hashCode() {
        return operations.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("History[").append(operations.size()).append(" ops]");
        for (Operation o : operations) {
            b.append("\n  ").append(o);
        }
        return b.toString();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds a history from explicit timestamps — for hand-written histories, simulators, and
     * converting histories from other tools. Operations may be added in any order.
     */
    public static final class Builder {
        private final List<Operation> operations = new ArrayList<>();

        private Builder() {
        }

        /** Adds an operation that completed OK with {@code response}. */
        public Builder ok(int process, Command command, Response response, long invokeNanos, long completeNanos) {
            return add(process, command, invokeNanos, OpStatus.OK, completeNanos, response);
        }

        /** Adds an operation that definitely did not take effect. */
        public Builder fail(int process, Command command, long invokeNanos, long completeNanos) {
            return add(process, command, invokeNanos, OpStatus.FAIL, completeNanos, null);
        }

        /** Adds an indeterminate operation: it may take effect at any time after {@code invokeNanos}. */
        public Builder info(int process, Command command, long invokeNanos) {
            return add(process, command, invokeNanos, OpStatus.INFO, Operation.NEVER, null);
        }

        /** Adds an acknowledged write. */
        public Builder write(int process, String key, String value, long invokeNanos, long completeNanos) {
            return ok(process, Command.write(key, value), Response.written(), invokeNanos, completeNanos);
        }

        /** Adds a read that observed {@code observed} ({@code null} = absent). */
        public Builder read(int process, String key, String observed, long invokeNanos, long completeNanos) {
            return ok(process, Command.read(key), Response.read(observed), invokeNanos, completeNanos);
        }

        /** Adds a CAS that completed OK, having swapped or having found another value. */
        public Builder cas(int process, String key, String expected, String newValue, boolean swapped,
                           long invokeNanos, long completeNanos) {
            return ok(process, Command.cas(key, expected, newValue), Response.cas(swapped), invokeNanos,
                    completeNanos);
        }

        /** Adds any operation; its id is reassigned by {@link History#of}. */
        public Builder add(Operation operation) {
            operations.add(operation);
            return this;
        }

        private Builder add(int process, Command command, long invokeNanos, OpStatus status, long completeNanos,
                            Response response) {
            return add(new Operation(operations.size(), process, command, invokeNanos, status, completeNanos,
                    response));
        }

        public History build() {
            return History.of(operations);
        }
    }
}
