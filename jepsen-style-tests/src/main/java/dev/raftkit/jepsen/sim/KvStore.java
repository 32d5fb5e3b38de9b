package dev.raftkit.jepsen.sim;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.Response;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simulator's deterministic key-value state machine: registers with write, read and
 * compare-and-set. Commands travel through the log encoded by {@link #encode}.
 */
final class KvStore {

    private TreeMap<String, String> data = new TreeMap<>();

    /** Applies a command from the log; returns its response. */
    Response apply(Command c) {
        if (c instanceof Command.Write w) {
            data.put(w.key(), w.value());
            return Response.written();
        }
        if (c instanceof Command.Cas cas) {
            String current = data.get(cas.key());
            boolean swapped = java.util.Objects.equals(current, cas.expected());
            if (swapped) {
                data.put(cas.key(), cas.newValue());
            }
            return Response.cas(swapped);
        }
        return Response.read(data.get(c.key()));
    }

    String read(String key) {
        return data.get(key);
    }

    Map<String, String> image() {
        return new TreeMap<>(data);
    }

    void restore(Map<String, String> image) {
        data = new TreeMap<>(image);
    }

    /** A digest of the whole state, equal on replicas that applied the same commands. */
    long digest() {
        long h = 1125899906842597L;
        for (Map.Entry<String, String> e : data.entrySet()) {
            h = 31 * h + e.getKey().hashCode();
            h = 31 * h + e.getValue().hashCode();
        }
        return h;
    }

    static byte[] encode(Command c) {
        byte kind = c instanceof Command.Write ? (byte) 1 : c instanceof Command.Cas ? (byte) 2 : (byte) 3;
        String a = c instanceof Command.Write w ? w.value() : c instanceof Command.Cas cas ? cas.expected() : null;
        String b = c instanceof Command.Cas cas ? cas.newValue() : null;
        byte[] key = c.key().getBytes(StandardCharsets.UTF_8);
        byte[] av = a == null ? null : a.getBytes(StandardCharsets.UTF_8);
        byte[] bv = b == null ? null : b.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(1 + 12 + key.length + (av == null ? 0 : av.length) + (bv == null ? 0 : bv.length));
        buf.put(kind);
        putBytes(buf, key);
        putBytes(buf, av);
        putBytes(buf, bv);
        return buf.array();
    }

    static Command decode(byte[] data) {
        ByteBuffer buf = ByteBuffer.wrap(data);
        byte kind = buf.get();
        String key = getString(buf);
        String a = getString(buf);
        String b = getString(buf);
        return switch (kind) {
            case 1 -> Command.write(key, a);
            case 2 -> Command.cas(key, a, b);
            case 3 -> Command.read(key);
            default -> throw new IllegalArgumentException("unknown command kind " + kind);
        };
    }

    private static void putBytes(ByteBuffer buf, byte[] b) {
        buf.putInt(b == null ? -1 : b.length);
        if (b != null) {
            buf.put(b);
        }
    }

    private static String getString(ByteBuffer buf) {
        int n = buf.getInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
