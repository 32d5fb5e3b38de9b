package dev.raftkit.runtime;

import dev.raftkit.spi.SnapshotDescriptor;
import java.util.Objects;

/**
 * What {@link RaftServer#snapshotNowWithDigest()} answers: the stored snapshot and the state it
 * captured, whose digest and log time were read at the capture, with nothing applied in between.
 *
 * @param snapshot the snapshot the store committed
 * @param state    the state at the snapshot's index ({@code state.index() == snapshot.meta().index()})
 */
public record DigestedSnapshot(SnapshotDescriptor snapshot, StateDigestAt state) {

    public DigestedSnapshot {
        Objects.requireNonNull(snapshot, "snapshot");
        Objects.requireNonNull(state, "state");
        if (state.index() != snapshot.meta().index()) {
            throw new IllegalArgumentException("the state digested at index " + state.index()
                    + " is not the snapshot's, at " + snapshot.meta().index());
        }
    }
}
