package dev.raftkit.storage.backup;

import dev.raftkit.core.confchange.ConfState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * What one backup holds (docs/storage-format.md, "Backups"): a UTF-8 text file of
 * {@code key=value} lines, so an operator can read it, ending with a {@code crc32c=} line over
 * every byte before it, so a damaged manifest is refused rather than half-believed.
 *
 * @param id             unique id of this backup (a random UUID)
 * @param clusterId      the cluster it was taken from; every backup of a chain has the same one
 * @param kind           full (a snapshot) or incremental (entries after the parent)
 * @param sequence       position in its backup root, 1 for the first; the newest backup is the highest
 * @param parentId       an incremental's parent, null for a full backup
 * @param sourceNode     the node the backup was taken from (metadata)
 * @param prevIndex      an incremental's parent's last index (its entries start after it); 0 for a full one
 * @param prevTerm       the term of the entry at {@code prevIndex}; 0 for a full one
 * @param lastIndex      the last log index the backup covers (a full one: its snapshot's index)
 * @param lastTerm       the term of the entry at {@code lastIndex}
 * @param conf           the configuration as of {@code lastIndex}
 * @param createdAt      wall-clock time of the source node when the backup was taken (metadata only:
 *                       never used for ordering or restore)
 * @param fallbackReason why a full backup was taken when an incremental one was asked for, or null
 * @param files          every data file of the backup with its size and CRC32C
 */
public record BackupManifest(String id, String clusterId, BackupKind kind, long sequence, String parentId,
                             long sourceNode, long prevIndex, long prevTerm, long lastIndex, long lastTerm,
                             ConfState conf, Instant createdAt, String fallbackReason, List<BackupFile> files) {

    /** The manifest's file name inside a backup directory. */
    public static final String FILE_NAME = "manifest";
    /** The format version this code writes and reads. */
    public static final int VERSION = 1;
    private static final String FIRST_LINE = "raftkit-backup-manifest " + VERSION;

    public BackupManifest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(clusterId, "clusterId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(conf, "conf");
        Objects.requireNonNull(createdAt, "createdAt");
        files = List.copyOf(files);
        if (clusterId.isEmpty() || clusterId.contains("\n")) {
            throw new IllegalArgumentException("cluster id must be one non-empty line, got '" + clusterId + "'");
        }
        if ((kind == BackupKind.FULL) != (parentId == null)) {
            throw new IllegalArgumentException("a full backup has no parent and an incremental one has one");
        }
        if (lastIndex < prevIndex) {
            throw new IllegalArgumentException("last index " + lastIndex + " is below the previous index " + prevIndex);
        }
        if (fallbackReason != null) {
            fallbackReason = fallbackReason.replace('\n', ' ');
        }
    }

    /** The backup's data file called {@code name}, if the manifest lists it. */
    public BackupFile file(String name) {
        return files.stream().filter(f -> f.name().equals(name)).findFirst().orElse(null);
    }

    byte[] encode() {
        StringBuilder b = new StringBuilder(FIRST_LINE).append('\n');
        line(b, "id", id);
        line(b, "cluster", clusterId);
        line(b, "kind", kind.name().toLowerCase());
        line(b, "sequence", Long.toString(sequence));
        line(b, "parent", parentId == null ? "" : parentId);
        line(b, "node", Long.toString(sourceNode));
        line(b, "prev-index", Long.toString(prevIndex));
        line(b, "prev-term", Long.toString(prevTerm));
        line(b, "last-index", Long.toString(lastIndex));
        line(b, "last-term", Long.toString(lastTerm));
        line(b, "conf.voters", ids(conf.voters()));
        line(b, "conf.voters-outgoing", ids(conf.votersOutgoing()));
        line(b, "conf.learners", ids(conf.learners()));
        line(b, "conf.learners-next", ids(conf.learnersNext()));
        line(b, "conf.auto-leave", Boolean.toString(conf.autoLeave()));
        line(b, "created-at", createdAt.toString());
        line(b, "fallback", fallbackReason == null ? "" : fallbackReason);
        for (BackupFile f : files) {
            line(b, "file", f.name() + " " + f.sizeBytes() + " " + BackupFile.hex(f.crc32c()));
        }
        byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(body);
        return (b + "crc32c=" + BackupFile.hex((int) crc.getValue()) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static void line(StringBuilder b, String key, String value) {
        b.append(key).append('=').append(value).append('\n');
    }

    private static String ids(Set<Long> ids) {
        StringBuilder b = new StringBuilder();
        for (long id : new TreeSet<>(ids)) {
            b.append(b.length() == 0 ? "" : ",").append(id);
        }
        return b.toString();
    }

    /** Reads and checks the manifest of the backup in {@code dir}. */
    public static BackupManifest read(Path dir) throws BackupException {
        Path file = dir.resolve(FILE_NAME);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BackupException(file, "missing: " + dir + " is not a complete backup (an interrupted backup"
                    + " or a copy that lost files); remove it from the chain or copy it again");
        } catch (IOException e) {
            throw new BackupException(file, "cannot be read (" + e + ")", e);
        }
        return parse(file, bytes);
    }

    static BackupManifest parse(Path file, byte[] bytes) throws BackupException {
        String text = new String(bytes, StandardCharsets.UTF_8);
        int crcLine = text.lastIndexOf("crc32c=");
        if (crcLine < 0 || !text.endsWith("\n") || (crcLine > 0 && text.charAt(crcLine - 1) != '\n')) {
            throw corrupt(file, "it has no final crc32c line (truncated or not a manifest)");
        }
        CRC32C crc = new CRC32C();
        byte[] body = text.substring(0, crcLine).getBytes(StandardCharsets.UTF_8);
        crc.update(body);
        String stored = text.substring(crcLine + "crc32c=".length(), text.length() - 1);
        if (!stored.equals(BackupFile.hex((int) crc.getValue()))) {
            throw corrupt(file, "checksum mismatch: the crc32c line says " + stored + " but the content's CRC32C is "
                    + BackupFile.hex((int) crc.getValue()) + " (the manifest is damaged)");
        }
        String[] lines = text.substring(0, crcLine).split("\n");
        if (!lines[0].equals(FIRST_LINE)) {
            throw corrupt(file, "its first line is '" + lines[0] + "', expected '" + FIRST_LINE
                    + "' (another format or version)");
        }
        Map<String, String> kv = new LinkedHashMap<>();
        List<BackupFile> files = new ArrayList<>();
        try {
            for (int i = 1; i < lines.length; i++) {
                int eq = lines[i].indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("line " + (i + 1) + " is not key=value");
                }
                String key = lines[i].substring(0, eq);
                String value = lines[i].substring(eq + 1);
                if (key.equals("file")) {
                    String[] p = value.split(" ");
                    if (p.length != 3) {
                        throw new IllegalArgumentException("file line '" + value + "' is not 'name size crc32c'");
                    }
                    files.add(new BackupFile(p[0], Long.parseLong(p[1]), Integer.parseUnsignedInt(p[2], 16)));
                } else if (kv.put(key, value) != null) {
                    throw new IllegalArgumentException("key " + key + " appears twice");
                }
            }
            String parent = req(kv, "parent");
            String fallback = req(kv, "fallback");
            ConfState conf = new ConfState(idSet(req(kv, "conf.voters")), idSet(req(kv, "conf.voters-outgoing")),
                    idSet(req(kv, "conf.learners")), idSet(req(kv, "conf.learners-next")),
                    Boolean.parseBoolean(req(kv, "conf.auto-leave")));
            BackupManifest m = new BackupManifest(req(kv, "id"), req(kv, "cluster"),
                    BackupKind.valueOf(req(kv, "kind").toUpperCase()), num(kv, "sequence"),
                    parent.isEmpty() ? null : parent, num(kv, "node"), num(kv, "prev-index"), num(kv, "prev-term"),
                    num(kv, "last-index"), num(kv, "last-term"), conf, Instant.parse(req(kv, "created-at")),
                    fallback.isEmpty() ? null : fallback, files);
            if (!kv.isEmpty()) {
                throw new IllegalArgumentException("unknown keys " + kv.keySet());
            }
            return m;
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw corrupt(file, e.getMessage());
        }
    }

    private static String req(Map<String, String> kv, String key) {
        String v = kv.remove(key);
        if (v == null) {
            throw new IllegalArgumentException("the required key '" + key + "' is missing");
        }
        return v;
    }

    private static long num(Map<String, String> kv, String key) {
        return Long.parseLong(req(kv, key));
    }

    private static Set<Long> idSet(String s) {
        Set<Long> ids = new TreeSet<>();
        if (!s.isEmpty()) {
            for (String p : s.split(",")) {
                ids.add(Long.parseLong(p));
            }
        }
        return ids;
    }

    private static BackupException corrupt(Path file, String why) {
        return new BackupException(file, "the backup manifest is invalid: " + why
                + "; this backup cannot be used: restore it from another copy or take a new full backup");
    }
}
