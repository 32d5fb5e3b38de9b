package dev.raftkit.jepsen.history;

import java.util.function.LongSupplier;

/**
 * Records key-value operations as clients run them, from any number of threads: a
 * {@link TypedHistoryRecorder} of {@link OpType#keyValue()} that checks each response fits its
 * command.
 *
 * <p>A client calls {@link #invoke} just before it sends a request and one of {@link #ok},
 * {@link #fail} or {@link #info} just after it learns the outcome. Each timestamp is read from the
 * clock <em>inside</em> the recorder's lock, so the recorded real-time order of events is an order
 * they really happened in: if client A's completion is recorded before client B's invocation, A
 * really finished before B started, which is the only order the linearizability checker trusts.
 *
 * <p>Operations still outstanding when {@link #history()} is taken are indeterminate (they may
 * still take effect), and are reported as {@link OpStatus#INFO} with completion {@link Operation#NEVER}.
 */
public final class HistoryRecorder {

    private final TypedHistoryRecorder<Command, Response> recorder;

    /** A recorder that timestamps with {@link System#nanoTime()}. */
    public HistoryRecorder() {
        this(System::nanoTime);
    }

    /** A recorder that timestamps with {@code clock} (e.g. a simulator's virtual clock). */
    public HistoryRecorder(LongSupplier clock) {
        this.recorder = new TypedHistoryRecorder<>(OpType.keyValue(), clock);
    }

    /** Records that {@code process} invokes {@code command} now; returns the operation's id. */
    public long invoke(int process, Command command) {
        return recorder.invoke(process, command);
    }

    /** Records that operation {@code id} completed with {@code response}. */
    public void ok(long id, Response response) {
        recorder.complete(id, OpStatus.OK, response, (command, r) -> {
            if (r == null || !Response.fits(command, r)) {
                throw new IllegalArgumentException("operation " + id + " (" + command
                        + ") completed OK with response " + r + ", which does not fit the command");
            }
        });
    }

    /** Records that operation {@code id} definitely did not take effect. */
    public void fail(long id) {
        recorder.fail(id);
    }

    /** Records that the client gave up on operation {@code id}: it may or may not take effect. */
    public void info(long id) {
        recorder.info(id);
    }

    /** Number of operations invoked so far. */
    public int size() {
        return recorder.size();
    }

    /** An immutable snapshot; outstanding operations appear as indeterminate. */
    public History history() {
        return History.fromTyped(recorder.history());
    }
}
