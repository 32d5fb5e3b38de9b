package dev.raftkit.core.message;

import dev.raftkit.core.log.EntryId;
import java.util.Objects;

/**
 * The leader's heartbeat (§3.4). {@code commit} is capped at what the follower is known to hold.
 * {@code context} is the leader's heartbeat round number, echoed back so the leader can confirm
 * leadership for ReadIndex (§6.4) and time its lease (§6.4.1). {@code matched} is the follower's
 * match as the leader knows it ({@link EntryId#ZERO}: none): the last entry it acknowledged, which
 * a follower restarted on an older copy of its data directory no longer holds (§3.8).
 */
public record Heartbeat(long from, long to, long term, long commit, long context, EntryId matched) implements Message {
    @Override
    public Kind kind() {
        return Kind.HEARTBEAT;
    }

    public Heartbeat {
        Objects.requireNonNull(matched, "matched");
    }

    /** A heartbeat that names no match. */
    public Heartbeat(long from, long to, long term, long commit, long context) {
        this(from, to, term, commit, context, EntryId.ZERO);
    }
}
