package dev.raftkit.core.message;

import dev.raftkit.core.ReadConsistency;
import dev.raftkit.core.confchange.ConfChange;
import java.util.Objects;

/** Inputs that come from the node's own runtime rather than from a peer. */
public sealed interface LocalEvent extends Input {

    /** One unit of logical time. Election and heartbeat timeouts are counted in ticks. */
    record Tick() implements LocalEvent {
        public static final Tick INSTANCE = new Tick();
    }

    /** Start an election now, as if the election timeout had passed. */
    record Campaign() implements LocalEvent {
    }

    /** Append a command to the log (leader only). */
    record Propose(byte[] data) implements LocalEvent {
        public Propose {
            Objects.requireNonNull(data, "data");
        }
    }

    /** Append a membership change to the log (leader only, one at a time). */
    record ProposeConfChange(ConfChange change) implements LocalEvent {
        public ProposeConfChange {
            Objects.requireNonNull(change, "change");
        }
    }

    /** Ask for a read index; the answer arrives as a {@link dev.raftkit.core.ReadState}. */
    record ReadIndex(long requestId, ReadConsistency consistency) implements LocalEvent {
        public ReadIndex {
            Objects.requireNonNull(consistency, "consistency");
        }
    }

    /** Hand leadership to {@code to} (§3.10). */
    record TransferLeadership(long to) implements LocalEvent {
    }

    /**
     * A leader that can no longer do its job (its disk stalled) gives it up: see {@link
     * dev.raftkit.core.RaftNode#stepDown}. Ignored by a node that does not lead.
     */
    record StepDown(String reason) implements LocalEvent {
        public StepDown {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** The transport could not reach {@code peer}; go back to probing it. */
    record ReportUnreachable(long peer) implements LocalEvent {
    }

    /** A snapshot transfer to {@code peer} finished, successfully or not. */
    record ReportSnapshot(long peer, boolean ok) implements LocalEvent {
    }

    /** Ready number {@code readyNumber} and every earlier one are durable. */
    record Persisted(long readyNumber) implements LocalEvent {
    }

    /** The state machine has applied every committed entry up to {@code index}. */
    record Applied(long index) implements LocalEvent {
    }
}
