package dev.raftkit.testkit.property;

/**
 * A generator could not produce a value: a {@link Gen#filter filter} rejected too many values in a
 * row, a set could not find enough distinct elements, or a generator drew far too many choices.
 * This is a problem with the generator, not a failure of the property under test.
 */
public final class GenerationException extends RuntimeException {

    /** Creates the exception with a message that says what went wrong and what to change. */
    public GenerationException(String message) {
        super(message);
    }

    /** Creates the exception with a message and the underlying cause. */
    public GenerationException(String message, Throwable cause) {
        super(message, cause);
    }
}
