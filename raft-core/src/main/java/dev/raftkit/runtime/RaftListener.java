package dev.raftkit.runtime;

import dev.raftkit.core.Role;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.spi.SnapshotDescriptor;

/**
 * Observes a {@link RaftServer}: role, term and leader changes, configuration changes, snapshots,
 * and the server stopping.
 *
 * <ul>
 *   <li><b>Thread:</b> every callback runs on the server's events executor, one at a time, in the
 *       order the events happened; never on the raft-loop, log-writer or apply thread.
 *   <li><b>Blocking:</b> a slow listener delays later events (and rejected-request completions)
 *       but never the protocol.
 *   <li><b>Durability:</b> events describe what already happened; none needs an answer.
 *   <li><b>Exceptions:</b> thrown exceptions are logged and otherwise ignored.
 * </ul>
 */
public interface RaftListener {

    /** This node's role, term or known leader changed ({@code leader} 0: none known). */
    default void onRoleChange(Role role, long term, long leader) {
    }

    /** A configuration change was applied on this node at {@code index} (or restored from a snapshot). */
    default void onConfigurationChange(long index, ConfState conf) {
    }

    /** This node wrote a snapshot of its state machine; the log before it is compacted next. */
    default void onSnapshotTaken(SnapshotDescriptor snapshot) {
    }

    /** This node replaced its state with a snapshot received from the leader (InstallSnapshot). */
    default void onSnapshotInstalled(SnapshotMeta snapshot) {
    }

    /** The server stopped: {@code cause} is null after {@link RaftServer#close()}, else the failure. */
    default void onStopped(Throwable cause) {
    }
}
