package dev.raftkit.core.message;

import dev.raftkit.core.log.EntryId;
import java.util.Objects;

/**
 * The reply to {@link AppendEntries} or to an installed snapshot.
 *
 * <p>Accepted: {@code index} is the last index now known to match the leader's log. Rejected:
 * {@code index} is the {@code prev} index the follower could not match, and {@code hint} is the
 * follower's best guess at where the logs may agree (the last entry at or below {@code index} with
 * a term no higher than the leader's term at {@code index}), so the leader can back off by a whole
 * term at a time instead of one entry per round trip (§5.3, "fast back-off").
 *
 * <p>{@code recovering}: the follower is recovering lost state (see {@link dev.raftkit.core.HardState});
 * the leader tracks its log as usual but does not count it toward commitment.
 */
public record AppendEntriesResponse(long from, long to, long term, boolean reject, long index, EntryId hint,
                                    boolean recovering) implements Message {
    @Override
    public Kind kind() {
        return Kind.APPEND_ENTRIES_RESPONSE;
    }

    public AppendEntriesResponse {
        Objects.requireNonNull(hint, "hint");
    }

    /** A response from a follower that is not recovering. */
    public AppendEntriesResponse(long from, long to, long term, boolean reject, long index, EntryId hint) {
        this(from, to, term, reject, index, hint, false);
    }

    public static AppendEntriesResponse accept(long from, long to, long term, long index) {
        return new AppendEntriesResponse(from, to, term, false, index, EntryId.ZERO);
    }
}
