package dev.raftkit.sql;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The key that seals table artifacts of a node started with a backup key ({@code raftkit server
 * --backup-key FILE}; raft-cli derives it from that file's key). Sealed artifact (docs/storage-format.md,
 * "SQL table artifacts"): the 8 bytes {@code RKTBLGCM}, the key's 8-byte id, a 12-byte nonce, and
 * the plain artifact encrypted with AES-256-GCM (16-byte tag, associated data
 * {@code raftkit-table-artifact|1}).
 *
 * <p>The nonce is the first 12 bytes of an HMAC-SHA256 of the plain artifact under a key derived
 * from this one, not random: every replica holding the same key then writes the same bytes, as
 * the plain artifacts are. A nonce repeats only for the same plaintext (the same ciphertext
 * again), which is what deterministic (SIV-style) encryption reveals and no more: that two files
 * hold the same table backup.
 *
 * <p>Immutable and thread-safe; {@link #toString()} shows only the id.
 */
public final class TableArtifactKey {

    static final byte[] SEALED_MAGIC = "RKTBLGCM".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] AAD = "raftkit-table-artifact|1".getBytes(StandardCharsets.US_ASCII);
    private static final int ID_BYTES = 8;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BYTES = 16;
    private static final int HEADER_BYTES = SEALED_MAGIC.length + ID_BYTES + NONCE_BYTES;

    private final SecretKeySpec aes;
    private final byte[] nonceKey;
    private final byte[] id;

    private TableArtifactKey(byte[] secret) {
        this.aes = new SecretKeySpec(derive(secret, "raftkit table artifact encryption"), "AES");
        this.nonceKey = derive(secret, "raftkit table artifact nonce");
        this.id = Arrays.copyOf(derive(secret, "raftkit table artifact key id"), ID_BYTES);
    }

    /**
     * A key from 32 secret bytes (raft-cli passes a key derived from the node's backup key); the
     * array is not kept.
     *
     * @throws IllegalArgumentException if {@code secret} is not 32 bytes
     */
    public static TableArtifactKey of(byte[] secret) {
        if (secret == null || secret.length != 32) {
            throw new IllegalArgumentException("a table artifact key is 32 secret bytes, got "
                    + (secret == null ? "none" : secret.length));
        }
        return new TableArtifactKey(secret);
    }

    /** The key's public id in hex (safe to show): which key sealed a file. */
    public String id() {
        return HexFormat.of().formatHex(id);
    }

    static boolean isSealed(byte[] bytes) {
        return bytes.length >= SEALED_MAGIC.length
                && Arrays.equals(Arrays.copyOf(bytes, SEALED_MAGIC.length), SEALED_MAGIC);
    }

    /** The sealed form of a plain artifact; the same bytes for the same plain artifact and key. */
    byte[] seal(byte[] plain) {
        try {
            byte[] nonce = Arrays.copyOf(hmac(nonceKey, plain), NONCE_BYTES);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, aes, new GCMParameterSpec(TAG_BYTES * 8, nonce));
            c.updateAAD(AAD);
            byte[] sealed = c.doFinal(plain);
            return ByteBuffer.allocate(HEADER_BYTES + sealed.length).put(SEALED_MAGIC).put(id).put(nonce).put(sealed)
                    .array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM: " + e, e);
        }
    }

    /** The plain artifact inside a sealed one. */
    byte[] open(byte[] sealed, String source) throws TableArtifactException {
        if (sealed.length < HEADER_BYTES + TAG_BYTES) {
            throw new TableArtifactException(source + " is truncated: " + sealed.length + " bytes, shorter than any"
                    + " encrypted table artifact; copy the file again from a node's backups");
        }
        byte[] fileId = Arrays.copyOfRange(sealed, SEALED_MAGIC.length, SEALED_MAGIC.length + ID_BYTES);
        if (!Arrays.equals(fileId, id)) {
            throw new TableArtifactException(source + " was encrypted with a different key (key id "
                    + HexFormat.of().formatHex(fileId) + ", this key's id is " + id() + "); give the"
                    + " backup key file of the cluster that wrote it");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, aes, new GCMParameterSpec(TAG_BYTES * 8, sealed,
                    SEALED_MAGIC.length + ID_BYTES, NONCE_BYTES));
            c.updateAAD(AAD);
            return c.doFinal(sealed, HEADER_BYTES, sealed.length - HEADER_BYTES);
        } catch (AEADBadTagException e) {
            throw new TableArtifactException(source + " is damaged: it fails authentication (the encrypted file was"
                    + " changed or truncated); copy it again from another node's backups");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM: " + e, e);
        }
    }

    private static byte[] derive(byte[] secret, String purpose) {
        return hmac(secret, purpose.getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "TableArtifactKey[id=" + id() + "]";
    }
}
