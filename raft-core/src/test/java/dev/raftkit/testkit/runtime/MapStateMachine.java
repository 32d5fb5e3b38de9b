package dev.raftkit.testkit.runtime;

import dev.raftkit.spi.StateMachine;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small key-value state machine for runtime tests. Commands are {@code "key=value"} (UTF-8);
 * the result is the previous value. Queries are a key, or {@code "#digest"}, {@code "#count"},
 * {@code "#time"}. It keeps a digest over every applied command (index, term, timestamp, payload),
 * so two replicas that applied the same commands in the same order have the same digest.
 */
public final class MapStateMachine implements StateMachine {

    private TreeMap<String, String> data = new TreeMap<>();
    private long digest = 17;
    private long count;
    private long lastIndex;
    private long lastTime;
    private volatile long publishedDigest = 17;
    private volatile long publishedCount;

    public static byte[] put(String key, String value) {
        return (key + "=" + value).getBytes(StandardCharsets.UTF_8);
    }

    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static String string(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Commands applied so far (any thread). */
    public long appliedCount() {
        return publishedCount;
    }

    /** Digest over every applied command (any thread). */
    public long digest() {
        return publishedDigest;
    }

    @Override
    public List<byte[]> apply(List<Command> commands) {
        List<byte[]> results = new ArrayList<>(commands.size());
        for (Command c : commands) {
            String s = string(c.payload());
            int eq = s.indexOf('=');
            String old = eq < 0 ? null : data.put(s.substring(0, eq), s.substring(eq + 1));
            results.add(old == null ? new byte[0] : bytes(old));
            digest = digest * 1_000_003L + (c.index() * 31 + c.timestampMillis()) * 31 + s.hashCode();
            count++;
            lastIndex = c.index();
            lastTime = c.timestampMillis();
        }
        publishedDigest = digest;
        publishedCount = count;
        return results;
    }

    @Override
    public long lastApplied() {
        return lastIndex;
    }

    @Override
    public Snapshot snapshot() {
        TreeMap<String, String> copy = new TreeMap<>(data);
        long d = digest;
        long n = count;
        long idx = lastIndex;
        long t = lastTime;
        return new Snapshot() {
            @Override
            public long index() {
                return idx;
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                DataOutputStream o = new DataOutputStream(out);
                o.writeLong(d);
                o.writeLong(n);
                o.writeLong(idx);
                o.writeLong(t);
                o.writeInt(copy.size());
                for (Map.Entry<String, String> e : copy.entrySet()) {
                    o.writeUTF(e.getKey());
                    o.writeUTF(e.getValue());
                }
                o.flush();
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public void restore(long index, InputStream in) throws IOException {
        DataInputStream i = new DataInputStream(in);
        digest = i.readLong();
        count = i.readLong();
        lastIndex = i.readLong();
        lastTime = i.readLong();
        int size = i.readInt();
        TreeMap<String, String> m = new TreeMap<>();
        for (int k = 0; k < size; k++) {
            m.put(i.readUTF(), i.readUTF());
        }
        data = m;
        publishedDigest = digest;
        publishedCount = count;
    }

    /**
     * {@code sha256:} over the map's entries in key order (not {@link #digest()}, which folds in
     * the history of applied commands): the state alone, however it was reached.
     */
    @Override
    public java.util.Optional<String> stateDigest() {
        java.security.MessageDigest sha;
        try {
            sha = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Map.Entry<String, String> e : data.entrySet()) {
            byte[] k = bytes(e.getKey());
            byte[] v = bytes(e.getValue());
            sha.update(java.nio.ByteBuffer.allocate(4).putInt(k.length).array());
            sha.update(k);
            sha.update(java.nio.ByteBuffer.allocate(4).putInt(v.length).array());
            sha.update(v);
        }
        return java.util.Optional.of("sha256:" + java.util.HexFormat.of().formatHex(sha.digest()));
    }

    @Override
    public byte[] query(byte[] query) {
        String q = string(query);
        return switch (q) {
            case "#digest" -> bytes(Long.toString(digest));
            case "#count" -> bytes(Long.toString(count));
            case "#time" -> bytes(Long.toString(lastTime));
            default -> {
                String v = data.get(q);
                yield v == null ? new byte[0] : bytes(v);
            }
        };
    }
}
