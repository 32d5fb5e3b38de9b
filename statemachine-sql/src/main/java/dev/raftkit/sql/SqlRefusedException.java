package dev.raftkit.sql;

/**
 * A statement the replicated SQL store will not run: it could not give the same result on every
 * node (it reads the clock, names another database, changes connection settings …) or is not
 * valid for where it was sent. The message says which statement, why, and what to write instead.
 * Thrown by {@link SqlOps} before anything reaches the log; at apply time the same check yields
 * an {@link SqlResult.Error} on every node instead.
 */
public final class SqlRefusedException extends RuntimeException {

    public SqlRefusedException(String message) {
        super(message);
    }
}
