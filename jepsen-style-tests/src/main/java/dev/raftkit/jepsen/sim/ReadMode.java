package dev.raftkit.jepsen.sim;

/** How simulated clients read. */
public enum ReadMode {
    /** ReadIndex with a heartbeat round (§6.4): linearizable. */
    LINEARIZABLE,
    /** Leader lease (§6.4.1): linearizable while clocks behave. */
    LEASE,
    /** The contacted node's local state, no checks: NOT linearizable; for showing the checker's teeth. */
    LOCAL_UNSAFE
}
