package dev.raftkit.runtime;

import dev.raftkit.core.Role;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.spi.SnapshotDescriptor;

/**
 * Observes a {@link RaftServer}: role, term and leader changes, configuration changes, snapshots,
 * the server stopping, and, for a listener that wants them, every protocol event
 * ({@link #onProtocolEvent}).
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

    /**
     * A protocol event: one of the core's trace events (a vote granted or refused and why, a role
     * change, a leader stepping down, …) or the runtime's own (a disk stall and its end), in the
     * schema the simulator's trace uses. Delivered on the events executor in the order they
     * happened, interleaved in order with the other callbacks.
     *
     * <p>The raft loop only enqueues them, and never waits: while
     * {@link RaftServerBuilder#maxPendingProtocolEvents} events are queued and not yet delivered
     * (a listener this slow, or a stalled events executor), new ones are dropped and counted
     * ({@link RaftServer#protocolEventsDropped()}, and a warning in the log), and the next event
     * delivered is preceded by one {@link ProtocolEvent#GAP} marker saying how many were lost.
     */
    default void onProtocolEvent(ProtocolEvent event) {
    }

    /**
     * Whether this listener is sent protocol events at all; asked once, when the server is built.
     * By default true exactly when the listener's class overrides {@link #onProtocolEvent}, so a
     * server none of whose listeners does never formats or enqueues them; a forwarding listener
     * returns what its delegate wants.
     */
    default boolean wantsProtocolEvents() {
        return ProtocolEvents.overrides(getClass());
    }
}
