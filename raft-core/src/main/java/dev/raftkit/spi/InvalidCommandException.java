package dev.raftkit.spi;

/**
 * Thrown by {@link StateMachine#validate} for a command the state machine would refuse at apply:
 * the runtime then refuses it to the client (not retryable) instead of proposing it. The message
 * is the reason the client sees; keep it short and do not quote large parts of the command.
 */
public class InvalidCommandException extends RuntimeException {

    public InvalidCommandException(String reason) {
        super(reason);
    }

    public InvalidCommandException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
