package dev.raftkit.storage.backup;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Encrypted backup data files (docs/storage-format.md, "Encrypted backups"): a 16-byte header
 * ({@code RKBKGCM1} and a random 8-byte nonce prefix), then the plaintext in chunks of
 * {@value #CHUNK} bytes, each sealed with AES-256-GCM under a nonce of that prefix and the chunk's
 * number. Every chunk but the last is exactly {@code CHUNK + 16} bytes on disk; the last is
 * shorter (possibly empty plaintext) and says so in its associated data, as do the backup's id,
 * the file's name and the chunk's number, so chunks cannot be reordered, dropped, truncated at a
 * chunk boundary, or moved to another file or backup without failing authentication.
 */
final class BackupCipher {

    static final int CHUNK = 64 * 1024;
    static final int TAG_BYTES = 16;
    static final byte[] MAGIC = "RKBKGCM1".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_BYTES = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    private BackupCipher() {
    }

    private static byte[] aad(String backupId, String fileName, long chunk, boolean last) {
        return ("raftkit-backup|" + backupId + "|" + fileName + "|" + chunk + "|" + (last ? "last" : "more"))
                .getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] nonce(byte[] prefix, long chunk) {
        if (chunk >= 1L << 32) {
            throw new IllegalStateException("a backup file of more than 2^32 chunks cannot be encrypted");
        }
        return ByteBuffer.allocate(12).put(prefix).putInt((int) chunk).array();
    }

    /** An output stream that encrypts into {@code out}; {@link Sealing#finish()} writes the last chunk. */
    static Sealing encrypt(OutputStream out, BackupKey key, String backupId, String fileName) throws IOException {
        return new Sealing(out, key, backupId, fileName);
    }

    /** Decrypts a file written by {@link #encrypt}; failures are {@link BackupException}s naming {@code file}. */
    static InputStream decrypt(InputStream in, BackupKey key, String backupId, String fileName, Path file) {
        return new Opening(in, key, backupId, fileName, file);
    }

    /** Encrypting stream. Not thread-safe. */
    static final class Sealing extends OutputStream {
        private final OutputStream out;
        private final BackupKey key;
        private final String backupId;
        private final String fileName;
        private final byte[] prefix = new byte[8];
        private final byte[] buf = new byte[CHUNK];
        private int filled;
        private long chunk;
        private boolean finished;

        private Sealing(OutputStream out, BackupKey key, String backupId, String fileName) throws IOException {
            this.out = out;
            this.key = key;
            this.backupId = backupId;
            this.fileName = fileName;
            RANDOM.nextBytes(prefix);
            out.write(MAGIC);
            out.write(prefix);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (finished) {
                throw new IOException("backup file " + fileName + " is already finished");
            }
            while (len > 0) {
                int n = Math.min(len, CHUNK - filled);
                System.arraycopy(b, off, buf, filled, n);
                filled += n;
                off += n;
                len -= n;
                if (filled == CHUNK) {
                    // A full chunk is never the last: the last one is always shorter.
                    seal(false);
                }
            }
        }

        private void seal(boolean last) throws IOException {
            try {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, key.encryptionKey(), new GCMParameterSpec(TAG_BYTES * 8, nonce(prefix, chunk)));
                c.updateAAD(aad(backupId, fileName, chunk, last));
                out.write(c.doFinal(buf, 0, filled));
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot encrypt backup file " + fileName + ": " + e, e);
            }
            chunk++;
            filled = 0;
        }

        /** Writes the last chunk and flushes; the underlying stream stays open. Idempotent. */
        void finish() throws IOException {
            if (!finished) {
                seal(true);
                finished = true;
            }
            out.flush();
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            try {
                finish();
            } finally {
                out.close();
            }
        }
    }

    /** Decrypting stream. Not thread-safe. */
    private static final class Opening extends InputStream {
        private final InputStream in;
        private final BackupKey key;
        private final String backupId;
        private final String fileName;
        private final Path file;
        private byte[] prefix;
        private byte[] plain = new byte[0];
        private int pos;
        private long chunk;
        private long offset;
        private boolean sawLast;

        Opening(InputStream in, BackupKey key, String backupId, String fileName, Path file) {
            this.in = in;
            this.key = key;
            this.backupId = backupId;
            this.fileName = fileName;
            this.file = file;
        }

        private BackupException bad(String why) {
            return new BackupException(file, "encrypted backup file invalid at offset " + offset + ": " + why
                    + "; this backup cannot be used: restore it from another copy or take a new full backup");
        }

        private int readUpTo(byte[] b) throws IOException {
            int n = 0;
            while (n < b.length) {
                int r = in.read(b, n, b.length - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
            return n;
        }

        private boolean fill() throws IOException {
            while (pos == plain.length) {
                if (sawLast) {
                    return false;
                }
                if (prefix == null) {
                    byte[] header = new byte[HEADER_BYTES];
                    if (readUpTo(header) < HEADER_BYTES || !Arrays.equals(Arrays.copyOf(header, 8), MAGIC)) {
                        throw bad("it does not start with the " + HEADER_BYTES + "-byte header of an encrypted backup"
                                + " file (RKBKGCM1)");
                    }
                    prefix = Arrays.copyOfRange(header, 8, 16);
                    offset = HEADER_BYTES;
                }
                byte[] sealed = new byte[CHUNK + TAG_BYTES];
                int n = readUpTo(sealed);
                boolean last = n < sealed.length;
                if (n < TAG_BYTES) {
                    throw bad("it ends inside chunk " + chunk + " (" + n + " bytes): truncated");
                }
                try {
                    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                    c.init(Cipher.DECRYPT_MODE, key.encryptionKey(), new GCMParameterSpec(TAG_BYTES * 8, nonce(prefix, chunk)));
                    c.updateAAD(aad(backupId, fileName, chunk, last));
                    plain = c.doFinal(sealed, 0, n);
                } catch (AEADBadTagException e) {
                    throw bad("chunk " + chunk + " fails authentication (the file was changed, truncated, or does not"
                            + " belong to backup " + backupId + ")");
                } catch (GeneralSecurityException e) {
                    throw new IOException("cannot decrypt " + file + ": " + e, e);
                }
                pos = 0;
                offset += n;
                chunk++;
                sawLast = last;
            }
            return true;
        }

        @Override
        public int read() throws IOException {
            if (!fill()) {
                return -1;
            }
            return plain[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, plain.length - pos);
            System.arraycopy(plain, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** Reads all of {@code in} (authenticating every chunk); throws what decryption throws. */
    static void drain(InputStream in) throws IOException {
        byte[] b = new byte[CHUNK];
        while (in.read(b) >= 0) {
            // Only authentication matters here.
        }
    }
}
