package dev.raftkit.runtime;

import dev.raftkit.core.Ready;

/**
 * The log writer as the raft loop may use it (docs/threads.md, the raft-loop row): hand it a
 * Ready with persist work, or tell it to finish. Both are safe from any thread and never block;
 * the writer answers on the loop's control queue.
 */
interface PersistQueue {

    /** Queues {@code ready} to be written, synced and acknowledged ({@code Persisted}) in order. */
    void persist(Ready ready);

    /** Queues a stop after the work already queued. */
    void stop();
}
