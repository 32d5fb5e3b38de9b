package dev.raftkit.core.message;

import dev.raftkit.core.ReadMode;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfChange;
import java.util.Objects;

/** Inputs that come from the node's own runtime rather than from a peer. */
public sealed interface LocalEvent extends Input {

    /** One per record; see {@link Message.Kind} for why. */
    enum Kind {
        TICK, CAMPAIGN, PROPOSE, PROPOSE_CONF_CHANGE, READ_INDEX, TRANSFER_LEADERSHIP, STEP_DOWN,
        REPORT_UNREACHABLE, REPORT_SNAPSHOT, PERSISTED, APPLIED, COMPACTED
    }

    Kind kind();

    /**
     * {@code count} units of logical time (election and heartbeat timeouts are counted in ticks).
     * More than one means they passed together, with no input stepped between them: the process
     * did not run (a stop-the-world pause, SIGSTOP, a frozen VM) and the timer caught up. Such a
     * burst advances every clock by {@code count}, but no timeout that needs the absence of
     * messages expires inside it: see {@code RaftCore.tick(long)}.
     */
    record Tick(long count) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.TICK;
        }

        public Tick {
            if (count < 1) {
                throw new IllegalArgumentException("a tick counts at least one unit of time, got " + count);
            }
        }

        public static final Tick INSTANCE = new Tick(1);
    }

    /** Start an election now, as if the election timeout had passed. */
    record Campaign() implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.CAMPAIGN;
        }
    }

    /** Append a command to the log (leader only). */
    record Propose(byte[] data) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.PROPOSE;
        }

        public Propose {
            Objects.requireNonNull(data, "data");
        }
    }

    /** Append a membership change to the log (leader only, one at a time). */
    record ProposeConfChange(ConfChange change) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.PROPOSE_CONF_CHANGE;
        }

        public ProposeConfChange {
            Objects.requireNonNull(change, "change");
        }
    }

    /** Ask for a read index; the answer arrives as a {@link dev.raftkit.core.ReadState}. */
    record ReadIndex(long requestId, ReadMode mode) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.READ_INDEX;
        }

        public ReadIndex {
            Objects.requireNonNull(mode, "mode");
            if (mode == ReadMode.STALE) {
                throw new IllegalArgumentException("a STALE read runs on local state and needs no read index");
            }
        }
    }

    /** Hand leadership to {@code to} (§3.10). */
    record TransferLeadership(long to) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.TRANSFER_LEADERSHIP;
        }
    }

    /**
     * A leader that can no longer do its job (its disk stalled) gives it up: see {@link
     * dev.raftkit.core.RaftCore#stepDown}. Ignored by a node that does not lead.
     */
    record StepDown(String reason) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.STEP_DOWN;
        }

        public StepDown {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The transport could not reach {@code peer}; go back to probing it. */
    record ReportUnreachable(long peer) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.REPORT_UNREACHABLE;
        }
    }

    /** A snapshot transfer to {@code peer} finished, successfully or not. */
    record ReportSnapshot(long peer, boolean ok) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.REPORT_SNAPSHOT;
        }
    }

    /** Ready number {@code readyNumber} and every earlier one are durable. */
    record Persisted(long readyNumber) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.PERSISTED;
        }
    }

    /** The state machine has applied every committed entry up to {@code index}. */
    record Applied(long index) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.APPLIED;
        }
    }

    /**
     * The log now starts after {@code snapshot}: the runtime wrote it and compacted the entries it
     * covers. Followers that need those entries get this snapshot from now on (§5.1).
     */
    record Compacted(SnapshotMeta snapshot) implements LocalEvent {
        @Override
        public Kind kind() {
            return Kind.COMPACTED;
        }

        public Compacted {
            Objects.requireNonNull(snapshot, "snapshot");
        }
    }
}
