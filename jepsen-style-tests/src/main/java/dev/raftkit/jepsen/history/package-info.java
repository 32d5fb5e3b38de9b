/**
 * Histories of client operations, in Jepsen's terms: of your own operation types
 * ({@link dev.raftkit.jepsen.history.OpType}, {@link dev.raftkit.jepsen.history.TypedHistory},
 * {@link dev.raftkit.jepsen.history.TypedHistoryRecorder}), and of the key-value register
 * ({@link dev.raftkit.jepsen.history.History}, below), which is the same thing for write, read and
 * CAS ({@link dev.raftkit.jepsen.history.History#toTyped()}).
 *
 * <p>A client <em>invokes</em> a {@link dev.raftkit.jepsen.history.Command} (write, read, CAS of
 * one key) and later sees it <em>complete</em> with a {@link dev.raftkit.jepsen.history.OpStatus}:
 * {@code OK} with a {@link dev.raftkit.jepsen.history.Response}, {@code FAIL} (definitely did not
 * happen), or {@code INFO} (indeterminate: it timed out and may take effect at any time after its
 * invocation, or never). An {@link dev.raftkit.jepsen.history.Operation} holds both halves;
 * a {@link dev.raftkit.jepsen.history.History} is an immutable list of them, built by a simulator
 * through {@link dev.raftkit.jepsen.history.History#builder()}, recorded from real client threads
 * by a {@link dev.raftkit.jepsen.history.HistoryRecorder}, or saved and loaded as JSON lines by
 * {@link dev.raftkit.jepsen.history.JsonLines}. Check one with
 * {@link dev.raftkit.jepsen.checker.LinearizabilityChecker}.
 */
package dev.raftkit.jepsen.history;
