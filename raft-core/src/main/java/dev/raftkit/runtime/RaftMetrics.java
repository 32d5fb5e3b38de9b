package dev.raftkit.runtime;

import dev.raftkit.core.RaftException;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Receives a {@link RaftServer}'s measurements as they happen (push), and once, at start, where to
 * poll its gauges (pull). Every method is a no-op by default, so an implementation overrides only
 * what it records; {@link #NONE}, the default of {@link RaftServerBuilder#metrics}, records
 * nothing, and the runtime then takes no timestamps for it. The Micrometer binding is
 * {@code dev.raftkit.metrics.MicrometerRaftMetrics} (module {@code raft-metrics}).
 *
 * <ul>
 *   <li><b>Thread:</b> each method is called on the stage that observes the thing it measures,
 *       named in its javadoc (raft loop, log writer, apply thread, snapshot pool, or a client's
 *       thread); several may run at once on different threads, so an implementation must be
 *       thread-safe.
 *   <li><b>Blocking:</b> never. Every call sits on a path that replicates, syncs or applies: it
 *       must be quick (update a counter or a histogram) and must not do I/O, wait on a lock held
 *       for long, or call back into the server.
 *   <li><b>Durability:</b> nothing: measurements describe what already happened and are not
 *       persisted; a restarted server starts counting from zero.
 *   <li><b>Exceptions:</b> a {@link RuntimeException} thrown by a method is caught and dropped,
 *       and logged once per method (a broken metrics sink must never stop a node, and must not
 *       flood the log either); the measurement is lost, the node goes on.
 * </ul>
 */
public interface RaftMetrics {

    /** Records nothing: the default. */
    RaftMetrics NONE = new RaftMetrics() {
    };

    /**
     * Where this server's gauges are read ({@link RaftServer#gauges()}), from any thread, as often
     * as the caller likes: each call returns a fresh immutable snapshot of published values and
     * takes no lock of the server. Called once on the thread that calls
     * {@link RaftServerBuilder#start()}, before the server runs.
     */
    default void attach(Supplier<RaftGauges> gauges) {
    }

    /**
     * <b>Log writer.</b> One group-commit {@code sync()} took {@code nanos} and made
     * {@code entries} entries of {@code bytes} ({@link dev.raftkit.core.log.Entry#sizeBytes()})
     * durable (0 and 0 for a sync of the hard state alone).
     */
    default void logSynced(long nanos, int entries, long bytes) {
    }

    /**
     * <b>Raft loop.</b> One proposal of this leader (a command, a session change or a
     * configuration change) committed {@code nanos} after the loop proposed it.
     */
    default void committed(long nanos) {
    }

    /**
     * <b>Apply thread.</b> A batch of {@code entries} committed entries was applied {@code nanos}
     * after the raft loop handed it to the apply thread (queueing behind earlier batches included).
     */
    default void applied(long nanos, int entries) {
    }

    /** <b>Apply thread.</b> One {@code StateMachine.apply} call over {@code commands} commands took {@code nanos}. */
    default void applyBatch(long nanos, int commands) {
    }

    /** <b>Raft loop.</b> This node became a candidate: it started an election in a new term. */
    default void electionStarted(long term) {
    }

    /** <b>Raft loop.</b> This node learnt of a new leader, {@code leader} (itself after it won an election). */
    default void leaderChanged(long leader, long term) {
    }

    /**
     * <b>Raft loop, apply thread or the client's thread</b>, wherever the refusal is decided: a
     * request failed with a {@link RaftException} of {@code reason} (NOT_LEADER, TOO_LARGE,
     * OVERLOADED, TIMED_OUT, …). A request made to a stopped server counts (STOPPED); requests
     * that were in flight when the server stopped, and fail with it, do not.
     */
    default void refused(RaftException.Reason reason) {
    }

    /** <b>Snapshot pool.</b> This node wrote a snapshot of {@code bytes} in {@code nanos} (capture handed over → committed). */
    default void snapshotCreated(long nanos, long bytes) {
    }

    /**
     * <b>Snapshot pool</b>, or the transport's thread that finished the stream: this leader
     * streamed a snapshot of {@code bytes} to {@code peer} in {@code nanos}.
     */
    default void snapshotSent(long peer, long nanos, long bytes) {
    }

    /**
     * <b>The transport's snapshot thread</b> (the gRPC transport's snapshot pool, the simulator's
     * lane), once per chunk read for streaming: {@code bytes} of a snapshot went to {@code peer},
     * {@code resentBytes} of them had been sent to it by an earlier, interrupted attempt at the same
     * image (what resuming could not spare: sent but not verified by the receiver). Every leader
     * or other source streams through here, so a node that sent no snapshot bytes never calls it.
     */
    default void snapshotBytesSent(long peer, long bytes, long resentBytes) {
    }

    /**
     * <b>The transport's snapshot thread.</b> A transfer of a {@code sizeBytes} snapshot to
     * {@code peer} resumed at {@code offset}, the bytes before it already verified by the receiver
     * from an interrupted attempt.
     */
    default void snapshotResumed(long peer, long offset, long sizeBytes) {
    }

    /**
     * <b>The transport's snapshot thread</b> that received it: a whole snapshot of {@code bytes}
     * streamed by {@code peer}, a member other than the leader, at the leader's request (snapshot
     * source {@code PEERS}), is stored here; the leader's own {@link #snapshotBytesSent} stays
     * untouched by that transfer. Counted once the image is durable, before the core installs it.
     */
    default void snapshotReceivedFromPeer(long peer, long bytes) {
    }

    /** <b>Apply thread.</b> This node restored a snapshot of {@code bytes} received from the leader, in {@code nanos}. */
    default void snapshotInstalled(long nanos, long bytes) {
    }

    /**
     * <b>Raft loop.</b> The log writer finished no write for {@code diskStallTicks}: the disk is
     * stalled ({@link RaftServerBuilder#diskStallTicks}); called once per stall.
     */
    default void diskStalled() {
    }

    /**
     * <b>Raft loop</b>, at a tick: the followers this node tracks as leader changed (it became
     * leader, a membership change, or it stopped leading: then an empty set). Their lag is in
     * {@link RaftGauges#followers()} from the next snapshot on; an implementation registers and
     * removes per-peer meters here. Rare; still quick.
     */
    default void followersChanged(Set<Long> followers) {
    }
}
