package dev.raftkit.jepsen.txn;

/**
 * The kinds of edge of the dependency graph (Adya's direct serialization graph, with Elle's
 * real-time and process edges). An edge {@code T1 -> T2} means T1 must come before T2 in any
 * serial order that explains the history (under the consistency models that honour its kind).
 */
public enum EdgeType {
    /** Write-write: T2 overwrote (or appended after) a version T1 installed. */
    WW("ww"),
    /** Write-read: T2 read a version T1 installed. */
    WR("wr"),
    /** Read-write (anti-dependency): T1 read a version that T2 then overwrote or appended after. */
    RW("rw"),
    /** Process order: T1 and then T2 ran on one client process. Honoured by strict serializability. */
    PROCESS("process"),
    /** Real time: T1 completed before T2 was invoked. Honoured by strict serializability. */
    REALTIME("realtime");

    private final String label;

    EdgeType(String label) {
        this.label = label;
    }

    /** The short name used in reports and JSON ({@code ww}, {@code wr}, {@code rw}, {@code process}, {@code realtime}). */
    public String label() {
        return label;
    }

    /** This type's bit in an edge mask. */
    int bit() {
        return 1 << ordinal();
    }
}
