package dev.raftkit.jepsen.txn;

/**
 * One edge of an anomaly's cycle: {@code from} must precede {@code to}, and why.
 *
 * @param from the index of the earlier transaction
 * @param to the index of the later transaction
 * @param type the kind of dependency
 * @param key the key that shows it ({@code null} for process and real-time edges)
 * @param why the dependency in words ("T12 appended 3 to x after T7 read x without it")
 */
public record CycleStep(int from, int to, EdgeType type, String key, String why) {
}
