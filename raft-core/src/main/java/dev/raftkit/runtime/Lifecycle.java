package dev.raftkit.runtime;

import dev.raftkit.core.RaftException;

/**
 * What every stage sees of the server's lifecycle: whether it still runs, the failure that
 * stopped it, and the one way to stop it from inside (fail-stop, Ready contract point 6). A port
 * rather than the server, so a stage reaches no sibling through it.
 */
interface Lifecycle {

    /** True until {@code close()} begins or a stage fails. Any thread. */
    boolean running();

    /** What stopped the server, or null if nothing failed. Any thread. */
    Throwable failure();

    /** The STOPPED refusal for futures failed because the server stops (carrying the failure, if any). */
    RaftException stoppedException();

    /** Fail-stop: the server stops acknowledging and applying; every stage fails what it owns. */
    void fail(Throwable cause, String where);
}
