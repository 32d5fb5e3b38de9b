package dev.raftkit.jepsen.txn;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One micro-operation of a transaction, as Elle's workloads have them. A list-append transaction
 * uses {@link Append} and {@link Read}; a read-write register transaction uses {@link Write} and
 * {@link ReadRegister}. A key holds either a list or a register throughout a history, never both.
 *
 * <p>Values must be unique per key: every {@link Append} (and every {@link Write}) of one key in a
 * history carries a value no other one of that key carries, so that a read names the one
 * transaction that wrote what it saw. At invocation a read's value is not known yet ({@code null});
 * the completion of an ok transaction fills it in.
 */
public sealed interface Mop {

    /** The key this micro-operation touches. */
    String key();

    /** True for the reads. */
    boolean isRead();

    /** This micro-operation with its read result replaced by "unknown" (an invocation's form). */
    Mop unread();

    /**
     * Appends {@code value} to the list at {@code key} (an absent key is the empty list).
     *
     * @param key the key
     * @param value the value appended; unique among the appends to this key
     */
    record Append(String key, long value) implements Mop {
        /** Checks the key. */
        public Append {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public boolean isRead() {
            return false;
        }

        @Override
        public Mop unread() {
            return this;
        }
    }

    /**
     * Reads the whole list at {@code key}.
     *
     * @param key the key
     * @param values the list read, oldest append first; {@code null} when not known (an invocation,
     *     or a transaction that failed or is indeterminate)
     */
    record Read(String key, List<Long> values) implements Mop {
        /** Checks the key and copies the list. */
        public Read {
            Objects.requireNonNull(key, "key");
            values = values == null ? null : List.copyOf(values);
        }

        @Override
        public boolean isRead() {
            return true;
        }

        @Override
        public Mop unread() {
            return new Read(key, null);
        }
    }

    /**
     * Sets the register at {@code key} to {@code value}.
     *
     * @param key the key
     * @param value the value written; unique among the writes to this key
     */
    record Write(String key, long value) implements Mop {
        /** Checks the key. */
        public Write {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public boolean isRead() {
            return false;
        }

        @Override
        public Mop unread() {
            return this;
        }
    }

    /**
     * Reads the register at {@code key}.
     *
     * @param key the key
     * @param value the value read, or {@code null} for the initial (never written) state; in an
     *     invocation, or a transaction that did not complete ok, the value is not looked at
     */
    record ReadRegister(String key, Long value) implements Mop {
        /** Checks the key. */
        public ReadRegister {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public boolean isRead() {
            return true;
        }

        @Override
        public Mop unread() {
            return new ReadRegister(key, null);
        }
    }

    /** {@code append(key, value)}. */
    static Mop append(String key, long value) {
        return new Append(key, value);
    }

    /** A list read that saw {@code values} (oldest first; none: the empty list). */
    static Mop read(String key, long... values) {
        return new Read(key, Arrays.stream(values).boxed().toList());
    }

    /** {@code write(key, value)} on a register. */
    static Mop write(String key, long value) {
        return new Write(key, value);
    }

    /** A register read that saw {@code value} ({@code null}: the initial state). */
    static Mop readRegister(String key, Long value) {
        return new ReadRegister(key, value);
    }
}
