package dev.raftkit.jepsen.txn;

/**
 * An Elle-style checker for transaction histories (Kingsbury &amp; Alvaro, "Elle: Inferring
 * Isolation Anomalies from Experimental Observations", VLDB 2020): it infers the dependencies
 * between transactions from what they read, finds cycles, and names the anomalies.
 *
 * <p>Stateless and thread-safe: each call works on its own data, on the calling thread, and
 * returns when the check is complete. It throws nothing for an anomalous history (anomalies are the
 * result); a malformed one is refused by {@link TxnHistory}'s constructor.
 *
 * <p>How it works, in one pass over the history and one over the graph (time and memory about
 * linear in the history plus the total length of the lists read):
 * <ol>
 *   <li>Every read is checked on its own: values no one wrote (garbage), values of failed
 *       transactions (G1a), intermediate states (G1b), duplicates, and agreement with the
 *       transaction's own earlier operations (internal).</li>
 *   <li>List-append: each key's version order is its longest read, since every read of a list
 *       shows a prefix of the order in which appends took effect; a read that is not a prefix of it
 *       is an incompatible order. Consecutive versions give ww edges, the last version a read saw
 *       gives a wr edge, and the next version after it an rw edge. Read-write registers: a read
 *       gives a wr edge; a transaction that read a version and then wrote the key shows which
 *       version came next (ww, and rw from every other reader of the version it read); the
 *       initial state precedes every write.</li>
 *   <li>Process edges join each process's successive transactions; real-time edges join a
 *       transaction to those invoked after it completed (a transitive reduction, not all pairs).
 *       Failed transactions get no edges; indeterminate ones get edges only when a read shows one
 *       of their writes, and never have outgoing process or real-time edges (they may have taken
 *       effect at any time after their invocation).</li>
 *   <li>Strongly connected components of the whole graph (Tarjan, iteratively); in each, a
 *       breadth-first search for the shortest cycle of each class, restricted to the edges the
 *       class allows: ww only (G0), ww and wr (G1c), those plus exactly one rw (G-single), with
 *       two or more rw (G2-item), and the same with process or real-time edges ({@code -process},
 *       {@code -realtime}: serializable but not strict serializable).</li>
 * </ol>
 */
public final class TxnChecker {

    private TxnChecker() {
    }

    /** Checks {@code history} against strict serializability (all anomalies are reported). */
    public static TxnResult check(TxnHistory history) {
        return check(history, Consistency.STRICT_SERIALIZABLE);
    }

    /** Checks {@code history}; the verdict is for {@code model}, the anomalies are all reported. */
    public static TxnResult check(TxnHistory history, Consistency model) {
        return new Analysis(history).run(model);
    }
}
