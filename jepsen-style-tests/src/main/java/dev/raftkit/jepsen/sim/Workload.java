package dev.raftkit.jepsen.sim;

import dev.raftkit.core.ReadMode;
import dev.raftkit.jepsen.history.TypedHistory;
import dev.raftkit.spi.StateMachine;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * What the simulated clients do, against which state machine, and how the outcome is judged. The
 * simulator brings the cluster, the faults, the client sessions (every write goes through
 * {@code RaftServer.submit} with a session id and sequence number, retried exactly once on another
 * node after a timeout) and the Raft checks; a workload brings the rest:
 *
 * <ul>
 *   <li>a {@link #newStateMachine() state machine} for each life of each node;
 *   <li>a generator of operations ({@link Run#next});
 *   <li>a sequential model for the linearizability checker and/or invariants over a node's state
 *       ({@link Run#checkState}, run after every apply batch on every node and at the end), and a
 *       final verdict over the history ({@link Run#verdict}).
 * </ul>
 *
 * <p>{@link ModelWorkload} builds one from a state machine, a generator of your own operations
 * and a sequential model, which is all most tests need.
 *
 * <p>Everything is called on the simulator's one thread; a workload must be deterministic (no
 * clocks, no unseeded randomness, no hash-ordered iteration over identity-hashed objects).
 */
public interface Workload {

    /** A short name, as {@code raftkit sim --sm NAME} takes it. */
    String name();

    /** A fresh, empty state machine: for a node's first start and for every restart after a crash. */
    StateMachine newStateMachine();

    /**
     * {@link #newStateMachine()} for a run with {@code hooks}: the simulator calls this one, so a
     * workload whose state machine has a planted bug of its own (like {@link
     * Hooks#splitSqlTransactions}) can turn it on. By default the hooks change nothing here.
     */
    default StateMachine newStateMachine(Hooks hooks) {
        return newStateMachine();
    }

    /** The state of one run: its history and whatever the generator remembers. */
    Run start(Settings settings);

    /**
     * What a run tells its workload.
     *
     * @param clients    concurrent clients
     * @param keys       keys (or accounts, rows…) the clients touch
     * @param nanoClock  virtual time in nanoseconds, for the history
     */
    record Settings(int clients, int keys, LongSupplier nanoClock) {
    }

    /** One run. */
    interface Run {

        /** Client {@code client}'s next operation, recorded as invoked now. */
        Op next(int client, SplittableRandom random);

        /**
         * An invariant over one node's state, after an apply batch and at the end: null if it
         * holds, else what is wrong. {@code sm} is the node's state machine (from {@link #newStateMachine}).
         */
        default String checkState(StateMachine sm) {
            return null;
        }

        /** A digest of {@code sm}'s whole state: equal on replicas at an equal applied index. */
        long digest(StateMachine sm);

        /** Every operation of the run, as recorded (of the key-value register's type or the workload's own). */
        TypedHistory<?, ?> history();

        /**
         * The verdict over the whole history once the run is over (linearizability against a
         * sequential model, a conserved quantity, …): null if fine, else what is wrong.
         */
        String verdict();

        /**
         * A live restore is about to switch every replica's state to {@code image}'s (a fresh state
         * machine holding the backup's state): records the switch in the history, invoked now, and
         * returns the handle to record its outcome with; null if this workload's model cannot
         * express it (the simulator then does not run it).
         */
        default StateSwitch stateSwitch(StateMachine image) {
            return null;
        }

        /** What a failed {@link #verdict} is reported as: "Linearizability", or the default "Workload invariant". */
        default String verdictKind() {
            return "Workload invariant";
        }

        /**
         * For the {@link Hooks#ackBeforeCommit} broken variant only: the answer a buggy leader
         * gives {@code command} before it commits; null if the workload cannot fake one.
         */
        default byte[] answerBeforeCommit(byte[] command) {
            return null;
        }
    }

    /** One client operation; the simulator reports its outcome exactly once. */
    interface Op {

        /** The command ({@link #isWrite()}) or query bytes. */
        byte[] bytes();

        /** A write goes through the log (with a session); a read through {@code RaftServer.read}. */
        boolean isWrite();

        /** How a read is served (ignored for writes). */
        ReadMode readMode();

        /** It happened; {@code result} is the state machine's answer. */
        void ok(byte[] result);

        /** It definitely did not happen. */
        void fail();

        /** It may or may not have happened (a write whose every attempt went unanswered). */
        void unknown();
    }

    /** A live restore recorded in a workload's history ({@link Run#stateSwitch}). */
    interface StateSwitch {
        /** The switch applied (on the leader that proposed it). */
        void ok();

        /** The switch was never proposed. */
        void fail();

        /** Proposed, outcome not known. */
        void unknown();
    }
}
