package dev.raftkit.jepsen.history;

import java.util.Locale;
import java.util.Objects;

/**
 * One client operation of your own type (see {@link OpType}): its invocation and its completion.
 * The key-value {@link Operation} is the same thing for the built-in register operations.
 *
 * @param id            unique within a history; also its index in {@link TypedHistory#operations()}
 * @param process       the client (process) that issued it; a client issues one operation at a time
 * @param input         what was asked
 * @param invokeNanos   when the client invoked it (virtual or real nanoseconds)
 * @param status        how it completed: {@link OpStatus#OK} (took effect once, answered
 *                      {@code output}), {@link OpStatus#FAIL} (definitely did not take effect) or
 *                      {@link OpStatus#INFO} (unknown: may or may not take effect, at any time
 *                      after its invocation)
 * @param completeNanos when the client saw the completion; for {@link OpStatus#INFO} the time the
 *                      client gave up ({@link #NEVER} if it never completed)
 * @param output        the answer of an {@link OpStatus#OK} operation (may be {@code null}, e.g. for
 *                      {@link Void}); always {@code null} otherwise
 * @param <I>           the input type
 * @param <O>           the output type
 */
public record TypedOperation<I, O>(long id, int process, I input, long invokeNanos, OpStatus status,
                                   long completeNanos, O output) {

    /** Completion time of an operation that never completed. */
    public static final long NEVER = Long.MAX_VALUE;

    public TypedOperation {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(status, "status");
        if (completeNanos < invokeNanos) {
            throw new IllegalArgumentException("operation " + id + " completes at " + completeNanos
                    + " before its invocation at " + invokeNanos + "; timestamps must not go backwards");
        }
        if (status != OpStatus.OK && output != null) {
            throw new IllegalArgumentException("operation " + id + " completed " + status
                    + " but carries an output " + output + "; only OK operations have one");
        }
    }

    /** The same operation under another id. */
    public TypedOperation<I, O> withId(long newId) {
        return newId == id ? this : new TypedOperation<>(newId, process, input, invokeNanos, status, completeNanos,
                output);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder().append('#').append(id).append(" p").append(process).append(' ')
                .append(input).append(' ').append(status.name().toLowerCase(Locale.ROOT));
        if (status == OpStatus.OK && output != null) {
            b.append(" -> ").append(output);
        }
        return b.append(" [").append(invokeNanos).append(", ")
                .append(completeNanos == NEVER ? "never" : Long.toString(completeNanos)).append(']').toString();
    }
}
