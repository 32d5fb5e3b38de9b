package dev.raftkit.grpc;

/**
 * A message from the wire that does not decode to a valid {@link dev.raftkit.core.message.Message}:
 * a missing field, an unknown enum value, a negative term or index, a log slice that is not
 * contiguous, a size beyond a limit. The message says which field and why; the receiver drops the
 * message and refuses the stream it came on, so a buggy or hostile sender cannot reach the core.
 */
public final class InvalidMessageException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    public InvalidMessageException(String message) {
        super(message);
    }

    public InvalidMessageException(String message, Throwable cause) {
        super(message, cause);
    }
}
