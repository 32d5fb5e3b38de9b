package dev.raftkit.jepsen.history;

/**
 * What the system answered to a {@link Command} that completed {@link OpStatus#OK}.
 *
 * <p>Note that a CAS whose comparison failed is an OK operation with {@code swapped == false}: the
 * system definitely executed it and observed a value other than the expected one. That is a
 * different thing from a {@link OpStatus#FAIL}ed CAS, which definitely did not execute at all.
 */
public sealed interface Response permits Response.Written, Response.ReadValue, Response.CasResult {

    /** Acknowledges a write. */
    record Written() implements Response {
    }

    /** The value a read observed; {@code null} means the key was absent. */
    record ReadValue(String value) implements Response {
    }

    /** Whether a CAS swapped ({@code true}) or found a value other than the expected one. */
    record CasResult(boolean swapped) implements Response {
    }

    static Written written() {
        return new Written();
    }

    static ReadValue read(String valueOrNull) {
        return new ReadValue(valueOrNull);
    }

    static CasResult cas(boolean swapped) {
        return new CasResult(swapped);
    }

    /** Whether this response is the kind {@code command} produces. */
    static boolean fits(Command command, Response response) {
        // Java 17 has no pattern switch; the three kinds are few enough for plain instanceof.
        if (command instanceof Command.Write) {
            return response instanceof Written;
        }
        if (command instanceof Command.Read) {
            return response instanceof ReadValue;
        }
        return response instanceof CasResult;
    }
}
