package dev.raftkit.kv;

import dev.raftkit.spi.InvalidCommandException;
import dev.raftkit.spi.StateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A replicated key-value store: put, get, delete, compare-and-set and prefix scan over byte keys
 * in unsigned lexicographic order, each key carrying a version — the log index of the entry that
 * last wrote it, the same on every node. Commands and results are {@link KvCommand} and
 * {@link KvResult} bytes; build them with {@link KvOps}.
 *
 * <p><b>Determinism.</b> A result depends only on the state and the command's index: no clock,
 * no randomness, no hash-ordered iteration. A payload that is not a valid command yields a
 * {@link KvResult.Rejected} on every node rather than an exception (which would stop the node).
 * Exactly-once delivery is the runtime's job (client sessions), not this class's.
 *
 * <p><b>Point-in-time snapshots.</b> The state is a {@link PersistentSortedMap}: every apply
 * batch makes a new version that shares all unchanged nodes with the old one. {@link #snapshot()}
 * keeps a reference to the current version, O(1), and the snapshot pool writes that version out
 * while later batches build newer ones. The image format is described in {@code SnapshotFormat}:
 * a versioned header, the entries in key order, a CRC32C trailer; {@link #restore} verifies it
 * completely before replacing anything.
 *
 * <p><b>Threads.</b> {@code apply}, {@code restore}, {@code snapshot} and {@code query} run on
 * the runtime's apply thread; {@link Snapshot#writeTo} on the snapshot pool. {@link #digest()},
 * {@link #get(byte[])} and {@link #size()} may be called from any thread: they read the version
 * published (through a volatile field) at the end of the last batch.
 */
public final class KvStateMachine implements StateMachine {

    /** A scan stops after gathering this many bytes of keys and values (and says {@code more}). */
    public static final int SCAN_MAX_BYTES = 4 << 20;

    /** What the map holds per key. The value array is never changed once stored. */
    record Stored(byte[] value, long version) {
    }

    /** One published version of the store. */
    private record State(PersistentSortedMap<Stored> map, long lastApplied) {
    }

    private volatile State state = new State(PersistentSortedMap.empty(), 0);

    /**
     * Refuses, before it is proposed, a command {@link #apply} would answer with
     * {@link KvResult.Rejected} without looking at the state: undecodable bytes, an unknown type,
     * a key outside 1..{@value KvCommand#MAX_KEY_BYTES} bytes, a value over
     * {@value KvCommand#MAX_VALUE_BYTES} bytes, trailing bytes. Reads the bytes only: safe on any thread.
     */
    @Override
    public void validate(byte[] command) {
        try {
            KvCommand.decode(command);
        } catch (KvCodecException e) {
            throw new InvalidCommandException("not a valid key-value command: " + e.getMessage(), e);
        }
    }

    @Override
    public List<byte[]> apply(List<Command> commands) {
        List<byte[]> results = new ArrayList<>(commands.size());
        PersistentSortedMap<Stored> map = state.map();
        long last = state.lastApplied();
        for (Command c : commands) {
            KvCommand command;
            try {
                command = KvCommand.decode(c.payload());
            } catch (KvCodecException e) {
                results.add(new KvResult.Rejected("entry " + c.index() + ": " + e.getMessage()).encode());
                last = c.index();
                continue;
            }
            KvResult result;
            // Java 17 has no pattern switch: one instanceof chain over the sealed command types.
            if (command instanceof KvCommand.Put p) {
                map = map.put(p.key(), new Stored(p.value(), c.index()));
                result = new KvResult.Written(c.index());
            } else if (command instanceof KvCommand.Delete d) {
                PersistentSortedMap<Stored> after = map.remove(d.key());
                result = new KvResult.Deleted(after != map);
                map = after;
            } else if (command instanceof KvCommand.CompareAndSet cas) {
                Stored current = map.get(cas.key());
                if (holds(cas, current)) {
                    map = map.put(cas.key(), new Stored(cas.newValue(), c.index()));
                    result = new KvResult.Written(c.index());
                } else {
                    result = new KvResult.CasFailed(entry(cas.key(), current));
                }
            } else {
                result = read(command, map, c.index());
            }
            results.add(result.encode());
            last = c.index();
        }
        state = new State(map, last);
        return results;
    }

    private static boolean holds(KvCommand.CompareAndSet cas, Stored current) {
        long version = current == null ? KvCommand.ABSENT : current.version();
        if (cas.expectedVersion() != KvCommand.ANY_VERSION && cas.expectedVersion() != version) {
            return false;
        }
        return cas.expectedValue() == null || (current != null && Arrays.equals(cas.expectedValue(), current.value()));
    }

    /** Answers a read-only command against {@code map}, as of {@code index}. */
    private static KvResult read(KvCommand command, PersistentSortedMap<Stored> map, long index) {
        if (command instanceof KvCommand.Get g) {
            Optional<KvEntry> e = entry(g.key(), map.get(g.key()));
            return e.isPresent() ? new KvResult.Found(e.get()) : new KvResult.NotFound();
        }
        if (command instanceof KvCommand.Scan s) {
            return scan(map, s);
        }
        if (command instanceof KvCommand.GetDigest) {
            return digest(map, index);
        }
        throw new IllegalArgumentException("not a read: " + command);
    }

    private static KvResult.Scanned scan(PersistentSortedMap<Stored> map, KvCommand.Scan s) {
        byte[] prefix = s.prefix();
        boolean resume = s.startAfter().length > 0 && PersistentSortedMap.compare(s.startAfter(), prefix) >= 0;
        Iterator<Map.Entry<byte[], Stored>> it = map.iteratorFrom(resume ? s.startAfter() : prefix);
        List<KvEntry> entries = new ArrayList<>();
        long bytes = 0;
        while (it.hasNext()) {
            Map.Entry<byte[], Stored> e = it.next();
            byte[] key = e.getKey();
            if (resume && Arrays.equals(key, s.startAfter())) {
                continue;
            }
            if (!startsWith(key, prefix)) {
                break;
            }
            long size = key.length + e.getValue().value().length;
            if (entries.size() == s.limit() || (!entries.isEmpty() && bytes + size > SCAN_MAX_BYTES)) {
                return new KvResult.Scanned(entries, true);
            }
            entries.add(new KvEntry(key.clone(), e.getValue().value().clone(), e.getValue().version()));
            bytes += size;
        }
        return new KvResult.Scanned(entries, false);
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static Optional<KvEntry> entry(byte[] key, Stored s) {
        return s == null ? Optional.empty() : Optional.of(new KvEntry(key.clone(), s.value().clone(), s.version()));
    }

    @Override
    public long lastApplied() {
        return state.lastApplied();
    }

    /**
     * Answers {@link KvCommand.Get}, {@link KvCommand.Scan} and {@link KvCommand.GetDigest}. A write
     * or undecodable bytes answer {@link KvResult.Rejected}: a read must not change the state.
     */
    @Override
    public byte[] query(byte[] query) {
        State s = state;
        KvCommand command;
        try {
            command = KvCommand.decode(query);
        } catch (KvCodecException e) {
            return new KvResult.Rejected("query: " + e.getMessage()).encode();
        }
        if (command.isWrite()) {
            return new KvResult.Rejected(command + " is a write; submit it with RaftServer.submit, not read")
                    .encode();
        }
        return read(command, s.map(), s.lastApplied()).encode();
    }

    @Override
    public Snapshot snapshot() {
        State s = state;
        return new Snapshot() {
            @Override
            public long index() {
                return s.lastApplied();
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                SnapshotFormat.write(s.lastApplied(), s.map(), out);
            }

            @Override
            public void close() {
                // Nothing to release: the captured version is garbage once unreferenced.
            }
        };
    }

    /**
     * Verifies the whole image, then replaces the state with it.
     *
     * @throws CorruptSnapshotException if the image fails verification; the state is unchanged
     */
    @Override
    public void restore(long index, InputStream in) throws IOException {
        SnapshotFormat.Image image = SnapshotFormat.read(index, in);
        // The runtime's index counts entries the state machine never sees (no-ops, membership
        // changes, sessions), so it may be past the image's last command: the state is as of index.
        state = new State(image.map(), index);
    }

    /** The entry at {@code key} in the latest applied state, from any thread. */
    public Optional<KvEntry> get(byte[] key) {
        return entry(key, state.map().get(key));
    }

    /** The number of keys in the latest applied state, from any thread. */
    public int size() {
        return state.map().size();
    }

    /**
     * A SHA-256 over every key, value and version in key order, from any thread: two replicas
     * have equal digests exactly when they hold the same data. O(n); for demos, tests and audits,
     * not for the hot path.
     */
    public KvResult.Digest digest() {
        State s = state;
        return digest(s.map(), s.lastApplied());
    }

    /**
     * {@code sha256:} and the hex of {@link #digest()}'s SHA-256: every key, value and version in
     * key order, and nothing else (not the applied index), so a replica that restored a snapshot
     * and one that applied the same commands one by one agree. O(n) over the published version;
     * the runtime calls it on the apply thread, but any thread may.
     */
    @Override
    public Optional<String> stateDigest() {
        return Optional.of("sha256:" + java.util.HexFormat.of().formatHex(digest(state.map(), 0).sha256()));
    }

    private static KvResult.Digest digest(PersistentSortedMap<Stored> map, long index) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime must provide SHA-256", e);
        }
        ByteBuffer number = ByteBuffer.allocate(Long.BYTES);
        for (Map.Entry<byte[], Stored> e : map) {
            // Lengths first, so ("ab","c") and ("a","bc") hash differently.
            sha.update(number.clear().putInt(e.getKey().length).flip());
            sha.update(e.getKey());
            sha.update(number.clear().putInt(e.getValue().value().length).flip());
            sha.update(e.getValue().value());
            sha.update(number.clear().putLong(e.getValue().version()).flip());
        }
        return new KvResult.Digest(index, map.size(), sha.digest());
    }
}
