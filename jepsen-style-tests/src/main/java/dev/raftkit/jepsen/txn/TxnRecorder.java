package dev.raftkit.jepsen.txn;

import dev.raftkit.jepsen.history.OpStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Records a {@link TxnHistory} live, from any number of client threads: a workload calls
 * {@link #invoke} just before it sends a transaction and one of {@link #ok}, {@link #fail} or
 * {@link #info} when it knows the outcome, then hands {@link #history()} to {@link TxnChecker}.
 *
 * <p>Thread-safe: every method may be called from any thread; each takes one short lock and never
 * blocks otherwise. Times come from the clock given at construction ({@link System#nanoTime} by
 * default), read under the lock so that invocations and completions are stamped in the order they
 * were recorded. A transaction still open when {@link #history()} is called is recorded as
 * indeterminate.
 */
public final class TxnRecorder {

    private final LongSupplier clock;
    private final List<Open> txns = new ArrayList<>();

    private static final class Open {
        final long process;
        final long invoke;
        List<Mop> mops;
        OpStatus status;
        long complete;

        Open(long process, long invoke, List<Mop> mops) {
            this.process = process;
            this.invoke = invoke;
            this.mops = mops;
        }
    }

    /** A recorder on {@link System#nanoTime}. */
    public TxnRecorder() {
        this(System::nanoTime);
    }

    /** A recorder on {@code clock} (a simulator passes its virtual clock). */
    public TxnRecorder(LongSupplier clock) {
        this.clock = clock;
    }

    /**
     * Records the invocation of a transaction and returns its handle (its index in the history).
     *
     * @param process the client process sending it
     * @param mops its micro-operations; reads' values are ignored
     */
    public synchronized int invoke(long process, List<Mop> mops) {
        List<Mop> unread = new ArrayList<>(mops.size());
        for (Mop m : mops) {
            unread.add(m.unread());
        }
        txns.add(new Open(process, clock.getAsLong(), List.copyOf(unread)));
        return txns.size() - 1;
    }

    /**
     * Records that transaction {@code handle} committed, with its micro-operations as completed
     * (reads filled in, same length and order as invoked).
     */
    public synchronized void ok(int handle, List<Mop> completed) {
        Open t = open(handle);
        if (completed.size() != t.mops.size()) {
            throw new IllegalArgumentException("T" + handle + " was invoked with " + t.mops.size()
                    + " micro-operations but completed with " + completed.size());
        }
        t.mops = List.copyOf(completed);
        close(t, OpStatus.OK);
    }

    /** Records that transaction {@code handle} definitely aborted. */
    public synchronized void fail(int handle) {
        close(open(handle), OpStatus.FAIL);
    }

    /** Records that the outcome of transaction {@code handle} is unknown (a timeout, a lost connection). */
    public synchronized void info(int handle) {
        close(open(handle), OpStatus.INFO);
    }

    /** The history so far; transactions not completed yet appear as indeterminate, ending now. */
    public synchronized TxnHistory history() {
        long now = clock.getAsLong();
        TxnHistory.Builder b = TxnHistory.builder();
        for (Open t : txns) {
            if (t.status == null) {
                b.add(t.process, OpStatus.INFO, t.invoke, Math.max(now, t.invoke), t.mops);
            } else {
                b.add(t.process, t.status, t.invoke, t.complete, t.mops);
            }
        }
        return b.build();
    }

    private Open open(int handle) {
        if (handle < 0 || handle >= txns.size()) {
            throw new IllegalArgumentException("no transaction T" + handle + " was invoked on this recorder");
        }
        Open t = txns.get(handle);
        if (t.status != null) {
            throw new IllegalStateException("T" + handle + " was already completed (" + t.status + ")");
        }
        return t;
    }

    private void close(Open t, OpStatus status) {
        t.status = status;
        t.complete = clock.getAsLong();
    }
}
