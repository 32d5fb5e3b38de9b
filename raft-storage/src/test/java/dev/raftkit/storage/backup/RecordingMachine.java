package dev.raftkit.storage.backup;

import dev.raftkit.spi.StateMachine;
import dev.raftkit.testkit.runtime.MapStateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A {@link MapStateMachine} that remembers its digest after every applied index, so a test can ask
 * "what was the live state at index k" after the fact (the oracle for point-in-time restores).
 */
final class RecordingMachine implements StateMachine {

    private final MapStateMachine kv = new MapStateMachine();
    private final ConcurrentSkipListMap<Long, Long> digests = new ConcurrentSkipListMap<>();
    /** {@link MapStateMachine#stateDigest()} after every applied index. */
    private final ConcurrentSkipListMap<Long, String> stateDigests = new ConcurrentSkipListMap<>();
    /** Each applied command's leader timestamp, by index. */
    private final ConcurrentSkipListMap<Long, Long> stamps = new ConcurrentSkipListMap<>();

    RecordingMachine() {
        digests.put(0L, kv.digest());
        stateDigests.put(0L, kv.stateDigest().orElseThrow());
    }

    /** The state digest after applying everything up to index {@code k}. */
    String stateDigestAt(long k) {
        return stateDigests.floorEntry(k).getValue();
    }

    /** The leader timestamps of the commands applied, by index. */
    java.util.NavigableMap<Long, Long> stamps() {
        return stamps;
    }

    /** The digest of the state after applying everything up to index {@code k}. */
    long digestAt(long k) {
        return digests.floorEntry(k).getValue();
    }

    @Override
    public List<byte[]> apply(List<Command> commands) {
        List<byte[]> out = new ArrayList<>(commands.size());
        for (Command c : commands) {
            out.addAll(kv.apply(List.of(c)));
            digests.put(c.index(), kv.digest());
            stateDigests.put(c.index(), kv.stateDigest().orElseThrow());
            stamps.put(c.index(), c.timestampMillis());
        }
        return out;
    }

    @Override
    public long lastApplied() {
        return kv.lastApplied();
    }

    @Override
    public Snapshot snapshot() {
        return kv.snapshot();
    }

    @Override
    public void restore(long index, InputStream in) throws IOException {
        kv.restore(index, in);
        digests.put(index, kv.digest());
        stateDigests.put(index, kv.stateDigest().orElseThrow());
    }

    @Override
    public byte[] query(byte[] query) {
        return kv.query(query);
    }

    @Override
    public java.util.Optional<String> stateDigest() {
        return kv.stateDigest();
    }
}
