package dev.raftkit.core.message;

/**
 * The leader asks a follower or learner ({@code to}) that is up to date to stream its own newest
 * snapshot to {@code target}, which needs one at index {@code minIndex} or later (the leader's
 * compacted index), instead of the leader streaming it (snapshot source {@code PEERS}). The peer
 * sends it as an {@link InstallSnapshot} naming the leader ({@link InstallSnapshot#leader()}), so
 * the target installs it under the usual checks and answers the leader. A peer with no snapshot at
 * {@code minIndex} or later sends nothing; the leader then sends its own once its timeout passes.
 */
public record PushSnapshot(long from, long to, long term, long target, long minIndex) implements Message {
    @Override
    public Kind kind() {
        return Kind.PUSH_SNAPSHOT;
    }

    public PushSnapshot {
        if (target <= 0 || target == to || target == from) {
            throw new IllegalArgumentException("PushSnapshot target must be a third node, got " + target
                    + " (from " + from + ", to " + to + ")");
        }
        if (minIndex <= 0) {
            throw new IllegalArgumentException("PushSnapshot minIndex must be positive, got " + minIndex);
        }
    }
}
