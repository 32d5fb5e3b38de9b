package dev.raftkit.jepsen.txn;

import dev.raftkit.jepsen.history.OpStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A history of transactions for {@link TxnChecker}: every transaction with its process, invoke and
 * complete times, status, and micro-operations (reads filled in for ok ones). Built whole with
 * {@link #builder()}, recorded live with a {@link TxnRecorder}, or read from a file with
 * {@link TxnJsonLines}.
 *
 * <p>A history is checked on construction for what the checker relies on: values unique per key
 * (two appends, or two writes, of the same value to one key cannot be told apart), each key used
 * as a list or as a register but not both, and every read of an ok transaction known. Breaking
 * one throws an {@link IllegalArgumentException} naming the transactions involved.
 *
 * @param txns the transactions; {@code txns.get(i).index() == i}
 */
public record TxnHistory(List<Txn> txns) {

    /** Validates the history (see the type's description) and copies the list. */
    public TxnHistory {
        txns = List.copyOf(txns);
        Map<String, Boolean> listKeys = new HashMap<>();
        Map<String, Map<Long, Integer>> writers = new HashMap<>();
        for (int i = 0; i < txns.size(); i++) {
            Txn t = txns.get(i);
            if (t.index() != i) {
                throw new IllegalArgumentException("transaction at position " + i + " has index " + t.index()
                        + "; a history's transactions are numbered 0, 1, 2, ... in order");
            }
            for (Mop m : t.mops()) {
                boolean list = m instanceof Mop.Append || m instanceof Mop.Read;
                Boolean before = listKeys.putIfAbsent(m.key(), list);
                if (before != null && before != list) {
                    throw new IllegalArgumentException(t.name() + " uses key '" + m.key() + "' as a "
                            + (list ? "list" : "register") + " but an earlier transaction used it as a "
                            + (list ? "register" : "list") + "; use different keys for the two workloads");
                }
                if (m instanceof Mop.Read r && r.values() == null && t.status() == OpStatus.OK) {
                    throw new IllegalArgumentException(t.name() + " completed ok but its read of '" + m.key()
                            + "' has no value; an ok transaction's list reads must say what they saw ([] for empty)");
                }
                long value;
                if (m instanceof Mop.Append a) {
                    value = a.value();
                } else if (m instanceof Mop.Write w) {
                    value = w.value();
                } else {
                    continue;
                }
                Integer other = writers.computeIfAbsent(m.key(), k -> new HashMap<>()).putIfAbsent(value, i);
                if (other != null) {
                    throw new IllegalArgumentException("value " + value + " is written to key '" + m.key()
                            + "' by both T" + other + " and T" + i + (other == i ? " (twice)" : "")
                            + "; the checker needs every value written to a key to be unique");
                }
            }
        }
    }

    /** A builder that numbers transactions in the order they are added. */
    public static Builder builder() {
        return new Builder();
    }

    /** The number of transactions. */
    public int size() {
        return txns.size();
    }

    /** Builds a {@link TxnHistory} one transaction at a time (not thread-safe; see {@link TxnRecorder}). */
    public static final class Builder {
        private final List<Txn> txns = new ArrayList<>();

        private Builder() {
        }

        /**
         * Adds a transaction and returns its index.
         *
         * @param process the process that ran it
         * @param status how it ended
         * @param invokeNanos when it was invoked
         * @param completeNanos when it completed (or was given up on)
         * @param mops its micro-operations, reads filled in when {@code status} is OK
         * @return the new transaction's index
         */
        public int add(long process, OpStatus status, long invokeNanos, long completeNanos, List<Mop> mops) {
            txns.add(new Txn(txns.size(), process, status, invokeNanos, completeNanos, mops));
            return txns.size() - 1;
        }

        /** Adds an ok transaction. */
        public int ok(long process, long invokeNanos, long completeNanos, Mop... mops) {
            return add(process, OpStatus.OK, invokeNanos, completeNanos, List.of(mops));
        }

        /** Adds a failed (aborted) transaction. */
        public int fail(long process, long invokeNanos, long completeNanos, Mop... mops) {
            return add(process, OpStatus.FAIL, invokeNanos, completeNanos, List.of(mops));
        }

        /** Adds an indeterminate transaction. */
        public int info(long process, long invokeNanos, long completeNanos, Mop... mops) {
            return add(process, OpStatus.INFO, invokeNanos, completeNanos, List.of(mops));
        }

        /** The history so far (validated). */
        public TxnHistory build() {
            return new TxnHistory(txns);
        }
    }
}
