package dev.raftkit.kv;

/**
 * The store answered {@link KvResult.Rejected}: the request was not a valid command (a bug or a
 * version mismatch in the client, never a transient condition; retrying will not help).
 */
public final class KvRejectedException extends RuntimeException {

    public KvRejectedException(String reason) {
        super("the key-value store rejected the request: " + reason);
    }
}
