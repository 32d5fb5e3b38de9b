package dev.raftkit.sql;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where and how a node keeps the table artifacts that {@code BACKUP TABLE t TO 'name'} writes
 * ({@code directory/name.rktable}, see {@link TableArtifact}). {@code raftkit server --sm sql}
 * uses {@code <--backup-root>/sql-tables} when the node has a backup root (kept apart from the
 * node's data), and {@code <--data>/sql-backups} otherwise.
 *
 * @param directory where the files go (created when the first one is written)
 * @param clusterId the cluster's id, recorded in every artifact ("" if unknown)
 * @param key       the key artifacts are sealed with (the node's backup key), or null for plain files
 */
public record TableArtifactStore(Path directory, String clusterId, TableArtifactKey key) {

    public TableArtifactStore {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(clusterId, "clusterId");
    }

    /** The file an artifact of backup {@code name} is kept in. */
    public Path file(String name) {
        return directory.resolve(TableArtifact.fileName(name));
    }
}
