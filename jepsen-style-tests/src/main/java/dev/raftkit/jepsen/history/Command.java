package dev.raftkit.jepsen.history;

import java.util.Objects;

/**
 * What a client asked of a key-value register: write, read or compare-and-set of one key.
 *
 * <p>Values are strings; {@code null} stands for "absent" (the key was never written). A CAS may
 * expect absence, which makes it a create-if-absent.
 */
public sealed interface Command permits Command.Write, Command.Read, Command.Cas {

    /** The key this command touches; histories are checked one key at a time. */
    String key();

    /** Sets {@code key} to {@code value}. */
    record Write(String key, String value) implements Command {
        public Write {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "a write needs a value; absence is only the initial state");
        }
    }

    /** Reads {@code key}; the observed value is in the {@link Response.ReadValue}. */
    record Read(String key) implements Command {
        public Read {
            Objects.requireNonNull(key, "key");
        }
    }

    /** Sets {@code key} to {@code newValue} if it currently holds {@code expected} (null = absent). */
    record Cas(String key, String expected, String newValue) implements Command {
        public Cas {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(newValue, "a CAS needs a new value");
        }
    }

    static Write write(String key, String value) {
        return new Write(key, value);
    }

    static Read read(String key) {
        return new Read(key);
    }

    static Cas cas(String key, String expected, String newValue) {
        return new Cas(key, expected, newValue);
    }
}
