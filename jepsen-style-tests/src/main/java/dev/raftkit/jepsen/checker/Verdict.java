package dev.raftkit.jepsen.checker;

/** The outcome of checking one key, or a whole history. Only {@link #LINEARIZABLE} is a pass. */
public enum Verdict {
    /** A linearization was found. */
    LINEARIZABLE,
    /** The search proved that no linearization exists. */
    NOT_LINEARIZABLE,
    /** The search ran out of time or memory before deciding: unknown, and therefore a failure. */
    BUDGET_EXCEEDED;

    /** Whether this verdict is a pass. */
    public boolean isValid() {
        return this == LINEARIZABLE;
    }
}
