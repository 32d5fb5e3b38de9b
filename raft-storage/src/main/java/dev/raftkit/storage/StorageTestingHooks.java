package dev.raftkit.storage;

/**
 * Deliberate storage bugs, for proving that a fault harness catches them (the simulator's
 * planted bugs). Never pass anything but {@link #NONE} outside such a test: each hook breaks a
 * durability promise on purpose.
 *
 * <ul>
 *   <li><b>Thread:</b> read by the thread that opens the storage, during recovery (or that
 *       verifies a backup chain).
 *   <li><b>Blocking:</b> must not block; answers a constant.
 *   <li><b>Durability:</b> none of its own.
 *   <li><b>Exceptions:</b> none expected; one would fail the open.
 * </ul>
 */
public interface StorageTestingHooks {

    /** The storage as shipped: no hook changes anything. */
    StorageTestingHooks NONE = new StorageTestingHooks() { };

    /**
     * Recovery cuts the open segment at the first invalid record as if a crash had torn it,
     * whatever follows and without starting the node recovering: the naive rule that loses
     * synced, acknowledged entries on a bit flip in the middle of the log (Alagappan et al.,
     * FAST 2018). The shipped rule is in {@link SegmentScanner}.
     */
    default boolean cutAtFirstInvalidRecord() {
        return false;
    }

    /**
     * Backup chain verification bridges a missing increment: an incremental whose parent is not in
     * the root continues the next older backup, and continuity (parent id, index and term) is not
     * checked. A chain with a gap verifies, and a restore from it cannot hold the missing entries.
     * The shipped rule is in {@link dev.raftkit.storage.backup.BackupChain}.
     */
    default boolean acceptGappedBackupChain() {
        return false;
    }

    /**
     * A restore into several data directories publishes each one (renames it into place, synced)
     * as soon as its own copy is written, before the others are written and before the state is
     * verified; and does not take it back when a later one fails. A power cut or a failure in the
     * middle leaves some of the nodes of the new cluster restored and others not, which the
     * shipped rule (every directory written and checked before the first is published, in {@link
     * dev.raftkit.storage.backup.BackupRestore}) never does.
     */
    default boolean publishRestoredDirectoriesEarly() {
        return false;
    }

    /**
     * Group commit done wrong: the log's {@code sync()} forces the open segment at most once per
     * this many milliseconds (0, as shipped: every time) and reports the entries of the syncs in
     * between durable (the node acknowledges them) while they are only in the page cache. A plain
     * kill keeps them (the kernel still has them); a power cut loses up to that much of the
     * acknowledged log. With the hook the durable commit index never moves either (a term or vote
     * is persisted with the old one): a durable commit index past the log would make the node
     * refuse its data at the next start (the recovery's guard), and the bug is planted to be the
     * harder case, a loss that only a checker of the clients' history can see. The shipped rule,
     * in {@link SegmentedLogStorage#sync}, forces the entries before the hard state and before
     * returning.
     */
    default long lazyEntriesFsyncMillis() {
        return 0;
    }
}
