package dev.raftkit.runtime;

/**
 * The leader the raft loop last saw, published for the apply thread's refusals (their leader
 * hint). Made before any stage, so the apply thread is built with it rather than with the loop;
 * the loop writes it, anyone reads it. Never blocks.
 */
final class PublishedLeader {

    private final Lifecycle lifecycle;
    private volatile long leader;

    PublishedLeader(Lifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    /** The raft loop, when the leader it sees changes (0 for none, and once it stops). */
    void publish(long leader) {
        this.leader = leader;
    }

    /** The leader to name in a refusal: 0 if none is known or this server no longer runs. */
    long get() {
        return lifecycle.running() && lifecycle.failure() == null ? leader : 0;
    }
}
