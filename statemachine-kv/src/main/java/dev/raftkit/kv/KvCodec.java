package dev.raftkit.kv;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Type tags and decoders of the KV wire format (see {@link KvCommand}). */
final class KvCodec {

    // Command types.
    static final int PUT = 1;
    static final int DELETE = 2;
    static final int CAS = 3;
    static final int GET = 4;
    static final int SCAN = 5;
    static final int DIGEST = 6;

    // Result types.
    static final int WRITTEN = 1;
    static final int DELETED = 2;
    static final int FOUND = 3;
    static final int NOT_FOUND = 4;
    static final int CAS_FAILED = 5;
    static final int SCANNED = 6;
    static final int RESULT_DIGEST = 7;
    static final int REJECTED = 8;

    private static final int MAX_REASON_BYTES = 64 * 1024;

    private KvCodec() {
    }

    static KvCommand decodeCommand(byte[] bytes) {
        Wire.Reader r = new Wire.Reader(bytes, "KV command");
        format(r);
        int type = r.u8();
        KvCommand c;
        try {
            c = switch (type) {
                case PUT -> new KvCommand.Put(key(r), value(r));
                case DELETE -> new KvCommand.Delete(key(r));
                case CAS -> {
                    byte[] key = key(r);
                    int flags = r.u8();
                    if ((flags & ~3) != 0) {
                        throw r.error("unknown compare-and-set flags 0x" + Integer.toHexString(flags));
                    }
                    byte[] expectedValue = (flags & 1) != 0 ? value(r) : null;
                    long expectedVersion = (flags & 2) != 0 ? r.varLong() : KvCommand.ANY_VERSION;
                    yield new KvCommand.CompareAndSet(key, expectedValue, expectedVersion, value(r));
                }
                case GET -> new KvCommand.Get(key(r));
                case SCAN -> new KvCommand.Scan(r.bytes(KvCommand.MAX_KEY_BYTES, "prefix"),
                        r.bytes(KvCommand.MAX_KEY_BYTES, "startAfter"), r.varInt(Integer.MAX_VALUE, "limit"));
                case DIGEST -> new KvCommand.GetDigest();
                default -> throw r.error("unknown command type " + type + " (this version knows 1.." + DIGEST + ")");
            };
        } catch (KvCodecException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw r.error(e.getMessage());
        }
        r.expectEnd();
        return c;
    }

    static KvResult decodeResult(byte[] bytes) {
        Wire.Reader r = new Wire.Reader(bytes, "KV result");
        format(r);
        int type = r.u8();
        KvResult result;
        try {
            result = switch (type) {
                case WRITTEN -> new KvResult.Written(r.varLong());
                case DELETED -> new KvResult.Deleted(bool(r));
                case FOUND -> new KvResult.Found(entry(r));
                case NOT_FOUND -> new KvResult.NotFound();
                case CAS_FAILED -> new KvResult.CasFailed(bool(r) ? Optional.of(entry(r)) : Optional.empty());
                case SCANNED -> {
                    int n = r.varInt(KvCommand.MAX_SCAN_LIMIT, "entry count");
                    List<KvEntry> entries = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        entries.add(entry(r));
                    }
                    yield new KvResult.Scanned(entries, bool(r));
                }
                case RESULT_DIGEST -> new KvResult.Digest(r.varLong(), r.varLong(), r.bytes(32, "digest"));
                case REJECTED -> new KvResult.Rejected(r.string(MAX_REASON_BYTES, "reason"));
                default -> throw r.error("unknown result type " + type + " (this version knows 1.." + REJECTED + ")");
            };
        } catch (KvCodecException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw r.error(e.getMessage());
        }
        r.expectEnd();
        return result;
    }

    static Wire.Writer entry(Wire.Writer w, KvEntry e) {
        return w.bytes(e.key()).bytes(e.value()).varLong(e.version());
    }

    private static KvEntry entry(Wire.Reader r) {
        return new KvEntry(key(r), value(r), r.varLong());
    }

    private static void format(Wire.Reader r) {
        int format = r.u8();
        if (format != KvCommand.FORMAT) {
            throw r.error("format version " + format + " is not supported (this code reads version "
                    + KvCommand.FORMAT + "); upgrade the older side");
        }
    }

    private static byte[] key(Wire.Reader r) {
        return r.bytes(KvCommand.MAX_KEY_BYTES, "key");
    }

    private static byte[] value(Wire.Reader r) {
        return r.bytes(KvCommand.MAX_VALUE_BYTES, "value");
    }

    private static boolean bool(Wire.Reader r) {
        int b = r.u8();
        if (b > 1) {
            throw r.error("expected a boolean (0 or 1), got " + b);
        }
        return b == 1;
    }
}
