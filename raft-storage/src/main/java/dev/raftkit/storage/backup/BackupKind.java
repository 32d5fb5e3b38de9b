package dev.raftkit.storage.backup;

/** What a backup holds: a snapshot, or the committed log entries after its parent. */
public enum BackupKind {
    /** A snapshot of the state at one index: the start of every chain. */
    FULL,
    /** The committed entries (i, j] after its parent, which ends at i. */
    INCREMENTAL
}
