package dev.raftkit.kv;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Client-side helpers: encode requests for {@code RaftServer.submit} (writes) and
 * {@code RaftServer.read} (reads), and decode what they complete with. String overloads encode
 * text as UTF-8. The gRPC client and the CLI use the same bytes.
 *
 * <pre>{@code
 * long version = KvOps.written(server.submit(KvOps.put("user/1", "ada")).get());
 * Optional<KvEntry> e = KvOps.found(server.read(KvOps.get("user/1"), ReadMode.LINEARIZABLE).get());
 * }</pre>
 *
 * <p>The typed decoders throw {@link KvRejectedException} if the store rejected the request and
 * {@link IllegalStateException} if it answered with another kind of result (the request and the
 * decoder do not match).
 */
public final class KvOps {

    private KvOps() {
    }

    public static byte[] put(byte[] key, byte[] value) {
        return new KvCommand.Put(key, value).encode();
    }

    public static byte[] put(String key, String value) {
        return put(utf8(key), utf8(value));
    }

    public static byte[] delete(byte[] key) {
        return new KvCommand.Delete(key).encode();
    }

    public static byte[] delete(String key) {
        return delete(utf8(key));
    }

    /** Sets {@code key} only if its version is {@code expectedVersion} ({@link KvCommand#ABSENT}: absent). */
    public static byte[] casVersion(byte[] key, long expectedVersion, byte[] newValue) {
        return KvCommand.CompareAndSet.ifVersion(key, expectedVersion, newValue).encode();
    }

    public static byte[] casVersion(String key, long expectedVersion, String newValue) {
        return casVersion(utf8(key), expectedVersion, utf8(newValue));
    }

    /** Sets {@code key} only if it currently holds {@code expectedValue}. */
    public static byte[] casValue(byte[] key, byte[] expectedValue, byte[] newValue) {
        return KvCommand.CompareAndSet.ifValue(key, expectedValue, newValue).encode();
    }

    public static byte[] casValue(String key, String expectedValue, String newValue) {
        return casValue(utf8(key), utf8(expectedValue), utf8(newValue));
    }

    public static byte[] get(byte[] key) {
        return new KvCommand.Get(key).encode();
    }

    public static byte[] get(String key) {
        return get(utf8(key));
    }

    /** The first {@code limit} entries under {@code prefix} ({@code ""}: all keys). */
    public static byte[] scan(String prefix, int limit) {
        return new KvCommand.Scan(utf8(prefix), limit).encode();
    }

    /** The next page of a scan: entries under {@code prefix} after key {@code startAfter}. */
    public static byte[] scan(byte[] prefix, byte[] startAfter, int limit) {
        return new KvCommand.Scan(prefix, startAfter, limit).encode();
    }

    public static byte[] digest() {
        return new KvCommand.GetDigest().encode();
    }

    /** Decodes any result. */
    public static KvResult decode(byte[] result) {
        return KvResult.decode(result);
    }

    /** The result as {@code type}, or an exception saying what it was instead. */
    public static <R extends KvResult> R expect(byte[] result, Class<R> type) {
        KvResult r = decode(result);
        if (r instanceof KvResult.Rejected rejected) {
            throw new KvRejectedException(rejected.reason());
        }
        if (!type.isInstance(r)) {
            throw new IllegalStateException("expected a " + type.getSimpleName() + " result but the store answered " + r
                    + "; was the result decoded with the helper for another request?");
        }
        return type.cast(r);
    }

    /** A put's new version. */
    public static long written(byte[] result) {
        return expect(result, KvResult.Written.class).version();
    }

    /** A get's entry, or empty if the key does not exist. */
    public static Optional<KvEntry> found(byte[] result) {
        KvResult r = decode(result);
        if (r instanceof KvResult.NotFound) {
            return Optional.empty();
        }
        return Optional.of(expect(result, KvResult.Found.class).entry());
    }

    /** Whether a delete removed anything. */
    public static boolean deleted(byte[] result) {
        return expect(result, KvResult.Deleted.class).existed();
    }

    /** A compare-and-set's new version, or empty if its condition did not hold. */
    public static Optional<Long> casWritten(byte[] result) {
        KvResult r = decode(result);
        if (r instanceof KvResult.CasFailed) {
            return Optional.empty();
        }
        return Optional.of(expect(result, KvResult.Written.class).version());
    }

    public static KvResult.Scanned scanned(byte[] result) {
        return expect(result, KvResult.Scanned.class);
    }

    public static KvResult.Digest digestOf(byte[] result) {
        return expect(result, KvResult.Digest.class);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
