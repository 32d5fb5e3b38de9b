package dev.raftkit.runtime;

import dev.raftkit.core.confchange.ConfState;

/**
 * The apply thread as the raft loop may use it (docs/threads.md, the raft-loop row): post it
 * work, count the reads it queued there, and read what it published. Every method is safe from
 * any thread and never blocks.
 */
interface ApplyQueue {

    /** Queues a task, sweep or stop for the apply thread and wakes it. */
    void enqueue(ApplyInput input);

    /** Counts a ReadIndex answer handed to the apply thread, against {@code maxPendingReads}. */
    void readQueued();

    /** True while reads wait there for their index: the loop then sweeps them for timeouts. */
    boolean hasWaitingReads();

    /** The applied index the apply thread last published. */
    long applied();

    /** The configuration as of {@link #applied()}. */
    ConfState conf();

    /** The index of the newest snapshot stored (taken, installed or restored), 0 if none. */
    long snapshotIndex();
}
