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
 *       called millions of times, in any order, from several threads at once (keys are checked in
 *       parallel), and must not mutate {@code state}; it must not block;</li>
 *   <li>states are immutable values with {@code equals}/{@code hashCode}: the search memoizes on
 *       them, so two states that behave the same should be equal (a compact state means a small
 *       search);</li>
 *   <li>{@code step} never returns a null state;</li>
 *   <li>an exception thrown by {@code init}, {@code step} or {@code estimatedBytes} is a bug in
 *       the model: it stops the whole check and is rethrown to the caller of
 *       {@link LinearizabilityChecker}{@code .check} — it is never read as a verdict.</li>
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

    /**
     * Roughly how many bytes {@code state} holds, for the {@link Budget}'s memory bound; the search
     * keeps every distinct state it meets. 32 by default (an object with a few fields); override
     * it for states that grow, e.g. {@code 16 + 8 * list.size()} for a list of longs.
     */
    default long estimatedBytes(S state) {
        return 32;
    }

    /**
     * How one operation of a {@link Model#of} model takes effect.
     *
     * @param <S> the state type
     * @param <I> the input type
     * @param <O> the output type
     */
    @FunctionalInterface
    interface Step<S, I, O> {
        /**
         * The state after {@code input} takes effect in {@code state} and answers {@code output},
         * or empty if it could not have answered that there. {@code output} is {@code null} when
         * the operation's outcome is unknown (it timed out): then describe the case where it took
         * effect, answering whatever it would have (the checker covers the case where it did not).
         */
        Optional<S> apply(S state, I input, O output);
    }

    /**
     * A model of typed operations (see {@link dev.raftkit.jepsen.history.OpType}) from an initial
     * state and a step function. Like every model it is called from the checker's threads, possibly
     * several at once, so {@code step} must be pure.
     */
    static <S, I, O> Model<S, dev.raftkit.jepsen.history.TypedOperation<I, O>> of(
            java.util.function.Supplier<S> init, Step<S, I, O> step) {
        java.util.Objects.requireNonNull(init, "init");
        java.util.Objects.requireNonNull(step, "step");
        return new Model<>() {
            @Override
            public S init() {
                return init.get();
            }

            @Override
            public Optional<S> step(S state, dev.raftkit.jepsen.history.TypedOperation<I, O> op) {
                return step.apply(state, op.input(), op.output());
            }
        };
    }
}
