package dev.raftkit.kv;

/**
 * Bytes that are not a valid encoded {@link KvCommand} or {@link KvResult}. The message names what
 * was being decoded, the byte offset and what was wrong; the usual causes are a client and server
 * of different versions, or bytes that were never a KV message (a payload meant for another state
 * machine).
 */
public final class KvCodecException extends IllegalArgumentException {

    public KvCodecException(String message) {
        super(message);
    }

    public KvCodecException(String message, Throwable cause) {
        super(message, cause);
    }
}
