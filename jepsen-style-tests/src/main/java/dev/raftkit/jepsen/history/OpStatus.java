package dev.raftkit.jepsen.history;

/** How an operation completed, in Jepsen's terms. */
public enum OpStatus {
    /** Completed with a response: it took effect exactly once, between invoke and completion. */
    OK,
    /** Definitely did not take effect (e.g. rejected before it reached the log). */
    FAIL,
    /**
     * Indeterminate ("info"): the client stopped waiting (timeout, lost connection). The operation
     * may never take effect, or take effect at any time after its invocation — even after the
     * history ends. The checker therefore treats its completion as at +infinity.
     */
    INFO
}
