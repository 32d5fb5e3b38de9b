package dev.raftkit.storage.backup;

import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.storage.FileIo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
 * @param kind           full (a snapshot), incremental (entries after the parent) or differential
 *                       (entries after the chain's full backup, which is its parent)
 * @param sequence       position in its backup root, 1 for the first; the newest backup is the highest
 * @param parentId       an incremental's or a differential's parent, null for a full backup
 * @param sourceNode     the node the backup was taken from (metadata)
 * @param prevIndex      an incremental's parent's last index (its entries start after it); 0 for a full one
 * @param prevTerm       the term of the entry at {@code prevIndex}; 0 for a full one
 * @param lastIndex      the last log index the backup covers (a full one: its snapshot's index)
 * @param lastTerm       the term of the entry at {@code lastIndex}
 * @param conf           the configuration as of {@code lastIndex}
 * @param createdAt      wall-clock time of the source node when the backup was taken (metadata only:
 *                       never used for ordering or restore)
 * @param fallbackReason why a full backup was taken when an incremental one was asked for, or null
 * @param files          every data file of the backup with its size and CRC32C (of the bytes on
 *                       disk: the ciphertext when encrypted)
 * @param keyId          the {@link BackupKey#id() id} of the key the backup's files are encrypted
 *                       with and its manifest authenticated by, or null for a plaintext backup
 * @param stateDigest    the state machine's {@code stateDigest()} of the state at {@code lastIndex},
 *                       or null (a state machine without one, or a version 1 manifest)
 * @param firstTime      a full backup: the log time of its snapshot (the latest leader timestamp
 *                       it includes); an incremental: the leader timestamp of its first stamped
 *                       entry; null if none (no stamped entry, or a version 1 manifest)
 * @param lastTime       the log time at {@code lastIndex}: the latest leader timestamp of the
 *                       state the backup brings a restore to; null if none
 */
public record BackupManifest(String id, String clusterId, BackupKind kind, long sequence, String parentId,
                             long sourceNode, long prevIndex, long prevTerm, long lastIndex, long lastTerm,
                             ConfState conf, Instant createdAt, String fallbackReason, List<BackupFile> files,
                             String keyId, String stateDigest, Instant firstTime, Instant lastTime) {

    /** A manifest without a state digest or entry times (as version 1 wrote them). */
    public BackupManifest(String id, String clusterId, BackupKind kind, long sequence, String parentId,
                          long sourceNode, long prevIndex, long prevTerm, long lastIndex, long lastTerm,
                          ConfState conf, Instant createdAt, String fallbackReason, List<BackupFile> files,
                          String keyId) {
        this(id, clusterId, kind, sequence, parentId, sourceNode, prevIndex, prevTerm, lastIndex, lastTerm, conf,
                createdAt, fallbackReason, files, keyId, null, null, null);
    }

    /** A plaintext backup's manifest. */
    public BackupManifest(String id, String clusterId, BackupKind kind, long sequence, String parentId,
                          long sourceNode, long prevIndex, long prevTerm, long lastIndex, long lastTerm,
                          ConfState conf, Instant createdAt, String fallbackReason, List<BackupFile> files) {
        this(id, clusterId, kind, sequence, parentId, sourceNode, prevIndex, prevTerm, lastIndex, lastTerm, conf,
                createdAt, fallbackReason, files, null);
    }

    /** The manifest's file name inside a backup directory. */
    public static final String FILE_NAME = "manifest";
    /** The format version this code writes; it reads this one and version 1 (no digest, no times). */
    public static final int VERSION = 2;
    private static final String FIRST_LINE = "raftkit-backup-manifest " + VERSION;
    private static final String FIRST_LINE_V1 = "raftkit-backup-manifest 1";
    /** The only encryption this version writes (docs/storage-format.md, "Encrypted backups"). */
    static final String ENCRYPTION = "aes-256-gcm";
    private static final String HMAC = "hmac-sha256=";

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
            throw new IllegalArgumentException("a full backup has no parent and an incremental or differential one has one");
        }
        if (lastIndex < prevIndex) {
            throw new IllegalArgumentException("last index " + lastIndex + " is below the previous index " + prevIndex);
        }
        if (fallbackReason != null) {
            fallbackReason = fallbackReason.replace('\n', ' ');
        }
        if (keyId != null && !keyId.matches("[0-9a-f]{16}")) {
            throw new IllegalArgumentException("a key id is 16 hex digits, got '" + keyId + "'");
        }
        if (stateDigest != null) {
            dev.raftkit.spi.StateMachine.checkStateDigest(stateDigest);
        }
        if (firstTime != null && lastTime != null && lastTime.isBefore(firstTime)) {
            throw new IllegalArgumentException("last time " + lastTime + " is before the first time " + firstTime);
        }
    }

    /** This manifest with the state digest at {@code lastIndex} and the entry times given (each may be null). */
    public BackupManifest withState(String stateDigest, Instant firstTime, Instant lastTime) {
        return new BackupManifest(id, clusterId, kind, sequence, parentId, sourceNode, prevIndex, prevTerm, lastIndex,
                lastTerm, conf, createdAt, fallbackReason, files, keyId, stateDigest, firstTime, lastTime);
    }

    /** Whether the backup's files are encrypted (and its manifest authenticated). */
    public boolean encrypted() {
        return keyId != null;
    }

    /** The backup's data file called {@code name}, if the manifest lists it. */
    public BackupFile file(String name) {
        return files.stream().filter(f -> f.name().equals(name)).findFirst().orElse(null);
    }

    /** The manifest of a plaintext backup, as written. */
    byte[] encode() {
        if (keyId != null) {
            throw new IllegalStateException("an encrypted backup's manifest is encoded with its key");
        }
        return encode(null);
    }

    /**
     * The manifest as written: with {@code key} (whose id must be {@link #keyId}), followed by an
     * {@code hmac-sha256=} line over everything before it, so any change to it is detected.
     */
    byte[] encode(BackupKey key) {
        if ((key == null) != (keyId == null) || (key != null && !key.id().equals(keyId))) {
            throw new IllegalArgumentException("manifest key id " + keyId + " does not match the key " + key);
        }
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
        line(b, "state-digest", stateDigest == null ? "" : stateDigest);
        line(b, "first-time", firstTime == null ? "" : firstTime.toString());
        line(b, "last-time", lastTime == null ? "" : lastTime.toString());
        if (keyId != null) {
            line(b, "encryption", ENCRYPTION);
            line(b, "key-id", keyId);
        }
        for (BackupFile f : files) {
            line(b, "file", f.name() + " " + f.sizeBytes() + " " + BackupFile.hex(f.crc32c()));
        }
        byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(body);
        String signed = b + "crc32c=" + BackupFile.hex((int) crc.getValue()) + "\n";
        if (key == null) {
            return signed.getBytes(StandardCharsets.UTF_8);
        }
        byte[] mac = key.mac(signed.getBytes(StandardCharsets.UTF_8));
        return (signed + HMAC + java.util.HexFormat.of().formatHex(mac) + "\n").getBytes(StandardCharsets.UTF_8);
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

    /** Reads and checks the manifest of the plaintext backup in {@code dir}. */
    public static BackupManifest read(Path dir) throws BackupException {
        return read(dir, null);
    }

    /**
     * Reads and checks the manifest of the backup in {@code dir}. With a {@code key}, only a backup
     * encrypted with that key is accepted, its manifest's HMAC checked; without one, only a
     * plaintext backup. Each refusal says which case it is (encrypted with a different key, not
     * encrypted, changed after it was written).
     */
    public static BackupManifest read(Path dir, BackupKey key) throws BackupException {
        return read(FileIo.real(), dir, key);
    }

    /** {@link #read(Path, BackupKey)} over the file system {@code io}. */
    public static BackupManifest read(FileIo io, Path dir, BackupKey key) throws BackupException {
        Path file = dir.resolve(FILE_NAME);
        byte[] bytes;
        try {
            bytes = io.readAllBytes(file);
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new BackupException(file, "missing: " + dir + " is not a complete backup (an interrupted backup"
                    + " or a copy that lost files); remove it from the chain or copy it again");
        } catch (IOException e) {
            throw new BackupException(file, "cannot be read (" + e + ")", e);
        }
        return parse(file, bytes, key);
    }

    /** Parses a plaintext backup's manifest. */
    static BackupManifest parse(Path file, byte[] bytes) throws BackupException {
        return parse(file, bytes, null);
    }

    static BackupManifest parse(Path file, byte[] bytes, BackupKey backupKey) throws BackupException {
        String text = new String(bytes, StandardCharsets.UTF_8);
        String macHex = null;
        int macLine = text.lastIndexOf("\n" + HMAC);
        if (macLine >= 0 && text.endsWith("\n")) {
            macHex = text.substring(macLine + 1 + HMAC.length(), text.length() - 1);
            text = text.substring(0, macLine + 1);
        }
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
        boolean v1 = lines[0].equals(FIRST_LINE_V1);
        if (!v1 && !lines[0].equals(FIRST_LINE)) {
            throw corrupt(file, "its first line is '" + lines[0] + "', expected '" + FIRST_LINE
                    + "' or '" + FIRST_LINE_V1 + "' (another format or version)");
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
            String encryption = kv.remove("encryption");
            String keyId = kv.remove("key-id");
            // Version 2 always writes the three (empty for none); version 1 knows none of them.
            String digest = v1 ? "" : req(kv, "state-digest");
            String first = v1 ? "" : req(kv, "first-time");
            String last = v1 ? "" : req(kv, "last-time");
            if (!kv.isEmpty()) {
                throw new IllegalArgumentException("unknown keys " + kv.keySet());
            }
            if ((encryption == null) != (keyId == null) || (encryption != null && !encryption.equals(ENCRYPTION))) {
                throw new IllegalArgumentException("encryption '" + encryption + "' with key id '" + keyId
                        + "' is not " + ENCRYPTION + " with a key id");
            }
            m = new BackupManifest(m.id(), m.clusterId(), m.kind(), m.sequence(), m.parentId(), m.sourceNode(),
                    m.prevIndex(), m.prevTerm(), m.lastIndex(), m.lastTerm(), m.conf(), m.createdAt(),
                    m.fallbackReason(), m.files(), keyId, digest.isEmpty() ? null : digest,
                    first.isEmpty() ? null : Instant.parse(first), last.isEmpty() ? null : Instant.parse(last));
            authenticate(file, m, text, macHex, backupKey);
            return m;
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw corrupt(file, e.getMessage());
        }
    }

    /** The checks that only a key can make, after the manifest parsed cleanly. */
    private static void authenticate(Path file, BackupManifest m, String signed, String macHex, BackupKey key)
            throws BackupException {
        String backup = file.getParent() == null ? m.id() : String.valueOf(file.getParent().getFileName());
        if (m.keyId() == null) {
            if (macHex != null) {
                throw corrupt(file, "it carries an HMAC line but names no encryption key");
            }
            if (key != null) {
                throw new BackupException(file, "backup " + backup + " is not encrypted, but a backup key (id "
                        + key.id() + ") was given: an unencrypted backup is not authenticated, so it is refused"
                        + " when a key is in use; read it without the key, or keep encrypted backups in their own"
                        + " directory");
            }
            return;
        }
        if (key == null) {
            throw new BackupException(file, "backup " + backup + " is encrypted (key id " + m.keyId()
                    + "); give its key file (--key FILE, or --backup-key on the server)");
        }
        if (!key.id().equals(m.keyId())) {
            throw new BackupException(file, "backup " + backup + " was encrypted with a different key (key id "
                    + m.keyId() + "; the key given has id " + key.id() + "); give the key file it was written with");
        }
        if (macHex == null) {
            throw corrupt(file, "it names key " + m.keyId() + " but has no hmac-sha256 line (removed or truncated)");
        }
        byte[] expected = key.mac(signed.getBytes(StandardCharsets.UTF_8));
        byte[] stored;
        try {
            stored = java.util.HexFormat.of().parseHex(macHex);
        } catch (IllegalArgumentException e) {
            stored = new byte[0];
        }
        if (!java.security.MessageDigest.isEqual(expected, stored)) {
            throw new BackupException(file, "backup " + backup + "'s manifest fails authentication under key "
                    + key.id() + ": it was changed after it was written (tampered with or damaged); this backup"
                    + " cannot be trusted: restore it from another copy or take a new full backup");
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

    /** Longest part of a problem's description quoted from the manifest: its values are not bounded. */
    private static final int MAX_WHY_CHARS = 300;

    private static BackupException corrupt(Path file, String why) {
        String cut = why != null && why.length() > MAX_WHY_CHARS
                ? why.substring(0, MAX_WHY_CHARS) + "…(" + why.length() + " characters)" : why;
        return new BackupException(file, "the backup manifest is invalid: " + cut
                + "; this backup cannot be used: restore it from another copy or take a new full backup");
    }
}
