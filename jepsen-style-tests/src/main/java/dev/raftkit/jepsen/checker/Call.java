package dev.raftkit.jepsen.checker;

import java.util.Objects;

/**
 * One operation as the checker sees it: an operation of the model and the real-time interval in
 * which it must have taken effect.
 *
 * @param op           the operation, including its observed response
 * @param invokeNanos  when it was invoked
 * @param returnNanos  when it returned, or {@link #NEVER} if its outcome is unknown: it may then
 *                     take effect at any time after its invocation, or not at all
 * @param <Op>         the model's operation type
 */
public record Call<Op>(Op op, long invokeNanos, long returnNanos) {

    /** The return time of an indeterminate operation: +infinity. */
    public static final long NEVER = Long.MAX_VALUE;

    public Call {
        Objects.requireNonNull(op, "op");
        if (returnNanos < invokeNanos) {
            throw new IllegalArgumentException("call " + op + " returns at " + returnNanos
                    + ", before its invocation at " + invokeNanos);
        }
    }

    /** A call that completed with a known response. */
    public static <Op> Call<Op> completed(Op op, long invokeNanos, long returnNanos) {
        return new Call<>(op, invokeNanos, returnNanos);
    }

    /** A call whose outcome is unknown (timed out): it may or may not ever take effect. */
    public static <Op> Call<Op> indeterminate(Op op, long invokeNanos) {
        return new Call<>(op, invokeNanos, NEVER);
    }

    public boolean isIndeterminate() {
        return returnNanos == NEVER;
    }
}
