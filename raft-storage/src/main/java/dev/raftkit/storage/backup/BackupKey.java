package dev.raftkit.storage.backup;

import dev.raftkit.storage.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret that encrypts and authenticates backups (docs/storage-format.md, "Encrypted
 * backups"): 32 random bytes, kept in a key file as 64 hex digits (or the 32 raw bytes). Two keys
 * are derived from it with HMAC-SHA256, one for AES-256-GCM on the data files and one for the
 * manifests' HMAC, plus a public {@link #id() key id} that a manifest records so a wrong key is
 * named as such rather than reported as damage.
 *
 * <p>Immutable and thread-safe. {@link #toString()} shows only the key id.
 */
public final class BackupKey {

    /** Bytes of key material. */
    public static final int BYTES = 32;

    private final SecretKeySpec encryption;
    private final byte[] macKey;
    private final String id;

    private BackupKey(byte[] material) {
        this.encryption = new SecretKeySpec(derive(material, "raftkit backup encryption"), "AES");
        this.macKey = derive(material, "raftkit backup manifest");
        this.id = HexFormat.of().formatHex(derive(material, "raftkit backup key id"), 0, 8);
        Arrays.fill(material, (byte) 0);
    }

    /** A new random key. */
    public static BackupKey generate(SecureRandom random) {
        byte[] material = new byte[BYTES];
        random.nextBytes(material);
        return new BackupKey(material);
    }

    /**
     * Creates a key file at {@code file} (it must not exist) holding a new random key as hex,
     * readable only by the service's user, and returns the key.
     */
    public static BackupKey createFile(Path file, SecureRandom random) throws IOException {
        byte[] material = new byte[BYTES];
        random.nextBytes(material);
        byte[] hex = (HexFormat.of().formatHex(material) + "\n").getBytes(StandardCharsets.US_ASCII);
        PrivateFiles.write(file, hex);
        Arrays.fill(hex, (byte) 0);
        return new BackupKey(material);
    }

    /**
     * Reads a key file: 64 hex digits (surrounding whitespace ignored) or exactly 32 raw bytes.
     *
     * @throws BackupException naming the file if it is missing or holds no key
     */
    public static BackupKey load(Path file) throws BackupException {
        byte[] raw;
        try {
            if (Files.size(file) > 4096) {
                throw new BackupException(file, "is not a backup key file (" + Files.size(file) + " bytes; a key file"
                        + " holds 64 hex digits); create one with `raftkit backup keygen --out FILE`");
            }
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new BackupException(file, "the backup key file does not exist; create one with"
                    + " `raftkit backup keygen --out FILE` (and keep a copy away from the backups)");
        } catch (BackupException e) {
            throw e;
        } catch (IOException e) {
            throw new BackupException(file, "the backup key file cannot be read (" + e + ")", e);
        }
        try {
            if (raw.length == BYTES) {
                return new BackupKey(raw.clone());
            }
            String text = new String(raw, StandardCharsets.US_ASCII).strip();
            if (text.length() == 2 * BYTES) {
                try {
                    return new BackupKey(HexFormat.of().parseHex(text));
                } catch (IllegalArgumentException notHex) {
                    // Refused below with the general message.
                }
            }
            throw new BackupException(file, "is not a backup key file: it must hold " + 2 * BYTES + " hex digits (or "
                    + BYTES + " raw bytes); create one with `raftkit backup keygen --out FILE`");
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    /** The key's public id: the first 8 bytes of an HMAC of it, in hex. Safe to show and store. */
    public String id() {
        return id;
    }

    /**
     * 32 secret bytes for another use of this key, named by {@code purpose} (an HMAC-SHA256 of it
     * under a key derived from this one): the SQL store seals its table artifacts with
     * {@code derive("raftkit sql table artifact")}. Different purposes give unrelated keys.
     */
    public byte[] derive(String purpose) {
        return derive(encryption.getEncoded(), purpose);
    }

    SecretKeySpec encryptionKey() {
        return encryption;
    }

    /** HMAC-SHA256 of {@code data} under the manifest key. */
    byte[] mac(byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(macKey, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    private static byte[] derive(byte[] material, String purpose) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(material, "HmacSHA256"));
            return mac.doFinal(purpose.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "BackupKey[id=" + id + "]";
    }
}
