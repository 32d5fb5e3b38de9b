package dev.raftkit.storage.backup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a node's backups go: a place that lists the backups it holds, takes a new one atomically
 * (staged privately, then published whole or not at all), gives one back to read, and deletes one.
 * {@link DirectoryTarget} is the one implementation: a directory on a file system this host
 * mounts. Keeping backups off the node's host means mounting a remote volume (NFS, SMB, a cloud
 * file-system mount) and pointing the target at it: the backups then survive the loss of the
 * host's own disks.
 *
 * <p><b>Threads:</b> called on whichever thread takes, prunes or lists backups (the node's admin
 * and scheduler threads); every method may block on the file system; implementations must allow
 * calls from several threads, and a node takes at most one backup into a target at a time.
 * <b>Durability:</b> when {@link #publish} returns the backup is durable under its name; when
 * {@link #delete} returns it is gone. <b>Errors:</b> an {@link IOException} means the step did not
 * happen (a failed publish leaves no backup under that name; a failed delete may leave the backup
 * renamed out of the way, never half-deleted under its own name).
 */
public interface BackupTarget {

    /** The directory backups are written into and read from: a {@link BackupService}'s root. */
    Path root();

    /** The names of the published backups ({@code 000001-full}, …), in the order they were taken. */
    List<String> list() throws IOException;

    /** A new empty private staging directory for backup {@code id}: never listed, removed if not published. */
    Path begin(String id) throws IOException;

    /** Publishes the staged directory {@code staged} whole under {@code name}; refused if the name is taken. */
    void publish(Path staged, String name) throws IOException;

    /** The directory holding published backup {@code name}, to read its manifest and files. */
    Path read(String name) throws IOException;

    /**
     * Deletes published backup {@code name}: first renamed out of the listing in one step (so a
     * crash never leaves it half-deleted under its own name), then removed.
     */
    void delete(String name) throws IOException;
}
