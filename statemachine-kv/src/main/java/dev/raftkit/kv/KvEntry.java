package dev.raftkit.kv;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One key, its value, and its version: the log index of the entry that last wrote it (the same on
 * every node, and increasing with every write to the key). Equality compares the bytes.
 */
public record KvEntry(byte[] key, byte[] value, long version) {

    public KvEntry {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        if (version <= 0) {
            throw new IllegalArgumentException("version must be a log index (> 0), got " + version);
        }
    }

    /** The key as UTF-8 text. */
    public String keyString() {
        return new String(key, StandardCharsets.UTF_8);
    }

    /** The value as UTF-8 text. */
    public String valueString() {
        return new String(value, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KvEntry e && version == e.version && Arrays.equals(key, e.key)
                && Arrays.equals(value, e.value);
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(key) * 31 + Arrays.hashCode(value)) * 31 + Long.hashCode(version);
    }

    @Override
    public String toString() {
        return KvCommand.show(key) + "=" + KvCommand.show(value) + "@" + version;
    }
}
