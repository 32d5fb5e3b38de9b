package dev.raftkit.jepsen.sim;

import dev.raftkit.core.ReadMode;
import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.HistoryRecorder;
import dev.raftkit.jepsen.history.Response;
import dev.raftkit.jepsen.history.TypedHistory;
import dev.raftkit.jepsen.txn.Mop;
import dev.raftkit.jepsen.txn.SqlListAppend;
import dev.raftkit.jepsen.txn.TxnChecker;
import dev.raftkit.jepsen.txn.TxnRecorder;
import dev.raftkit.jepsen.txn.TxnResult;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlStateMachine;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Elle's list-append workload on statemachine-sql's real {@link SqlStateMachine}
 * ({@code raftkit sim --sm sql-append}): each client runs transactions of 1 to 4 appends and
 * reads over the run's keys, each transaction ONE SQL write ({@link SqlListAppend}: a single log
 * entry, applied in one savepoint, reads included), recorded with a {@link TxnRecorder} on the
 * simulator's virtual clock. At the end {@link TxnChecker} checks the history for strict
 * serializability: any anomaly (G0, G1a/b/c, G-single, G2, their real-time variants, lost or
 * garbage reads…) fails the run as a "Transactional isolation" violation naming it, with the
 * checker's explanation of the smallest example.
 *
 * <p><b>Outcomes, as Elle takes them.</b> A transaction answered {@link dev.raftkit.sql.SqlResult.Ok}
 * is committed with what its reads saw; one answered with an error, or that the simulator says
 * definitely did not happen, failed; one whose every attempt went unanswered is indeterminate
 * (:info): it may still commit later, so its client continues as a new process (the process
 * order the checker uses then never orders the indeterminate transaction before the next one).
 * Appended values are unique per key (one counter for the run).
 *
 * <p>The planted bug {@link Hooks#splitSqlTransactions} (<code>--plant split-sql-transactions</code>)
 * runs every node on {@link SqlStateMachine#testingOnlySplitTransactions}: the replicas stay
 * identical, so only this workload's checker can see it.
 */
public final class SqlAppendWorkload implements Workload {

    /** Micro-operations per transaction, at most. */
    static final int MAX_MOPS = 4;

    @Override
    public String name() {
        return "sql-append";
    }

    @Override
    public StateMachine newStateMachine() {
        return new SqlStateMachine();
    }

    @Override
    public StateMachine newStateMachine(Hooks hooks) {
        return hooks.splitSqlTransactions() ? SqlStateMachine.testingOnlySplitTransactions(null, null)
                : new SqlStateMachine();
    }

    @Override
    public Run start(Settings settings) {
        return new AppendRun(settings);
    }

    private static final class AppendRun implements Run {
        private final int keys;
        private final int clients;
        private final TxnRecorder txns;
        private final HistoryRecorder recorder;
        private final byte[] digestQuery = SqlOps.digest();
        /** Client {@code c} runs as process {@code c + clients * generation[c]}; a new one after each :info. */
        private final int[] generation;
        private long nextValue;

        AppendRun(Settings settings) {
            this.keys = Math.max(1, settings.keys());
            this.clients = Math.max(1, settings.clients());
            this.txns = new TxnRecorder(settings.nanoClock());
            this.recorder = new HistoryRecorder(settings.nanoClock());
            this.generation = new int[clients];
        }

        @Override
        public Op next(int client, SplittableRandom random) {
            int n = 1 + random.nextInt(MAX_MOPS);
            List<Mop> mops = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String key = "k" + random.nextInt(keys);
                mops.add(random.nextBoolean() ? Mop.append(key, ++nextValue) : new Mop.Read(key, null));
            }
            byte[] bytes = SqlListAppend.encode(mops);
            long process = client + (long) clients * generation[client];
            int handle = txns.invoke(process, mops);
            // The plain history (for reports and the operation count): one write per transaction.
            long id = recorder.invoke(client, Command.write("txn", mops.toString()));
            return new Op() {
                @Override
                public byte[] bytes() {
                    return bytes;
                }

                @Override
                public boolean isWrite() {
                    return true; // reads too go through the log, with the appends they are serialized with
                }

                @Override
                public ReadMode readMode() {
                    return ReadMode.LINEARIZABLE;
                }

                @Override
                public void ok(byte[] answer) {
                    SqlListAppend.Completion c = SqlListAppend.complete(mops, answer);
                    if (c.committed()) {
                        txns.ok(handle, c.mops());
                        recorder.ok(id, Response.written());
                    } else {
                        txns.fail(handle);
                        recorder.fail(id);
                    }
                }

                @Override
                public void fail() {
                    txns.fail(handle);
                    recorder.fail(id);
                }

                @Override
                public void unknown() {
                    txns.info(handle);
                    recorder.info(id);
                    generation[client]++;
                }
            };
        }

        @Override
        public long digest(StateMachine sm) {
            return SqlOps.digestOf(sm.query(digestQuery)).hashCode();
        }

        @Override
        public TypedHistory<Command, Response> history() {
            return recorder.history().toTyped();
        }

        @Override
        public String verdict() {
            TxnResult result = TxnChecker.check(txns.history());
            // Without the checker's wall time, so that a seed's report is the same on every replay.
            return result.valid() ? null : result.text().replaceFirst(" \\(checker \\d+ ms\\)", "");
        }

        @Override
        public String verdictKind() {
            return "Transactional isolation";
        }
    }
}
