package dev.raftkit.spi;

import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The name of a state-machine image staged on the replicas ahead of a live restore: the log entry
 * that switches a running cluster to it carries this and nothing more (the image itself never
 * goes through the log), so every replica applies the same bytes at the same index.
 *
 * @param id          the staging id, unique per live restore: 1 to 64 letters, digits, '-' or '_'
 *                    (it names a file in each node's staging directory)
 * @param origin      the node that built the image (from its backup chain); a replica without it
 *                    fetches it from there first, then from any other member
 * @param sourceIndex the index of the backed-up cluster's log the image is the state at
 * @param sizeBytes   the image's length in bytes
 * @param sha256      the SHA-256 of the image's bytes (32 bytes): what a replica checks before it
 *                    restores, and the digest an operator sees as "now in force"
 */
public record StagedState(String id, long origin, long sourceIndex, long sizeBytes, byte[] sha256) {

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    public StagedState {
        Objects.requireNonNull(id, "id");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("staged state id '" + id + "' must be 1 to 64 letters, digits, '-' or '_'"
                    + " (it names a file in every node's staging directory)");
        }
        if (origin <= 0 || sourceIndex < 0 || sizeBytes < 0) {
            throw new IllegalArgumentException("staged state " + id + ": origin " + origin + ", source index "
                    + sourceIndex + " and size " + sizeBytes + " must be positive, non-negative and non-negative");
        }
        if (sha256 == null || sha256.length != 32) {
            throw new IllegalArgumentException("staged state " + id + ": the SHA-256 must be 32 bytes");
        }
        sha256 = sha256.clone();
    }

    @Override
    public byte[] sha256() {
        return sha256.clone();
    }

    /** The SHA-256 in lower-case hex. */
    public String sha256Hex() {
        return HexFormat.of().formatHex(sha256);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StagedState s && id.equals(s.id) && origin == s.origin && sourceIndex == s.sourceIndex
                && sizeBytes == s.sizeBytes && java.util.Arrays.equals(sha256, s.sha256);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, origin, sourceIndex, sizeBytes) * 31 + java.util.Arrays.hashCode(sha256);
    }

    @Override
    public String toString() {
        return "staged state " + id + " (index " + sourceIndex + " of the backup, " + sizeBytes + " bytes, SHA-256 "
                + sha256Hex().substring(0, 16) + "…, built by node " + origin + ")";
    }
}
