package dev.raftkit.jepsen.txn;

import java.util.List;

/**
 * One anomaly found in a transaction history.
 *
 * @param type what it is
 * @param txns the transactions involved, by index (for a cycle, in cycle order)
 * @param cycle for a cycle anomaly, its edges in order (the last one leads back to the first
 *     transaction); empty for the others
 * @param explanation the anomaly in words
 */
public record Anomaly(AnomalyType type, List<Integer> txns, List<CycleStep> cycle, String explanation) {

    /** Copies the lists. */
    public Anomaly {
        txns = List.copyOf(txns);
        cycle = List.copyOf(cycle);
    }
}
