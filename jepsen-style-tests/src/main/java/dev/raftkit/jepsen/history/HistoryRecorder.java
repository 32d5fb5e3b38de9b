package dev.raftkit.jepsen.history;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Records operations as clients run them, from any number of threads.
 *
 * <p>A client calls {@link #invoke} just before it sends a request and one of {@link #ok},
 * {@link #fail} or {@link #info} just after it learns the outcome. Each timestamp is read from the
 * clock <em>inside</em> the recorder's lock, so the recorded real-time order of events is an order
 * they really happened in: if client A's completion is recorded before client B's invocation, A
 * really finished before B started, which is the only order the linearizability checker trusts.
 *
 * <p>Operations still outstanding when {@link #history()} is taken are indeterminate (they may
 * still take effect), and are reported as {@link Status#INFO} with completion {@link Operation#NEVER}.
 */
public final class HistoryRecorder {

    private final LongSupplier clock;
    private final Object lock = new Object();
    // Guarded by lock. Completed and pending operations, indexed by id.
    private final List<Operation> operations = new ArrayList<>();
    private final Map<Long, Operation> pending = new HashMap<>();

    /** A recorder that timestamps with {@link System#nanoTime()}. */
    public HistoryRecorder() {
        this(System::nanoTime);
    }

    /** A recorder that timestamps with {@code clock} (e.g. a simulator's virtual clock). */
    public HistoryRecorder(LongSupplier clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Records that {@code process} invokes {@code command} now; returns the operation's id. */
    public long invoke(int process, Command command) {
        Objects.requireNonNull(command, "command");
        synchronized (lock) {
            long id = operations.size();
            Operation op = new Operation(id, process, command, clock.getAsLong(), Status.INFO, Operation.NEVER,
                    null);
            operations.add(op);
            pending.put(id, op);
            return id;
        }
    }

    /** Records that operation {@code id} completed with {@code response}. */
    public void ok(long id, Response response) {
        complete(id, Status.OK, response);
    }

    /** Records that operation {@code id} definitely did not take effect. */
    public void fail(long id) {
        complete(id, Status.FAIL, null);
    }

    /** Records that the client gave up on operation {@code id}: it may or may not take effect. */
    public void info(long id) {
        complete(id, Status.INFO, null);
    }

    private void complete(long id, Status status, Response response) {
        synchronized (lock) {
            Operation op = pending.get(id);
            if (op == null) {
                throw new IllegalStateException("operation " + id + " is not outstanding (never invoked, or "
                        + "already completed); each invoke must be completed exactly once");
            }
            long now = clock.getAsLong();
            // Built before the op leaves `pending`: if the response does not fit the command, the
            // constructor throws and the op stays outstanding, to be completed correctly.
            Operation done = new Operation(id, op.process(), op.command(), op.invokeNanos(), status,
                    Math.max(now, op.invokeNanos()), response);
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
    public History history() {
        synchronized (lock) {
            return History.of(new ArrayList<>(operations));
        }
    }
}
