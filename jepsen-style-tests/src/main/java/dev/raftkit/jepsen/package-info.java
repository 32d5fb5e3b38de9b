/**
 * Raftkit's testing toolkit. Today: client histories ({@link dev.raftkit.jepsen.history}) and the
 * linearizability checker ({@link dev.raftkit.jepsen.checker}); the deterministic simulator and the
 * real-process harness build on both.
 */
package dev.raftkit.jepsen;
