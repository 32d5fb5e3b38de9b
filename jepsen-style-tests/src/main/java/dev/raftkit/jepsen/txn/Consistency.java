package dev.raftkit.jepsen.txn;

/** The consistency models {@link TxnChecker} judges a history against. */
public enum Consistency {
    /**
     * Serializable: the committed transactions are equivalent to some serial order. Forbids every
     * cycle of ww, wr and rw edges (G0, G1c, G-single, G2-item) and the non-cycle anomalies that
     * show a read of something no serial order produces (G1a, G1b, internal, incompatible order,
     * duplicate elements, garbage reads).
     */
    SERIALIZABLE,
    /**
     * Strict serializable: serializable, and the serial order agrees with real time (a transaction
     * that completed before another was invoked comes first) and so with each process's order.
     * Additionally forbids the cycles that need real-time or process edges, and lost appends.
     */
    STRICT_SERIALIZABLE;

    /** True if this model forbids {@code anomaly}. */
    public boolean forbids(AnomalyType anomaly) {
        return this == STRICT_SERIALIZABLE || !anomaly.needsRealTime();
    }
}
