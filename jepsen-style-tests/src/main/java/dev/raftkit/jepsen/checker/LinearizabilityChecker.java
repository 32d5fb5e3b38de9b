package dev.raftkit.jepsen.checker;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Checks histories for linearizability. Start here:
 *
 * <pre>{@code
 * CheckResult<Operation> result = LinearizabilityChecker.check(history);   // register per key
 * if (!result.isValid()) {
 *     throw new AssertionError(result.toString());   // verdict, per-key explanation
 * }
 * }</pre>
 *
 * <p>Each key is checked on its own (a history is linearizable iff every key's sub-history is);
 * keys are checked one after another against one shared time limit. {@link Verdict#BUDGET_EXCEEDED}
 * is a failure. See the package documentation for how the search works and for checking your own
 * state machine with {@link #check(List, Function, Model, Budget)}.
 */
public final class LinearizabilityChecker {

    private LinearizabilityChecker() {
    }

    /** Checks a key-value history against a {@link RegisterModel} per key, within {@link Budget#DEFAULT}. */
    public static CheckResult<Operation> check(History history) {
        return check(history, new RegisterModel(), Budget.DEFAULT);
    }

    /** Checks a key-value history against a {@link RegisterModel} per key. */
    public static CheckResult<Operation> check(History history, Budget budget) {
        return check(history, new RegisterModel(), budget);
    }

    /**
     * Checks a key-value history against {@code model}, applied to each key separately.
     *
     * <p>Failed operations are dropped: they did not happen. Indeterminate operations may take
     * effect at any time after their invocation, or never. Indeterminate reads are dropped too:
     * they observed nothing, so they constrain nothing.
     */
    public static <S> CheckResult<Operation> check(History history, Model<S, Operation> model, Budget budget) {
        Objects.requireNonNull(history, "history");
        List<Call<Operation>> calls = new ArrayList<>(history.size());
        for (Operation o : history.operations()) {
            if (o.status() == Status.FAIL) {
                continue;
            }
            if (o.status() == Status.INFO) {
                if (!(o.command() instanceof Command.Read)) {
                    calls.add(Call.indeterminate(o, o.invokeNanos()));
                }
                continue;
            }
            calls.add(Call.completed(o, o.invokeNanos(), o.completeNanos()));
        }
        return check(calls, Operation::key, model, budget);
    }

    /**
     * Checks calls on your own model, split into independent partitions by {@code partition}
     * (use {@code op -> ""} for one partition). The model must be such that operations of
     * different partitions never affect each other — e.g. one register per key.
     *
     * @param calls     every operation with its interval; leave out operations known not to have
     *                  happened, and mark timed-out ones {@link Call#indeterminate}
     * @param partition which independent partition an operation belongs to
     * @param model     the sequential specification of one partition, starting from
     *                  {@link Model#init()} in each
     * @param budget    time for the whole check, memoized states per partition
     */
    public static <S, Op> CheckResult<Op> check(List<Call<Op>> calls, Function<? super Op, String> partition,
                                                Model<S, Op> model, Budget budget) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(budget, "budget");
        long started = System.nanoTime();
        long deadline = started + budget.timeLimit().toNanos();
        Map<String, List<Call<Op>>> byKey = new LinkedHashMap<>();
        for (Call<Op> c : calls) {
            byKey.computeIfAbsent(Objects.requireNonNull(partition.apply(c.op()), "partition key"),
                    k -> new ArrayList<>()).add(c);
        }
        Map<String, KeyResult<Op>> results = new LinkedHashMap<>();
        boolean anyInvalid = false;
        boolean anyUnknown = false;
        for (Map.Entry<String, List<Call<Op>>> e : byKey.entrySet()) {
            KeyResult<Op> r = new WglSearch<>(e.getKey(), e.getValue(), model, deadline,
                    budget.maxStatesPerKey()).run();
            results.put(e.getKey(), r);
            anyInvalid |= r.verdict() == Verdict.NOT_LINEARIZABLE;
            anyUnknown |= r.verdict() == Verdict.BUDGET_EXCEEDED;
        }
        Verdict overall = anyInvalid ? Verdict.NOT_LINEARIZABLE
                : anyUnknown ? Verdict.BUDGET_EXCEEDED : Verdict.LINEARIZABLE;
        return new CheckResult<>(overall, results, calls.size(), Duration.ofNanos(System.nanoTime() - started));
    }
}
