package dev.raftkit.core;

/**
 * <b>Testing only, never in production.</b> Deliberate departures from the protocol, planted in
 * the pure core so that a simulator or checker can prove it catches them. Passed to {@link
 * RaftCore#RaftCore(RaftConfig, dev.raftkit.core.log.LogReader, CoreTestingHooks)}; the runtime's
 * {@code TestingHooks} extends this interface and hands its hooks down. The default, {@link
 * #NONE}, changes nothing.
 *
 * <p>Each method is read once, when the node is created, on the thread creating it; an
 * exception is a bug in the test. A node with a hook set may lose committed entries.
 */
public interface CoreTestingHooks {

    /** No hook: the protocol as specified. */
    CoreTestingHooks NONE = new CoreTestingHooks() { };

    /**
     * On InstallSnapshot, keep the log after the snapshot's index whenever the log reaches that
     * index, without checking that the entry there has the snapshot's term: a follower keeps
     * conflicting entries from a deposed leader past the snapshot and applies them. Breaks
     * InstallSnapshot's rule (thesis §5.3, Figure 5.3, steps 6 and 7): the log is kept only when
     * the entry at the snapshot's last index has the snapshot's last term; otherwise it is
     * discarded whole.
     */
    default boolean keepEntriesPastAnySnapshot() {
        return false;
    }

    /**
     * On a heartbeat, trust that this follower holds the match the leader names, without checking:
     * a follower restarted on an older copy of its data directory never finds out (§3.8), votes on
     * its old log and commits up to the leader's capped commit index whatever entries it holds there.
     */
    default boolean trustNamedMatch() {
        return false;
    }
}
