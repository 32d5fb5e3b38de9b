package dev.raftkit.jepsen.history;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * Records your own operations (see {@link OpType}) as clients run them, from any number of
 * threads; {@link HistoryRecorder} is the same for the key-value register.
 *
 * <pre>{@code
 * TypedHistoryRecorder<ListOp, List<Long>> recorder = new TypedHistoryRecorder<>(lists);
 * long id = recorder.invoke(client, new Append("l", 7));   // just before sending the request
 * try {
 *     store.append("l", 7);
 *     recorder.ok(id, null);                                // it took effect, answered nothing
 * } catch (Rejected e) {
 *     recorder.fail(id);                                    // definitely did not take effect
 * } catch (TimeoutException e) {
 *     recorder.info(id);                                    // may or may not take effect
 * }
 * }</pre>
 *
 * <p>Every method may be called from any thread and none blocks for longer than it takes to
 * append to a list. Each timestamp is read from the clock <em>inside</em> the recorder's lock, so
 * the recorded real-time order of events is an order they really happened in: if client A's
 * completion is recorded before client B's invocation, A really finished before B started, which
 * is the only order the linearizability checker trusts. Operations still outstanding when
 * {@link #history()} is taken are indeterminate ({@link OpStatus#INFO}, completion
 * {@link TypedOperation#NEVER}): they may still take effect.
 *
 * @param <I> the input type
 * @param <O> the output type
 */
public final class TypedHistoryRecorder<I, O> {

    private final OpType<I, O> type;
    private final LongSupplier clock;
    private final Object lock = new Object();
    // Guarded by lock. Completed and pending operations, indexed by id.
    private final List<TypedOperation<I, O>> operations = new ArrayList<>();
    private final Map<Long, TypedOperation<I, O>> pending = new HashMap<>();

    /** A recorder that timestamps with {@link System#nanoTime()}. */
    public TypedHistoryRecorder(OpType<I, O> type) {
        this(type, System::nanoTime);
    }

    /** A recorder that timestamps with {@code clock} (e.g. a simulator's virtual clock). */
    public TypedHistoryRecorder(OpType<I, O> type, LongSupplier clock) {
        this.type = Objects.requireNonNull(type, "type");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Records that {@code process} invokes {@code input} now; returns the operation's id. */
    public long invoke(int process, I input) {
        Objects.requireNonNull(input, "input");
        synchronized (lock) {
            long id = operations.size();
            TypedOperation<I, O> op = new TypedOperation<>(id, process, input, clock.getAsLong(), OpStatus.INFO,
                    TypedOperation.NEVER, null);
            operations.add(op);
            pending.put(id, op);
            return id;
        }
    }

    /** Records that operation {@code id} took effect and answered {@code output}. */
    public void ok(long id, O output) {
        complete(id, OpStatus.OK, output, (i, o) -> { });
    }

    /** Records that operation {@code id} definitely did not take effect. */
    public void fail(long id) {
        complete(id, OpStatus.FAIL, null, (i, o) -> { });
    }

    /** Records that the client gave up on operation {@code id}: it may or may not take effect. */
    public void info(long id) {
        complete(id, OpStatus.INFO, null, (i, o) -> { });
    }

    /**
     * Completes {@code id}; {@code check} sees the input and output first and may throw to refuse
     * them, leaving the operation outstanding, to be completed correctly.
     */
    void complete(long id, OpStatus status, O output, BiConsumer<I, O> check) {
        synchronized (lock) {
            TypedOperation<I, O> op = pending.get(id);
            if (op == null) {
                throw new IllegalStateException("operation " + id + " is not outstanding (never invoked, or "
                        + "already completed); each invoke must be completed exactly once");
            }
            check.accept(op.input(), output);
            long now = clock.getAsLong();
            TypedOperation<I, O> done = new TypedOperation<>(id, op.process(), op.input(), op.invokeNanos(), status,
                    Math.max(now, op.invokeNanos()), output);
            pending.remove(id);
            operations.set((int) id, done);
        }
    }

    /** Number of operations invoked so far. */
    public int size() {
        synchronized (lock) {
            return operations.size();
        }
    }

    /** An immutable snapshot; outstanding operations appear as indeterminate. */
    public TypedHistory<I, O> history() {
        synchronized (lock) {
            return TypedHistory.of(type, new ArrayList<>(operations));
        }
    }
}
