package dev.raftkit.jepsen.txn;

/**
 * The anomalies {@link TxnChecker} reports, named as Adya and Elle name them. The cycle anomalies
 * (G0 to G2-item, and their {@code -process} and {@code -realtime} variants) come with the
 * smallest cycle found; the others with the transactions and values that show them.
 */
public enum AnomalyType {
    /** Write cycle: a cycle of ww edges only (dirty write). */
    G0("G0", true, false),
    /** Circular information flow: a cycle of ww and wr edges, at least one wr. */
    G1C("G1c", true, false),
    /** Read skew: a cycle of ww and wr edges with exactly one rw edge. */
    G_SINGLE("G-single", true, false),
    /** Anti-dependency cycle: a cycle with two or more rw edges (write skew). */
    G2_ITEM("G2-item", true, false),
    /** A G0 cycle that needs process edges (and no real-time edge). */
    G0_PROCESS("G0-process", true, true),
    /** A G1c cycle that needs process edges. */
    G1C_PROCESS("G1c-process", true, true),
    /** A G-single cycle that needs process edges. */
    G_SINGLE_PROCESS("G-single-process", true, true),
    /** A G2-item cycle that needs process edges. */
    G2_ITEM_PROCESS("G2-item-process", true, true),
    /** A G0 cycle that needs real-time edges: serializable, but not in real-time order. */
    G0_REALTIME("G0-realtime", true, true),
    /** A G1c cycle that needs real-time edges. */
    G1C_REALTIME("G1c-realtime", true, true),
    /** A G-single cycle that needs real-time edges (a stale read, for one). */
    G_SINGLE_REALTIME("G-single-realtime", true, true),
    /** A G2-item cycle that needs real-time edges. */
    G2_ITEM_REALTIME("G2-item-realtime", true, true),
    /** Aborted read: a committed transaction read a value written by a failed one. */
    G1A("G1a", false, false),
    /** Intermediate read: a transaction read a value another one later overwrote (or appended after) itself. */
    G1B("G1b", false, false),
    /** A transaction's read disagrees with its own earlier reads and writes of that key. */
    INTERNAL("internal", false, false),
    /** Two reads of one list that are not prefixes of one another: no single order of appends explains both. */
    INCOMPATIBLE_ORDER("incompatible-order", false, false),
    /** A read of a list that holds one value twice, though it was appended once. */
    DUPLICATE_ELEMENTS("duplicate-elements", false, false),
    /** A read of a value no transaction wrote. */
    GARBAGE_READ("garbage-read", false, false),
    /**
     * Lost append: an acknowledged append that no read ever shows, though a read of its key was
     * invoked after it completed. Serializable (that read may be ordered first), not strict.
     */
    LOST_APPEND("lost-append", false, true);

    private final String label;
    private final boolean cycle;
    private final boolean realTime;

    AnomalyType(String label, boolean cycle, boolean realTime) {
        this.label = label;
        this.cycle = cycle;
        this.realTime = realTime;
    }

    /** The name reports use ({@code G-single}, {@code G1a}, {@code incompatible-order}, ...). */
    public String label() {
        return label;
    }

    /** True for the anomalies shown by a cycle in the dependency graph. */
    public boolean isCycle() {
        return cycle;
    }

    /** True if only strict serializability forbids it (it needs real-time or process order). */
    public boolean needsRealTime() {
        return realTime;
    }
}
