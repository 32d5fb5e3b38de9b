/**
 * Histories of client operations on a key-value register, in Jepsen's terms.
 *
 * <p>A client <em>invokes</em> a {@link dev.raftkit.jepsen.history.Command} (write, read, CAS of
 * one key) and later sees it <em>complete</em> with a {@link dev.raftkit.jepsen.history.Status}:
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
