package dev.raftkit.core.log;

/** What an entry's payload holds. */
public enum EntryType {
    /** An application command, or (with an empty payload) the leader's no-op (§8). */
    NORMAL,
    /** An encoded {@link dev.raftkit.core.confchange.ConfChange}; see {@code ConfChangeCodec}. */
    CONF_CHANGE;

    private static final EntryType[] VALUES = values();

    public static EntryType fromCode(int code) {
        if (code < 0 || code >= VALUES.length) {
            throw new IllegalArgumentException("unknown entry type code " + code);
        }
        return VALUES[code];
    }

    public int code() {
        return ordinal();
    }
}
