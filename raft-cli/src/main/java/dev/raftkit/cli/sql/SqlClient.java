package dev.raftkit.cli.sql;

import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.sql.SqlCodecException;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStatement;
import dev.raftkit.sql.SqlText;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionException;

/**
 * SQL over a {@link RaftClient}: a statement that only reads ({@link SqlText#isRead}) is sent as
 * a query with the current {@link ReadMode}, anything else is submitted through the log (exactly
 * once, whatever the retries). Reads ask for at least the index of this client's last write, so
 * even a stale read sees the client's own writes.
 *
 * <p>Every method returns the {@link SqlResult.Ok} or throws: {@code SqlRefusedException} (the
 * statement cannot run on the replicated store; nothing was sent), {@link SqlOps.SqlFailedException}
 * (SQLite refused it; nothing of the request was applied), {@code RaftException} (no leader
 * in time, unreachable), or {@link NotSqlException}. Not thread-safe (the read mode and last
 * index are one shell's).
 */
public final class SqlClient {

    /** The cluster answered, but not in the SQL store's format: it runs another state machine. */
    public static final class NotSqlException extends RuntimeException {
        NotSqlException(SqlCodecException cause) {
            super("the cluster's answer is not a SQL result (" + cause.getMessage() + "): it runs another state"
                    + " machine; start its servers with raftkit server --sm sql", cause);
        }
    }

    private final RaftClient client;
    private ReadMode readMode;
    private long lastWriteIndex;

    public SqlClient(RaftClient client, ReadMode readMode) {
        this.client = Objects.requireNonNull(client, "client");
        this.readMode = Objects.requireNonNull(readMode, "readMode");
    }

    public ReadMode readMode() {
        return readMode;
    }

    /** Sets the read mode of later queries. */
    public void readMode(ReadMode mode) {
        this.readMode = Objects.requireNonNull(mode, "mode");
    }

    /** Runs one statement: a query if it only reads, else a write through the log. */
    public SqlResult.Ok run(String statement) {
        return SqlText.isRead(statement) ? query(new SqlStatement(statement, List.of()))
                : write(List.of(new SqlStatement(statement, List.of())));
    }

    /** Submits {@code statements} as one write: one log entry, one transaction, all or nothing. */
    public SqlResult.Ok write(List<SqlStatement> statements) {
        byte[] request = SqlOps.execute(statements.toArray(SqlStatement[]::new));
        SqlResult.Ok ok = decode(client.submit(request));
        lastWriteIndex = Math.max(lastWriteIndex, ok.index());
        return ok;
    }

    /** Submits an encoded write request (such as {@link SqlOps#restoreTableFromFile}'s) through the log. */
    public SqlResult.Ok submit(byte[] request) {
        SqlResult.Ok ok = decode(client.submit(request));
        lastWriteIndex = Math.max(lastWriteIndex, ok.index());
        return ok;
    }

    /** Runs a read-only statement with the current read mode. */
    public SqlResult.Ok query(SqlStatement statement) {
        return query(List.of(statement));
    }

    /**
     * Runs read-only statements as one read: the node runs them together, between two apply
     * batches, so they all see the same applied index.
     */
    public SqlResult.Ok query(List<SqlStatement> statements) {
        byte[] request = SqlOps.query(statements.toArray(SqlStatement[]::new));
        byte[] result;
        try {
            // The client times the call out itself (its --timeout), like its blocking read.
            result = client.readAsync(request, readMode, lastWriteIndex).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        return decode(result);
    }

    private static SqlResult.Ok decode(byte[] result) {
        try {
            return SqlOps.ok(result);
        } catch (SqlCodecException e) {
            throw new NotSqlException(e);
        }
    }
}
