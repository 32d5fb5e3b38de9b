package dev.raftkit.runtime;

import dev.raftkit.core.Ready;

/**
 * The log writer as the raft loop may use it (docs/threads.md, the raft-loop row): hand it a
 * Ready with persist work, ask it to poll the disk's free space, or tell it to finish. Both are safe from any thread and never block;
 * the writer answers on the loop's control queue.
 */
interface PersistQueue {

    /** Queues {@code ready} to be written, synced and acknowledged ({@code Persisted}) in order. */
    void persist(Ready ready);

    /** Queues a free-space poll after the work already queued; the answer is a {@code DiskSpace}. */
    void checkSpace();

    /** Queues a stop after the work already queued. */
    void stop();
}
