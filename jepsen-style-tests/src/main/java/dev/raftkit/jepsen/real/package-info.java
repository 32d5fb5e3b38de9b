/**
 * Jepsen-style tests of real node processes: a {@link dev.raftkit.jepsen.real.Cluster} of key-value
 * server JVMs on loopback with every peer link behind a fault-injecting
 * {@link dev.raftkit.jepsen.real.LinkProxy}, a {@link dev.raftkit.jepsen.real.Nemesis} (kill, pause,
 * partition, disk), a recorded client workload, and {@link dev.raftkit.jepsen.real.JepsenRun}, which
 * checks and reports. See {@code docs/jepsen.md}.
 */
package dev.raftkit.jepsen.real;
