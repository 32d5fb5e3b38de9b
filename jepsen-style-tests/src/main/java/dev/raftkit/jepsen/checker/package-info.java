/**
 * A linearizability checker for histories of concurrent operations.
 *
 * <h2>What linearizability is</h2>
 * A history — operations, each with the interval between its invocation and its completion, and
 * what it returned — is <em>linearizable</em> (Herlihy &amp; Wing, 1990) if every operation can be
 * given a single instant inside its interval at which it took effect, such that performing the
 * operations one at a time in the order of those instants, on a sequential specification (a
 * {@link dev.raftkit.jepsen.checker.Model}), gives exactly the results the history records. In
 * short: the system behaves as one copy of the data, and once an operation completes, everyone
 * sees its effect. It is what Raft promises for committed commands and for ReadIndex / lease reads
 * (thesis §6.3–§6.4); an acknowledged write that later reads do not see, or a read that returns a
 * stale value, breaks it.
 *
 * <p>Outcomes that are not plain results: an operation that <em>failed</em> definitely did not
 * happen and is ignored; an <em>indeterminate</em> one (timed out) may have taken effect at any
 * instant after its invocation — even after the history ends — or never, so its interval runs to
 * +infinity and it need not be placed at all.
 *
 * <h2>How the search works</h2>
 * Checking is NP-complete in general, so the checker searches, as Knossos and Porcupine do:
 * <ol>
 *   <li><b>Partitioning (P-compositionality).</b> Linearizability is local: a history is
 *       linearizable iff the sub-history of each independent object is. A key-value store is
 *       checked one key at a time, each a register; the search is exponential only in the
 *       concurrency of one key.</li>
 *   <li><b>Wing &amp; Gong's search.</b> Invocations and completions are put in one time-ordered,
 *       doubly linked list. The search walks the list from its head; any invocation it meets
 *       before the first completion belongs to an operation that could take effect next. It tries
 *       one: if the model accepts it, the operation is linearized — its two entries are
 *       <em>lifted</em> out of the list in O(1) and pushed on a stack — and the walk restarts at
 *       the head. Meeting a completion means that operation had to take effect by now but no order
 *       tried allows it: pop the last choice, <em>unlift</em> its entries back in O(1), and try the
 *       next candidate. An empty stack with nothing left to try means not linearizable; no
 *       completion left in the list means linearizable (what remains are indeterminate operations
 *       that never took effect). The stack is an array: no recursion, so 10^5 operations per key
 *       are fine.</li>
 *   <li><b>Lowe's memoization.</b> Two paths that linearize the same set of operations and reach
 *       the same model state have the same future; the search remembers every (linearized set,
 *       state) it has reached and never expands one twice. This turns most histories from
 *       factorial to near-linear. A configuration is fingerprinted with a 128-bit Zobrist hash
 *       (the XOR of random codes of the linearized operations and of the model state) updated in
 *       O(1) per step, and memoized in an open-addressing table of 16-byte slots; a (vanishingly
 *       unlikely) collision could only make the checker reject a valid history, never pass an
 *       invalid one.</li>
 *   <li><b>Indeterminate operations last.</b> Each may never take effect, so a partition that
 *       linearizes without its indeterminate operations linearizes with them; it is searched
 *       without them first, and only a partition that does not (a read returned a timed-out
 *       write's value, say) is searched again with them, for the verdict. Placing n of them can
 *       multiply the search by 2^n, the subsets that took effect.</li>
 *   <li><b>Budgets.</b> Some histories still explode (many concurrent indeterminate writes that
 *       reads did observe, for one). A search that runs out of time, of memoized states or of bytes (see
 *       {@link dev.raftkit.jepsen.checker.Budget} for what it accounts) ends as
 *       {@link dev.raftkit.jepsen.checker.Verdict#BUDGET_EXCEEDED} with what it spent, which is a
 *       failure, never a pass — and never an {@code OutOfMemoryError}.</li>
 *   <li><b>Keys in parallel.</b> Partitions are searched on
 *       {@link dev.raftkit.jepsen.checker.CheckOptions#parallelism()} threads; the result is the
 *       same as on one thread, and a check that stops at the first violation names the same
 *       first key every time.</li>
 * </ol>
 * When a key is not linearizable, the result explains why: the longest prefix the search could
 * linearize, the model state after it, and the operation that then could not take effect.
 *
 * <h2>Using it</h2>
 * For a key-value store, record a {@link dev.raftkit.jepsen.history.History} (with a
 * {@link dev.raftkit.jepsen.history.HistoryRecorder} from client threads, a
 * {@link dev.raftkit.jepsen.history.History#builder() builder} from a simulator, or
 * {@link dev.raftkit.jepsen.history.JsonLines} from a file) and call
 * {@link dev.raftkit.jepsen.checker.LinearizabilityChecker#check(dev.raftkit.jepsen.history.History)}.
 *
 * <p>For your own state machine, describe its operations with an
 * {@link dev.raftkit.jepsen.history.OpType} (input and output types, a key or none, JSON codecs),
 * record a {@link dev.raftkit.jepsen.history.TypedHistory} with a
 * {@link dev.raftkit.jepsen.history.TypedHistoryRecorder}, and check it against a
 * {@link dev.raftkit.jepsen.checker.Model}: an initial state and a pure step that returns the next
 * state, or empty if the recorded output is impossible in that state. States must be immutable
 * values with {@code equals} and {@code hashCode}.
 * <pre>{@code
 * Model<List<Long>, TypedOperation<ListOp, List<Long>>> model = Model.of(List::of, (list, op, seen) ->
 *     op instanceof Append a ? Optional.of(append(list, a.value()))
 *         : list.equals(seen) ? Optional.of(list) : Optional.empty());
 * CheckResult<TypedOperation<ListOp, List<Long>>> r =
 *     LinearizabilityChecker.check(recorder.history(), model, CheckOptions.DEFAULT);
 * }</pre>
 * {@code docs/user-guide.md} has the complete example and the JSON-lines schema. Lower level,
 * {@link dev.raftkit.jepsen.checker.LinearizabilityChecker#check(java.util.List, java.util.function.Function,
 * Model, CheckOptions)} takes {@link dev.raftkit.jepsen.checker.Call}s — operations of any type
 * with their intervals — and a partition function directly.
 */
package dev.raftkit.jepsen.checker;
