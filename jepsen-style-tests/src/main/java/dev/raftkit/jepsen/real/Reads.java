package dev.raftkit.jepsen.real;

/** How the workload reads. */
public enum Reads {
    /** ReadIndex through the leader. */
    LINEARIZABLE,
    /** Leader lease (safe while clocks drift less than the lease margin). */
    LEASE,
    /** Half linearizable, half lease (the default). */
    MIXED,
    /**
     * Deliberately unsafe: a STALE read at a random node with no minimum index — whatever that
     * node has applied. A partitioned node serves old values, so the checker must say INVALID.
     */
    LOCAL
}
