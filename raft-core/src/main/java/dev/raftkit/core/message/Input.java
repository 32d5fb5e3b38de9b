package dev.raftkit.core.message;

/**
 * Everything that can be fed to {@link dev.raftkit.core.RaftCore#step(Input)}: messages from
 * peers, and local events from the runtime (time, proposals, storage acknowledgements).
 */
public sealed interface Input permits Message, LocalEvent {
}
