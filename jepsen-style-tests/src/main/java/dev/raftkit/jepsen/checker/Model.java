package dev.raftkit.jepsen.checker;

import java.util.Optional;

/**
 * A sequential specification: the state machine a history must be explainable by.
 *
 * <p>The checker asks, over and over, "if operation {@code op} took effect in state {@code s},
 * would the system have answered what the history says it answered, and what state follows?".
 * The operation type therefore carries both what was asked and what was answered.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #step} is pure and deterministic: same state and operation, same answer; it may be
 *       called millions of times, in any order, and must not mutate {@code state};</li>
 *   <li>states are immutable values with {@code equals}/{@code hashCode}: the search memoizes on
 *       them, so two states that behave the same should be equal (a compact state means a small
 *       search);</li>
 *   <li>{@code step} never returns a null state.</li>
 * </ul>
 *
 * <p>For an operation whose outcome is unknown (it timed out), {@code step} should describe the
 * case where it <em>did</em> take effect; the checker itself covers the case where it did not.
 *
 * @param <S>  the state type
 * @param <Op> the operation type (invocation plus observed response)
 */
public interface Model<S, Op> {

    /** The state before any operation. */
    S init();

    /**
     * The state after {@code op} takes effect in {@code state}, or empty if the response recorded in
     * {@code op} is impossible in {@code state} (e.g. a read observed a different value).
     */
    Optional<S> step(S state, Op op);

    /** A short description of a state for failure explanations; {@code toString} by default. */
    default String describe(S state) {
        return String.valueOf(state);
    }
}
