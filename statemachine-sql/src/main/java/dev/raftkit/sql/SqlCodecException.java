package dev.raftkit.sql;

/** Bytes that are not a request or result of the SQL store's codec (wrong magic, version or length). */
public final class SqlCodecException extends RuntimeException {

    public SqlCodecException(String message) {
        super(message);
    }
}
