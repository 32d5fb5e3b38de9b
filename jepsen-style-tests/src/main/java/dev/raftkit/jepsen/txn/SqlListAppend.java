package dev.raftkit.jepsen.txn;

import dev.raftkit.sql.SqlRequest;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStatement;
import java.util.ArrayList;
import java.util.List;

/**
 * The list-append workload over SQL, shared by the simulator and the real-process harness: how a
 * list-append transaction ({@link Mop.Append} and {@link Mop.Read} micro-operations) becomes one
 * SQL write and how its result becomes the completed transaction {@link TxnRecorder#ok} wants.
 *
 * <p><b>Schema.</b> One row per appended element, in table {@value #TABLE}:
 * {@code (k TEXT, seq INTEGER, v INTEGER, PRIMARY KEY (k, seq)) WITHOUT ROWID}. An append inserts
 * the element at {@code seq = max(seq of k) + 1}; a read is
 * {@code SELECT v FROM txn_append WHERE k = ? ORDER BY seq}, so the list comes back oldest append
 * first, as {@link Mop.Read} holds it. The primary key orders by key first, so a read is one range
 * of the table, whatever the number of keys.
 *
 * <p><b>One transaction, one entry.</b> {@link #request} turns the whole transaction into ONE
 * {@link SqlRequest.Execute}: the schema statement ({@code CREATE TABLE IF NOT EXISTS}, a no-op
 * once the table exists; so no separate set-up write is needed and a fresh or restored cluster
 * takes the workload as it is) followed by one statement per micro-operation, in program order.
 * The SQL state machine applies a request as one log entry inside its batch transaction, in a
 * savepoint, all or nothing: that is what makes the transaction serializable (and, read through
 * the log, strictly serializable). Reads are therefore writes too: they go through the log with
 * the appends, which is what the checker's real-time order assumes.
 *
 * <p><b>Results.</b> {@link #complete} reads the {@link SqlResult}: {@link SqlResult.Ok} gives
 * the values each read saw (the result of statement {@code 1 + i} is micro-operation {@code i});
 * {@link SqlResult.Error} means nothing of the transaction was applied, so the transaction
 * {@link Outcome#FAILED failed} definitely (a client that got no answer at all records it as
 * indeterminate instead: that is not this class's decision).
 *
 * <p>Stateless and thread-safe.
 */
public final class SqlListAppend {

    /** The table the workload keeps its lists in. */
    public static final String TABLE = "txn_append";

    /** Creates {@value #TABLE} if absent; the first statement of every transaction's request. */
    public static final String SCHEMA = "CREATE TABLE IF NOT EXISTS " + TABLE
            + " (k TEXT NOT NULL, seq INTEGER NOT NULL, v INTEGER NOT NULL, PRIMARY KEY (k, seq)) WITHOUT ROWID";

    /** Appends {@code v} (second parameter) to the list of key {@code k} (first and third). */
    static final String APPEND = "INSERT INTO " + TABLE + " (k, seq, v) SELECT ?, COALESCE(MAX(seq), 0) + 1, ? FROM "
            + TABLE + " WHERE k = ?";

    /** The list of key {@code k}, oldest append first. */
    public static final String READ = "SELECT v FROM " + TABLE + " WHERE k = ? ORDER BY seq";

    private SqlListAppend() {
    }

    /** How a request for a transaction ended, as {@link #complete} reads its result. */
    public enum Outcome {
        /** Committed: the completed micro-operations carry what each read saw. */
        COMMITTED,
        /** Definitely not applied: the state machine answered an error, and rolled it all back. */
        FAILED
    }

    /**
     * The decoded result of a transaction.
     *
     * @param outcome committed or failed
     * @param mops    the micro-operations as completed (reads filled in) if committed; the invoked
     *                ones otherwise
     * @param index   the log index the transaction was applied at, or 0 if it failed
     * @param error   the state machine's error message if it failed, else null
     */
    public record Completion(Outcome outcome, List<Mop> mops, long index, String error) {
        /** Copies the list. */
        public Completion {
            mops = List.copyOf(mops);
        }

        /** True if the transaction committed. */
        public boolean committed() {
            return outcome == Outcome.COMMITTED;
        }
    }

    /**
     * The one SQL write that runs {@code mops} as a transaction.
     *
     * @param mops the transaction's micro-operations, in program order: {@link Mop.Append} and
     *             {@link Mop.Read} only (reads' values are ignored)
     * @throws IllegalArgumentException if a micro-operation is a register write or read, or there
     *                                  are none: this codec carries list-append transactions only
     */
    public static SqlRequest.Execute request(List<Mop> mops) {
        if (mops.isEmpty()) {
            throw new IllegalArgumentException("SqlListAppend: a transaction needs at least one micro-operation");
        }
        List<SqlStatement> statements = new ArrayList<>(mops.size() + 1);
        statements.add(new SqlStatement(SCHEMA, List.of()));
        for (int i = 0; i < mops.size(); i++) {
            Mop m = mops.get(i);
            if (m instanceof Mop.Append a) {
                statements.add(SqlStatement.of(APPEND, a.key(), a.value(), a.key()));
            } else if (m instanceof Mop.Read r) {
                statements.add(SqlStatement.of(READ, r.key()));
            } else {
                throw new IllegalArgumentException("SqlListAppend: micro-operation " + i + " (" + m + ") is a register"
                        + " operation; the SQL list-append workload carries only Mop.Append and Mop.Read");
            }
        }
        return new SqlRequest.Execute(statements);
    }

    /** {@link #request} as the bytes to submit to the SQL state machine. */
    public static byte[] encode(List<Mop> mops) {
        return request(mops).encode();
    }

    /**
     * Reads the state machine's answer to {@link #request}{@code (mops)}.
     *
     * @param mops   the micro-operations as invoked
     * @param result the state machine's answer to that request
     * @throws IllegalArgumentException if an {@link SqlResult.Ok} does not have the shape the
     *                                  request asks for (a statement count, a column or a value of
     *                                  another kind, an append that did not insert one row): the
     *                                  answer is not to this request, or the state machine is
     *                                  broken; either way the history cannot use it
     */
    public static Completion complete(List<Mop> mops, SqlResult result) {
        if (result instanceof SqlResult.Error e) {
            return new Completion(Outcome.FAILED, mops, 0, "statement " + e.statement() + ": " + e.message());
        }
        SqlResult.Ok ok = (SqlResult.Ok) result;
        if (ok.statements().size() != mops.size() + 1) {
            throw new IllegalArgumentException("SqlListAppend: the result at index " + ok.index() + " has "
                    + ok.statements().size() + " statement results, but the transaction sent " + (mops.size() + 1)
                    + " statements (the schema and " + mops.size() + " micro-operations); it is not this request's");
        }
        List<Mop> completed = new ArrayList<>(mops.size());
        for (int i = 0; i < mops.size(); i++) {
            Mop m = mops.get(i);
            SqlResult.Rows rows = ok.statements().get(i + 1);
            if (m instanceof Mop.Append a) {
                if (rows.changes() != 1) {
                    throw new IllegalArgumentException("SqlListAppend: append " + a + " (micro-operation " + i
                            + ") changed " + rows.changes() + " rows at index " + ok.index() + "; it inserts exactly one");
                }
                completed.add(a);
            } else {
                List<Long> values = new ArrayList<>(rows.rows().size());
                for (List<Object> row : rows.rows()) {
                    if (row.size() != 1 || !(row.get(0) instanceof Long v)) {
                        throw new IllegalArgumentException("SqlListAppend: read of key " + m.key() + " (micro-operation "
                                + i + ") at index " + ok.index() + " answered row " + row + "; expected one integer v");
                    }
                    values.add(v);
                }
                completed.add(new Mop.Read(m.key(), values));
            }
        }
        return new Completion(Outcome.COMMITTED, completed, ok.index(), null);
    }

    /** {@link #complete} on the result's bytes. */
    public static Completion complete(List<Mop> mops, byte[] result) {
        return complete(mops, SqlResult.decode(result));
    }
}
