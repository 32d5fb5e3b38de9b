package dev.raftkit.jepsen.checker;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.OpType;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.TypedHistory;
import dev.raftkit.jepsen.history.TypedOperation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

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
 * <p>For your own operations, record a {@link TypedHistory} and give a {@link Model} of them
 * ({@link Model#of} builds one from an initial state and a step function):
 * {@code check(typedHistory, model, CheckOptions.DEFAULT)}.
 *
 * <p>Each key is checked on its own (a history is linearizable iff every key's sub-history is),
 * {@link CheckOptions#parallelism()} keys at a time, against one shared time limit; the result
 * does not depend on thread timing. {@link Verdict#BUDGET_EXCEEDED} is a failure. The calling
 * thread blocks until the check ends; an exception thrown by the model is rethrown to it. See the
 * package documentation for how the search works.
 */
public final class LinearizabilityChecker {

    private LinearizabilityChecker() {
    }

    /** Checks a key-value history against a {@link RegisterModel} per key, with {@link CheckOptions#DEFAULT}. */
    public static CheckResult<Operation> check(History history) {
        return check(history, new RegisterModel(), CheckOptions.DEFAULT);
    }

    /** Checks a key-value history against a {@link RegisterModel} per key. */
    public static CheckResult<Operation> check(History history, Budget budget) {
        return check(history, new RegisterModel(), CheckOptions.of(budget));
    }

    /** Checks a key-value history against a {@link RegisterModel} per key. */
    public static CheckResult<Operation> check(History history, CheckOptions options) {
        return check(history, new RegisterModel(), options);
    }

    /** Checks a key-value history against {@code model}, applied to each key separately. */
    public static <S> CheckResult<Operation> check(History history, Model<S, Operation> model, Budget budget) {
        return check(history, model, CheckOptions.of(budget));
    }

    /**
     * Checks a key-value history against {@code model}, applied to each key separately.
     *
     * <p>Failed operations are dropped: they did not happen. Indeterminate operations may take
     * effect at any time after their invocation, or never. Indeterminate reads are dropped too:
     * they observed nothing, so they constrain nothing.
     */
    public static <S> CheckResult<Operation> check(History history, Model<S, Operation> model, CheckOptions options) {
        Objects.requireNonNull(history, "history");
        return check(calls(history.operations(), Operation::status, o -> o.command() instanceof Command.Read,
                Operation::invokeNanos, Operation::completeNanos), Operation::key, model, options);
    }

    /** Checks a history of your own operations against {@code model}, per key, with {@link CheckOptions#DEFAULT}. */
    public static <S, I, O> CheckResult<TypedOperation<I, O>> check(TypedHistory<I, O> history,
                                                                    Model<S, TypedOperation<I, O>> model) {
        return check(history, model, CheckOptions.DEFAULT);
    }

    /**
     * Checks a history of your own operations against {@code model}, applied to each key of the
     * history's {@link OpType} separately (the whole history at once if it has no keys).
     *
     * <p>Failed operations are dropped: they did not happen. Indeterminate ones may take effect
     * at any time after their invocation, or never; the model sees them with a {@code null}
     * output. Indeterminate operations the type calls {@linkplain OpType#readOnlyWhen read-only}
     * are dropped: they observed nothing, so they constrain nothing.
     */
    public static <S, I, O> CheckResult<TypedOperation<I, O>> check(TypedHistory<I, O> history,
                                                                    Model<S, TypedOperation<I, O>> model,
                                                                    CheckOptions options) {
        Objects.requireNonNull(history, "history");
        OpType<I, O> type = history.type();
        return check(calls(history.operations(), TypedOperation::status, o -> type.isReadOnly(o.input()),
                TypedOperation::invokeNanos, TypedOperation::completeNanos), o -> type.key(o.input()), model, options);
    }

    private static <T> List<Call<T>> calls(List<T> operations, Function<T, OpStatus> status, Predicate<T> readOnly,
                                           ToLongFunction<T> invoked, ToLongFunction<T> completed) {
        List<Call<T>> calls = new ArrayList<>(operations.size());
        for (T o : operations) {
            OpStatus s = status.apply(o);
            if (s == OpStatus.FAIL) {
                continue;
            }
            if (s == OpStatus.INFO) {
                if (!readOnly.test(o)) {
                    calls.add(Call.indeterminate(o, invoked.applyAsLong(o)));
                }
                continue;
            }
            calls.add(Call.completed(o, invoked.applyAsLong(o), completed.applyAsLong(o)));
        }
        return calls;
    }

    /** {@link #check(List, Function, Model, CheckOptions)} with the default options and {@code budget}. */
    public static <S, Op> CheckResult<Op> check(List<Call<Op>> calls, Function<? super Op, String> partition,
                                                Model<S, Op> model, Budget budget) {
        return check(calls, partition, model, CheckOptions.of(budget));
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
     * @param options   the budget, how many partitions at once, whether to stop at the first violation
     */
    public static <S, Op> CheckResult<Op> check(List<Call<Op>> calls, Function<? super Op, String> partition,
                                                Model<S, Op> model, CheckOptions options) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(options, "options");
        long started = System.nanoTime();
        long deadline = started + options.budget().timeLimit().toNanos();
        Map<String, List<Call<Op>>> byKey = new LinkedHashMap<>();
        for (Call<Op> c : calls) {
            byKey.computeIfAbsent(Objects.requireNonNull(partition.apply(c.op()), "partition key"),
                    k -> new ArrayList<>()).add(c);
        }
        List<String> keys = new ArrayList<>(byKey.keySet());
        List<KeyResult<Op>> found = new ArrayList<>(java.util.Collections.nCopies(keys.size(), null));
        boolean stop = options.stopAtFirstViolation();
        // The index of the first key found not linearizable. It only decreases, so a key before it is
        // never cancelled: whatever the timing, every key before the first violation is decided.
        AtomicInteger firstViolation = new AtomicInteger(Integer.MAX_VALUE);
        // Set when a search threw (a broken model): the others stop, and the check rethrows.
        AtomicBoolean aborted = new AtomicBoolean();
        IntConsumer checkKey = i -> {
            BooleanSupplier cancelled = () -> aborted.get() || (stop && firstViolation.get() < i);
            if (cancelled.getAsBoolean()) {
                return;
            }
            String key = keys.get(i);
            KeyResult<Op> r;
            try {
                r = search(key, byKey.get(key), model, deadline, options.budget(), cancelled);
            } catch (RuntimeException | Error e) {
                aborted.set(true);
                throw e;
            }
            if (r != null) {
                synchronized (found) {
                    found.set(i, r);
                }
                if (r.verdict() == Verdict.NOT_LINEARIZABLE) {
                    firstViolation.accumulateAndGet(i, Math::min);
                }
            }
        };
        run(keys.size(), Math.min(options.parallelism(), keys.size()), checkKey);

        Map<String, KeyResult<Op>> results = new LinkedHashMap<>();
        boolean anyInvalid = false;
        boolean anyUnknown = false;
        int last = stop ? Math.min(keys.size() - 1, firstViolation.get()) : keys.size() - 1;
        for (int i = 0; i <= last; i++) {
            KeyResult<Op> r = found.get(i);
            results.put(keys.get(i), r);
            anyInvalid |= r.verdict() == Verdict.NOT_LINEARIZABLE;
            anyUnknown |= r.verdict() == Verdict.BUDGET_EXCEEDED;
        }
        Verdict overall = anyInvalid ? Verdict.NOT_LINEARIZABLE
                : anyUnknown ? Verdict.BUDGET_EXCEEDED : Verdict.LINEARIZABLE;
        return new CheckResult<>(overall, results, calls.size(), Duration.ofNanos(System.nanoTime() - started),
                keys.size() - 1 - last);
    }

    /**
     * One partition's verdict; null if cancelled. First without its indeterminate operations:
     * each may never have taken effect, so a partition linearizable without them is linearizable
     * with them, and most are (a timed-out write that no read returned), while placing n of them
     * multiplies the search by up to 2^n (the subsets that took effect; one seed's 16 timed-out
     * writes on one key exhausted 2,000,000 states). Only a partition that does not linearize
     * without them, or whose search ran out of budget, is searched again with them, and that
     * search gives the verdict.
     */
    private static <S, Op> KeyResult<Op> search(String key, List<Call<Op>> calls, Model<S, Op> model, long deadline,
                                                Budget budget, BooleanSupplier cancelled) {
        List<Call<Op>> settled = calls.stream().filter(c -> !c.isIndeterminate()).toList();
        if (settled.size() < calls.size()) {
            KeyResult<Op> r = new WglSearch<>(key, settled, model, deadline, budget, cancelled).run();
            if (r == null) {
                return null;
            }
            if (r.verdict() == Verdict.LINEARIZABLE) {
                return new KeyResult<>(key, Verdict.LINEARIZABLE, calls.size(), r.exploredStates(), r.elapsed(),
                        r.explanation(), r.budgetNote(), r.estimatedBytes());
            }
        }
        return new WglSearch<>(key, calls, model, deadline, budget, cancelled).run();
    }

    /**
     * Runs {@code task} for 0..count-1, started in that order, on {@code threads} threads (the
     * caller's alone if 1); returns when all have run, rethrowing the first failure.
     */
    private static void run(int count, int threads, IntConsumer task) {
        if (threads <= 1) {
            for (int i = 0; i < count; i++) {
                task.accept(i);
            }
            return;
        }
        AtomicInteger nextKey = new AtomicInteger();
        AtomicInteger threadNo = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "linearizability-checker-" + threadNo.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> workers = new ArrayList<>(threads);
            for (int w = 0; w < threads; w++) {
                workers.add(pool.submit(() -> {
                    for (int i = nextKey.getAndIncrement(); i < count; i = nextKey.getAndIncrement()) {
                        task.accept(i);
                    }
                }));
            }
            for (Future<?> f : workers) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException("a checker thread failed", e.getCause());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking linearizability", e);
        } finally {
            pool.shutdownNow();
        }
    }
}
