package dev.raftkit.jepsen.checker;

import java.util.List;

/**
 * Why one key's history is not linearizable, from the deepest point the search reached: the
 * longest sequence of operations that could be linearized consistently with real time, and the
 * operation that then had to take effect but could not in any order.
 *
 * @param prefixLength     how many operations the longest linearizable prefix holds
 * @param prefixTail       its last operations (at most {@link #TAIL}), in linearization order
 * @param stateAfterPrefix the model state after that prefix, as described by the model
 * @param stuck            an operation that returned before any further operation could be
 *                         linearized: it could not take effect, neither now nor after any of
 *                         the operations concurrent with it
 * @param concurrent       the not-yet-linearized operations invoked before {@code stuck} returned
 *                         (at most {@link #TAIL}): the alternatives the search also tried
 * @param <Op>             the model's operation type
 */
public record Explanation<Op>(int prefixLength, List<Op> prefixTail, String stateAfterPrefix, Op stuck,
                              List<Op> concurrent) {

    /** How many operations of the prefix and of the concurrent set an explanation keeps. */
    public static final int TAIL = 10;

    public Explanation {
        prefixTail = List.copyOf(prefixTail);
        concurrent = List.copyOf(concurrent);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        b.append("longest linearizable prefix: ").append(prefixLength).append(" ops");
        if (prefixLength > prefixTail.size()) {
            b.append(", ending with:");
        } else if (!prefixTail.isEmpty()) {
            b.append(':');
        }
        for (Op op : prefixTail) {
            b.append("\n    ").append(op);
        }
        b.append("\n  state after it: ").append(stateAfterPrefix);
        b.append("\n  cannot linearize: ").append(stuck);
        if (!concurrent.isEmpty()) {
            b.append("\n  (nor any order of the concurrent, unlinearized:");
            for (Op op : concurrent) {
                b.append("\n    ").append(op);
            }
            b.append(')');
        }
        return b.toString();
    }
}
