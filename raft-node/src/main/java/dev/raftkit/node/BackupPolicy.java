package dev.raftkit.node;

import dev.raftkit.storage.PrivateFiles;
import dev.raftkit.storage.backup.BackupKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * Where a node may write backups, and with which key: the node's backup root
 * ({@code raftkit server --backup-root DIR}) and its backup key ({@code --backup-key FILE}).
 *
 * <p>An admin call names the directory to back up into, and the node writes there with its own
 * rights, so the name is checked here before anything is created: it must lie under the backup
 * root after normalisation and after resolving every symbolic link that exists, must not contain
 * {@code ..}, and must never be inside the node's data directory (a backup written into
 * {@code log/} would be read back as log segments). The backup root itself is refused at start if
 * it is inside the data directory or contains it. A node started without a backup root takes no
 * backups at all.
 *
 * @param root the backup root, an absolute real path; null if backups are not configured
 * @param key  the key backups are encrypted with, or null for plaintext backups
 */
public record BackupPolicy(Path root, BackupKey key) {

    /** Longest directory name accepted from a request (longer ones are refused, and never echoed whole). */
    static final int MAX_REQUEST_CHARS = 4096;

    /** A request the policy refuses; the message says why and what to do. */
    public static final class Refused extends Exception {
        private final boolean notConfigured;

        Refused(String message, boolean notConfigured) {
            super(message);
            this.notConfigured = notConfigured;
        }

        /** True if the node has no backup root at all (rather than a bad directory). */
        public boolean notConfigured() {
            return notConfigured;
        }
    }

    /** No backups: every backup call is refused with a message saying how to configure them. */
    public static BackupPolicy none() {
        return new BackupPolicy(null, null);
    }

    /**
     * The policy of a node with data directory {@code dataDir} (which must exist): creates
     * {@code root} (private to the service's user) if missing and loads {@code keyFile} (may be null).
     *
     * @throws IllegalArgumentException if the root overlaps the data directory or the key file is unusable
     * @throws IOException              if the root cannot be created
     */
    public static BackupPolicy open(Path root, Path keyFile, Path dataDir) throws IOException {
        if (root == null) {
            if (keyFile != null) {
                throw new IllegalArgumentException("--backup-key is given without --backup-root; a key is only used"
                        + " to encrypt backups, which need a backup root");
            }
            return none();
        }
        if (Files.exists(root) && !Files.isDirectory(root)) {
            throw new IllegalArgumentException("--backup-root " + root.toAbsolutePath() + " exists and is not a directory");
        }
        PrivateFiles.createDirectories(root);
        Path real = root.toRealPath();
        Path data = dataDir.toRealPath();
        if (real.startsWith(data) || data.startsWith(real)) {
            throw new IllegalArgumentException("--backup-root " + real + " overlaps the data directory " + data
                    + ": backups must be kept apart from the node's own files (a backup in the data directory is lost"
                    + " with the disk, and could be read back as the node's log); give a directory outside it");
        }
        BackupKey key = null;
        if (keyFile != null) {
            try {
                key = BackupKey.load(keyFile);
            } catch (IOException e) {
                throw new IllegalArgumentException("--backup-key: " + e.getMessage(), e);
            }
        }
        return new BackupPolicy(real, key);
    }

    /** Whether backups are configured. */
    public boolean enabled() {
        return root != null;
    }

    /**
     * The directory a backup request names, checked: {@code requested} is relative to the backup
     * root (empty: the root itself) or absolute under it. The result is the path with every
     * existing component's links resolved.
     *
     * @param nodeId   the node (for messages)
     * @param dataDir  the node's data directory, always refused
     * @throws Refused saying what is wrong; a long request is shortened in the message
     */
    public Path resolve(long nodeId, String requested, Path dataDir) throws Refused {
        if (root == null) {
            throw new Refused("node " + nodeId + " takes no backups: it was started without --backup-root; restart it"
                    + " with --backup-root DIR (a directory outside its data directory) to allow them", true);
        }
        String shown = shorten(requested);
        if (requested.length() > MAX_REQUEST_CHARS || requested.indexOf('\0') >= 0) {
            throw new Refused("backup directory '" + shown + "' is not a usable path name", false);
        }
        Path p;
        try {
            p = Path.of(requested);
        } catch (InvalidPathException e) {
            throw new Refused("backup directory '" + shown + "' is not a valid path on node " + nodeId + "'s host", false);
        }
        for (Path name : p) {
            if (name.toString().equals("..")) {
                throw new Refused("backup directory '" + shown + "' contains '..'; name a directory under node " + nodeId
                        + "'s backup root " + root + " (relative to it, or absolute)", false);
            }
        }
        Path target = (p.isAbsolute() ? p : root.resolve(p)).normalize();
        if (!target.startsWith(root)) {
            throw new Refused("backup directory '" + shown + "' is not under node " + nodeId + "'s backup root " + root
                    + "; name a directory relative to it (or absolute, inside it)", false);
        }
        Path real = realPrefix(target, shown, nodeId);
        if (!real.startsWith(root)) {
            throw new Refused("backup directory '" + shown + "' leads outside node " + nodeId + "'s backup root " + root
                    + " through a symbolic link (to " + shorten(real.toString()) + "); name a directory inside it", false);
        }
        Path data;
        try {
            data = dataDir.toRealPath();
        } catch (IOException e) {
            data = dataDir.toAbsolutePath().normalize();
        }
        if (real.startsWith(data)) {
            throw new Refused("backup directory '" + shown + "' is inside node " + nodeId + "'s data directory " + data
                    + "; backups are never written there: name a directory under the backup root " + root, false);
        }
        if (Files.exists(real) && !Files.isDirectory(real)) {
            throw new Refused("backup directory '" + shown + "' on node " + nodeId + "'s host exists and is not a"
                    + " directory; name a directory (created if missing)", false);
        }
        return real;
    }

    /** {@code target} with its longest existing prefix replaced by that prefix's real path. */
    private static Path realPrefix(Path target, String shown, long nodeId) throws Refused {
        Path existing = target;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return target;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(target));
        } catch (IOException e) {
            throw new Refused("backup directory '" + shown + "' cannot be resolved on node " + nodeId + "'s host: " + shorten(e.toString()),
                    false);
        }
    }

    static String shorten(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "… (" + s.length() + " characters)";
    }
}
