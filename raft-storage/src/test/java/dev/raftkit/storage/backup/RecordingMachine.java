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

    RecordingMachine() {
        digests.put(0L, kv.digest());
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
