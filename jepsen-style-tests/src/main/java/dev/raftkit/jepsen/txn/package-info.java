/**
 * An Elle-style checker for transactional histories: list-append and read-write register
 * transactions, the dependency graph inferred from what they read, and the anomalies it shows.
 *
 * <h2>Why not the linearizability checker</h2>
 * {@link dev.raftkit.jepsen.checker.LinearizabilityChecker} splits a history by key and searches
 * orders; a transaction spans keys, so the history cannot be split, and the search explodes. Elle
 * (Kingsbury &amp; Alvaro, VLDB 2020) avoids the search: with list-append transactions every read
 * of a key returns a prefix of the order in which that key's appends took effect, so the
 * write-write, write-read and read-write dependencies between transactions can be read off the
 * history, and a cycle among them is an anomaly with a name (Adya's G0, G1c, G-single, G2-item),
 * found in time about linear in the history.
 *
 * <h2>Using it</h2>
 * Record a {@link dev.raftkit.jepsen.txn.TxnHistory} with a {@link dev.raftkit.jepsen.txn.TxnRecorder}
 * (from client threads, transaction by transaction), a {@link dev.raftkit.jepsen.txn.TxnHistory#builder()
 * builder}, or {@link dev.raftkit.jepsen.txn.TxnJsonLines} (a file; the format is in
 * {@code docs/jepsen.md}), and call {@link dev.raftkit.jepsen.txn.TxnChecker#check}. The
 * {@link dev.raftkit.jepsen.txn.TxnResult} names every anomaly found with an example cycle
 * explained edge by edge, as text, JSON ({@link dev.raftkit.jepsen.txn.TxnResult#toJson()}) or an
 * HTML fragment ({@link dev.raftkit.jepsen.txn.TxnResult#toHtml()}), and says whether the history
 * is serializable and strict serializable.
 * <pre>{@code
 * TxnRecorder rec = new TxnRecorder();
 * int t = rec.invoke(process, List.of(Mop.append("x", 1), Mop.read("x")));
 * rec.ok(t, List.of(Mop.append("x", 1), Mop.read("x", 1)));   // or rec.fail(t), rec.info(t)
 * TxnResult r = TxnChecker.check(rec.history(), Consistency.STRICT_SERIALIZABLE);
 * }</pre>
 * Against the replicated SQL store, {@link dev.raftkit.jepsen.txn.SqlListAppend} turns a
 * list-append transaction into one SQL write and its answer into the completed micro-operations
 * (the simulator's {@code SqlAppendWorkload} and the real-process harness share it).
 *
 * <h2>What it promises</h2>
 * Every edge is implied by the history when values are unique and a key's reads are prefixes of
 * one another (when they are not, that is itself reported as an incompatible order), so a reported
 * cycle is a real anomaly. Conversely, for list-append histories in which every transaction
 * completed ok and some read of each key shows every value appended to it, it flags exactly the
 * histories that no serial order explains ({@code TxnOracleTest} checks this against trying every
 * order). Outside that class it can miss anomalies no read revealed, as Elle can.
 *
 * <p>Everything runs on the calling thread; only {@link dev.raftkit.jepsen.txn.TxnRecorder} is
 * meant to be shared between threads.
 */
package dev.raftkit.jepsen.txn;
