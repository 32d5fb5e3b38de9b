package dev.raftkit.core.message;

import dev.raftkit.core.SnapshotMeta;
import java.util.Objects;

/**
 * InstallSnapshot (§5.3 of the thesis's chapter 5). The core sends only the metadata; the runtime
 * streams the snapshot's bytes alongside and hands the message to the follower's core once the
 * bytes are safely received. The follower answers with an {@link AppendEntriesResponse} to
 * {@code leader}.
 *
 * @param leader the leader of {@code term} on whose behalf the snapshot is sent: {@code from} when
 *               the leader streams it itself, another node when a peer streams its own snapshot at
 *               the leader's request ({@link PushSnapshot})
 */
public record InstallSnapshot(long from, long to, long term, SnapshotMeta snapshot, long leader) implements Message {
    @Override
    public Kind kind() {
        return Kind.INSTALL_SNAPSHOT;
    }

    public InstallSnapshot {
        Objects.requireNonNull(snapshot, "snapshot");
        if (leader <= 0 || leader == to) {
            throw new IllegalArgumentException("InstallSnapshot leader must be a positive id other than the receiver "
                    + to + ", got " + leader);
        }
    }

    /** A snapshot the leader {@code from} streams itself. */
    public InstallSnapshot(long from, long to, long term, SnapshotMeta snapshot) {
        this(from, to, term, snapshot, from);
    }

    /** Whether a node other than the leader streams it ({@link PushSnapshot}). */
    public boolean fromPeer() {
        return leader != from;
    }
}
