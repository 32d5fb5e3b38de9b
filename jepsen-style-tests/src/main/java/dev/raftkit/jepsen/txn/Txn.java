package dev.raftkit.jepsen.txn;

import dev.raftkit.jepsen.history.OpStatus;
import java.util.List;
import java.util.Objects;

/**
 * One transaction of a {@link TxnHistory}: its micro-operations in program order, who ran it and
 * when, and how it ended.
 *
 * <ul>
 *   <li>{@link OpStatus#OK}: committed; its reads carry what they saw.</li>
 *   <li>{@link OpStatus#FAIL}: definitely aborted: none of its writes took effect, and a read
 *       that sees one of them is an aborted read (G1a).</li>
 *   <li>{@link OpStatus#INFO}: indeterminate (the client gave up): its writes may or may not have
 *       taken effect, at any time after {@code invokeNanos}; its reads are not known. The checker
 *       counts it as committed only where a read shows one of its writes, and never reports G1a for
 *       it.</li>
 * </ul>
 *
 * @param index position in the history, 0-based; named {@code T<index>} in explanations
 * @param process the client process that ran it (transactions of one process ran one at a time)
 * @param status how it ended
 * @param invokeNanos when it was invoked, on any clock shared by all processes
 * @param completeNanos when it completed (for {@code INFO}, when the client gave up; the checker
 *     treats an indeterminate transaction as running to +infinity)
 * @param mops its micro-operations in program order
 */
public record Txn(int index, long process, OpStatus status, long invokeNanos, long completeNanos, List<Mop> mops) {

    /** Checks the fields and copies the list. */
    public Txn {
        Objects.requireNonNull(status, "status");
        mops = List.copyOf(mops);
        if (completeNanos < invokeNanos) {
            throw new IllegalArgumentException("transaction T" + index + " completes (" + completeNanos
                    + ") before it is invoked (" + invokeNanos + ")");
        }
    }

    /** {@code T<index>}, as explanations name it. */
    public String name() {
        return "T" + index;
    }
}
