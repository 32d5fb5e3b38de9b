package dev.raftkit.storage.backup;

/**
 * What a backup holds: a snapshot, or committed log entries after its parent. A chain starts with
 * a {@link #FULL} backup; a {@link #DIFFERENTIAL} one follows its full backup directly; an
 * {@link #INCREMENTAL} one follows the newest backup of any kind.
 */
public enum BackupKind {
    /** A snapshot of the state at one index: the start of every chain. */
    FULL,
    /** The committed entries (i, j] after its parent, which ends at i. */
    INCREMENTAL,
    /**
     * The committed entries (i, j] after the chain's full backup, which ends at i: everything since
     * that full backup, so a restore needs the full backup, this one and only the increments after it.
     */
    DIFFERENTIAL;

    /** The word used in directory names, manifests and messages: {@code full}, {@code incremental}, {@code differential}. */
    public String word() {
        return name().toLowerCase();
    }
}
