package dev.raftkit.core.log;

import dev.raftkit.core.HardState;
import dev.raftkit.core.SnapshotMeta;

/**
 * What a node needs from storage to start: its durable hard state, and the snapshot its log
 * begins after (which carries the configuration as of that snapshot).
 */
public record InitialState(HardState hardState, SnapshotMeta snapshot) {
}
