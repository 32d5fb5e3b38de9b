package dev.raftkit.core.confchange;

/**
 * A committed configuration-change entry as the core applied it: the configuration in effect from
 * {@code index} on, and why the change was refused if it was.
 *
 * <p>A refused change (it would break an invariant of {@link Changer}) is refused alike by every
 * node, since each applies the same entry to the same configuration; it is then a no-op and
 * {@code conf} is the configuration before it. The runtime tells the proposer the reason and
 * otherwise treats the entry as applied.
 *
 * @param index     the log index of the entry
 * @param conf      the configuration in effect after applying it (unchanged when refused)
 * @param rejection why the change was refused, or null if it took effect
 */
public record AppliedConfChange(long index, ConfState conf, String rejection) {

    public AppliedConfChange {
        if (conf == null) {
            throw new IllegalArgumentException("conf must not be null");
        }
    }

    /** True if the change took effect. */
    public boolean accepted() {
        return rejection == null;
    }
}
