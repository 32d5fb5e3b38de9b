package dev.raftkit.kv;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer to a {@link KvCommand}, as the state machine encodes it into the bytes that
 * {@code RaftServer.submit} and {@code read} complete with. Decode with {@link #decode} or the
 * typed helpers of {@link KvOps}. Same wire conventions as {@link KvCommand}, format
 * {@value KvCommand#FORMAT}.
 */
public sealed interface KvResult {

    /** The result's bytes (what the state machine returns). */
    byte[] encode();

    /** A put or a successful compare-and-set: the key's new version. */
    record Written(long version) implements KvResult {
        public Written {
            positive(version);
        }

        @Override
        public byte[] encode() {
            return header(KvCodec.WRITTEN).varLong(version).toByteArray();
        }
    }

    /** A delete; {@code existed} says whether there was anything to delete. */
    record Deleted(boolean existed) implements KvResult {
        @Override
        public byte[] encode() {
            return header(KvCodec.DELETED).u8(existed ? 1 : 0).toByteArray();
        }
    }

    /** A get that found its key. */
    record Found(KvEntry entry) implements KvResult {
        public Found {
            Objects.requireNonNull(entry, "entry");
        }

        @Override
        public byte[] encode() {
            return KvCodec.entry(header(KvCodec.FOUND), entry).toByteArray();
        }
    }

    /** A get whose key does not exist. */
    record NotFound() implements KvResult {
        @Override
        public byte[] encode() {
            return header(KvCodec.NOT_FOUND).toByteArray();
        }
    }

    /** A compare-and-set whose condition did not hold; {@code current} is what the key holds now. */
    record CasFailed(Optional<KvEntry> current) implements KvResult {
        public CasFailed {
            Objects.requireNonNull(current, "current");
        }

        @Override
        public byte[] encode() {
            Wire.Writer w = header(KvCodec.CAS_FAILED).u8(current.isPresent() ? 1 : 0);
            current.ifPresent(e -> KvCodec.entry(w, e));
            return w.toByteArray();
        }
    }

    /** A scan's entries in key order; {@code more} if it stopped at its limit with keys left. */
    record Scanned(List<KvEntry> entries, boolean more) implements KvResult {
        public Scanned {
            entries = List.copyOf(entries);
        }

        @Override
        public byte[] encode() {
            Wire.Writer w = header(KvCodec.SCANNED).varLong(entries.size());
            entries.forEach(e -> KvCodec.entry(w, e));
            return w.u8(more ? 1 : 0).toByteArray();
        }
    }

    /**
     * A SHA-256 over the whole state in key order (see {@link KvStateMachine#digest()}): equal on
     * two nodes exactly when they hold the same keys, values and versions. {@code appliedIndex} and
     * {@code size} are for display; they are not part of the hash.
     */
    record Digest(long appliedIndex, long size, byte[] sha256) implements KvResult {
        public Digest {
            if (appliedIndex < 0 || size < 0) {
                throw new IllegalArgumentException("digest index and size must not be negative: " + appliedIndex
                        + ", " + size);
            }
            if (sha256 == null || sha256.length != 32) {
                throw new IllegalArgumentException("a SHA-256 digest has 32 bytes");
            }
        }

        /** The hash in lowercase hex. */
        public String hex() {
            return HexFormat.of().formatHex(sha256);
        }

        @Override
        public byte[] encode() {
            return header(KvCodec.RESULT_DIGEST).varLong(appliedIndex).varLong(size).bytes(sha256).toByteArray();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Digest d && appliedIndex == d.appliedIndex && size == d.size
                    && Arrays.equals(sha256, d.sha256);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(sha256);
        }

        @Override
        public String toString() {
            return "Digest[" + hex() + ", " + size + " keys, applied " + appliedIndex + "]";
        }
    }

    /**
     * The store refused the request: it was not a valid command (wrong format, or a write sent to
     * {@code read}). Every node refuses the same bytes the same way, so a refusal never makes
     * replicas diverge; {@code reason} says what to fix.
     */
    record Rejected(String reason) implements KvResult {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public byte[] encode() {
            return header(KvCodec.REJECTED).string(reason).toByteArray();
        }
    }

    /**
     * Decodes a result.
     *
     * @throws KvCodecException naming the offset and the problem, if {@code bytes} is not a valid
     *                          format-{@value KvCommand#FORMAT} result
     */
    static KvResult decode(byte[] bytes) {
        return KvCodec.decodeResult(bytes);
    }

    private static Wire.Writer header(int type) {
        return new Wire.Writer(16).u8(KvCommand.FORMAT).u8(type);
    }

    private static void positive(long version) {
        if (version <= 0) {
            throw new IllegalArgumentException("version must be a log index (> 0), got " + version);
        }
    }
}
