package dev.raftkit.jepsen.sim;

import dev.raftkit.core.message.Message;

/**
 * Deliberate departures from the Ready contract or the client path, for proving that the
 * simulator catches them. The default hooks do nothing wrong; tests override one at a time.
 * Those that break the runtime itself act through its testing-only hook point
 * ({@link dev.raftkit.runtime.TestingHooks}) inside the real {@code RaftServer}; the others act in
 * the simulated network ({@link #rewrite}) or in the simulated clients.
 */
public interface Hooks {

    Hooks NONE = new Hooks() { };

    /** Send a Ready's {@code messagesAfterPersist} at once, before its fsync (breaks §3.8). */
    default boolean sendBeforePersist() {
        return false;
    }

    /** Acknowledge a client write as soon as the leader proposes it, before it commits. */
    default boolean ackBeforeCommit() {
        return false;
    }

    /** Read the local state of any node that believes it leads, without ReadIndex (the clients' bug). */
    default boolean readFromBelievedLeader() {
        return false;
    }

    /** Apply entries as soon as they are appended, before they commit. */
    default boolean applyBeforeCommit() {
        return false;
    }

    /** Trust a node restarted on an emptied data directory: no recovering mark (breaks §3.8). */
    default boolean trustLostState() {
        return false;
    }

    /**
     * Recovery cuts the log at the first invalid record as if torn, without recovering
     * (the storage's {@link dev.raftkit.storage.StorageTestingHooks#cutAtFirstInvalidRecord}).
     */
    default boolean cutLogAtFirstInvalidRecord() {
        return false;
    }

    /** Rewrite a message as it leaves {@code node} (e.g. forge a vote); return it unchanged by default. */
    default Message rewrite(long node, Message m) {
        return m;
    }
}
