package dev.raftkit.runtime;

import dev.raftkit.runtime.RaftServerBuilder;

/**
 * <b>Testing only, never in production.</b> Deliberate departures from the Ready contract and the
 * client path, planted in the real runtime so a test can prove that the simulator (or another
 * checker) catches each of them; the core's ({@link dev.raftkit.core.CoreTestingHooks}) are handed
 * down to the node. Set with {@link RaftServerBuilder#testingHooks}; the default,
 * {@link #NONE}, changes nothing, and the runtime reads each hook once at start, so an unused hook
 * costs one field test where it would act.
 *
 * <ul>
 *   <li><b>Thread:</b> the methods are called once, on the thread that calls
 *       {@code Builder.start()}; {@link #answerBeforeCommit} is then called on the raft loop for
 *       every proposed command, and must not block.
 *   <li><b>Durability:</b> every hook breaks a durability or safety rule on purpose; a server with
 *       a hook set may lose acknowledged writes or serve wrong answers.
 *   <li><b>Exceptions:</b> an exception from a hook is a bug in the test.
 * </ul>
 */
public interface TestingHooks extends dev.raftkit.core.CoreTestingHooks {

    /** No hook: the runtime as shipped. */
    TestingHooks NONE = new TestingHooks() { };

    /**
     * Send a Ready's after-persist messages (votes, append acknowledgements) from the raft loop at
     * once, before the log writer has made the Ready durable: breaks §3.8 (a crash loses a vote
     * that a candidate already counted).
     */
    default boolean sendBeforePersist() {
        return false;
    }

    /**
     * Hand the entries a Ready appends to the apply thread as if they had committed (§3.5: only
     * committed entries may be applied).
     */
    default boolean applyBeforeCommit() {
        return false;
    }

    /**
     * Start a node that has no durable state (an emptied data directory, not founding) as if it
     * were trusted, without marking it recovering: breaks §3.8 (it votes and acknowledges on state
     * it lost).
     */
    default boolean trustLostState() {
        return false;
    }

    /**
     * Complete a client's waiting proposal with whatever entry is applied at its index, without
     * checking that it is the entry proposed (its term): a client whose entry was overwritten by
     * another leader's (§5.3) is answered with that entry's result, as if its own had committed.
     */
    default boolean answerForAnyTerm() {
        return false;
    }

    /**
     * Restore a snapshot's client sessions without the responses they had recorded, as a snapshot
     * format that forgot them would: a retried command that was applied before the snapshot is
     * applied again after a restore (breaks exactly-once, §6.3).
     */
    default boolean forgetSessionResponsesOnRestore() {
        return false;
    }

    /**
     * Pass a live-restore entry whose staged image this node does not hold as if it were applied,
     * without the image and without waiting to fetch it: the node keeps its old state where every
     * other replica switched (replicas diverge).
     */
    default boolean skipUnheldStateSwitch() {
        return false;
    }

    /**
     * Restore the newest snapshot at start-up without checking it against its checksum: a
     * snapshot damaged at rest is restored as if it were good.
     */
    default boolean restoreUnverifiedSnapshot() {
        return false;
    }

    /**
     * Ignore a stalled log writer: a leader whose fsync hangs keeps leading (and heartbeating)
     * although it can neither commit through its own log nor apply ({@code diskStallTicks}), or
     * whose writes are slower than {@code diskSlowMillis}, and a stuck one never fails stop
     * ({@code diskStuckTicks}).
     */
    default boolean ignoreDiskStall() {
        return false;
    }

    /**
     * Ignore the free-space watermark: a leader whose disk is below {@code minFreeDiskBytes}
     * accepts new proposals anyway (it then fails stop when a write truly finds no space).
     */
    default boolean ignoreDiskFull() {
        return false;
    }

    /**
     * An answer to complete a client's command with as soon as the leader proposes it, before it
     * commits, or null (the default) to answer after it is applied. {@code command} is what the
     * client submitted.
     */
    default byte[] answerBeforeCommit(byte[] command) {
        return null;
    }
}
