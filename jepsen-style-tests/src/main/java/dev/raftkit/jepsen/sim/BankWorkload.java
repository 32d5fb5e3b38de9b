package dev.raftkit.jepsen.sim;

import dev.raftkit.core.ReadMode;
import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.HistoryRecorder;
import dev.raftkit.jepsen.history.Response;
import dev.raftkit.jepsen.history.TypedHistory;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStateMachine;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Bank transfers on statemachine-sql's {@link SqlStateMachine}: accounts that start with
 * {@value #START} each, transfers between two of them (one SQL transaction each, creating the
 * table on first use), and reads of every balance. The invariant is a conserved total: it must
 * hold in every node's database after every apply batch and at the end, and in every read.
 *
 * <p>SQLite runs in memory ({@code jdbc:sqlite::memory:}): the database is never a file, so a
 * simulated crash loses it with the process, and the node rebuilds it from its snapshot and log
 * on the simulated file system, exactly as a real node does.
 */
public final class BankWorkload implements Workload {

    static final long START = 100;

    private final Supplier<StateMachine> stateMachines;

    /** Transfers on a fresh {@link SqlStateMachine} for every life of every node. */
    public BankWorkload() {
        this(SqlStateMachine::new);
    }

    /** Transfers on the state machines {@code stateMachines} makes (tests plant bugs in them). */
    BankWorkload(Supplier<StateMachine> stateMachines) {
        this.stateMachines = stateMachines;
    }

    @Override
    public String name() {
        return "sql";
    }

    @Override
    public StateMachine newStateMachine() {
        return stateMachines.get();
    }

    @Override
    public Run start(Settings settings) {
        return new BankRun(settings);
    }

    private static final class BankRun implements Run {
        private final int accounts;
        private final long total;
        private final HistoryRecorder recorder;
        private final String setup;
        private final byte[] totalQuery = SqlOps.query("SELECT count(*), total(bal) FROM acct");
        private final byte[] readAll = SqlOps.query("SELECT id, bal FROM acct ORDER BY id");
        private final byte[] digestQuery = SqlOps.digest();
        private String problem;

        BankRun(Settings settings) {
            this.accounts = Math.max(2, settings.keys());
            this.total = accounts * START;
            this.recorder = new HistoryRecorder(settings.nanoClock());
            StringBuilder sb = new StringBuilder("CREATE TABLE IF NOT EXISTS acct(id INTEGER PRIMARY KEY, bal INTEGER NOT NULL);"
                    + " INSERT OR IGNORE INTO acct(id, bal) VALUES ");
            for (int a = 0; a < accounts; a++) {
                sb.append(a == 0 ? "" : ", ").append('(').append(a).append(", ").append(START).append(')');
            }
            this.setup = sb.append("; ").toString();
        }

        @Override
        public Op next(int client, SplittableRandom random) {
            boolean write = random.nextInt(10) < 6;
            byte[] bytes;
            Command command;
            if (write) {
                int from = random.nextInt(accounts);
                int to = (from + 1 + random.nextInt(accounts - 1)) % accounts;
                int amount = 1 + random.nextInt(20);
                bytes = SqlOps.execute(setup + "UPDATE acct SET bal = bal + CASE id WHEN " + from + " THEN -" + amount
                        + " ELSE " + amount + " END WHERE id IN (" + from + ", " + to + ")");
                command = Command.write("bank", from + "->" + to + ":" + amount);
            } else {
                bytes = readAll;
                command = Command.read("bank");
            }
            long id = recorder.invoke(client, command);
            return new Op() {
                @Override
                public byte[] bytes() {
                    return bytes;
                }

                @Override
                public boolean isWrite() {
                    return write;
                }

                @Override
                public ReadMode readMode() {
                    return ReadMode.LINEARIZABLE;
                }

                @Override
                public void ok(byte[] result) {
                    SqlResult r = SqlOps.decode(result);
                    if (write) {
                        if (r instanceof SqlResult.Error e) {
                            note("transfer " + command + " failed: " + e.message());
                        }
                        recorder.ok(id, Response.written());
                        return;
                    }
                    if (r instanceof SqlResult.Error) {
                        recorder.ok(id, Response.read(null)); // no transfer applied yet: no table
                        return;
                    }
                    List<List<Object>> rows = ((SqlResult.Ok) r).last().rows();
                    long sum = 0;
                    for (List<Object> row : rows) {
                        sum += ((Number) row.get(1)).longValue();
                    }
                    if (rows.size() != accounts || sum != total) {
                        note("a read saw " + rows.size() + " accounts holding " + sum + " in all, not " + accounts
                                + " holding " + total + ": " + rows);
                    }
                    recorder.ok(id, Response.read(String.valueOf(sum)));
                }

                @Override
                public void fail() {
                    recorder.fail(id);
                }

                @Override
                public void unknown() {
                    recorder.info(id);
                }
            };
        }

        private void note(String p) {
            if (problem == null) {
                problem = p;
            }
        }

        @Override
        public String checkState(StateMachine sm) {
            SqlResult r = SqlOps.decode(sm.query(totalQuery));
            if (r instanceof SqlResult.Error) {
                return null; // the table does not exist until the first transfer
            }
            SqlResult.Rows rows = ((SqlResult.Ok) r).last();
            long count = ((Number) rows.value(0, 0)).longValue();
            long sum = ((Number) rows.value(0, 1)).longValue();
            return count == accounts && sum == total ? null : "the database holds " + count + " accounts with " + sum
                    + " in all, not " + accounts + " with " + total + " (at index " + sm.lastApplied() + ")";
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
            return problem;
        }

        @Override
        public byte[] answerBeforeCommit(byte[] command) {
            return new SqlResult.Ok(0, List.of()).encode();
        }
    }
}
