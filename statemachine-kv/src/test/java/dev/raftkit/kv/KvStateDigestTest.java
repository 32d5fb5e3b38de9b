package dev.raftkit.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.spi.StateMachine;
import dev.raftkit.spi.StateMachine.Command;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link KvStateMachine#stateDigest()}: a function of the data alone, however it was reached. */
class KvStateDigestTest {

    /** Commands at every other index from 2 (the gaps stand for no-ops and membership entries). */
    private static List<Command> commands(int n) {
        List<Command> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long index = 2L + 2L * i;
            byte[] payload = i % 5 == 4 ? KvOps.delete("k" + (i - 2)) : KvOps.put("k" + (i % 17), "v" + i);
            out.add(new Command(index, 1, 1_000 + i, payload));
        }
        return out;
    }

    @Test
    void replicasAndRestoredCopiesAgreeAndDifferentStatesDiffer() throws IOException {
        List<Command> all = commands(60);
        KvStateMachine a = new KvStateMachine();
        KvStateMachine b = new KvStateMachine();
        a.apply(all);
        for (Command c : all) {
            b.apply(List.of(c)); // another batching: the same state
        }
        assertTrue(a.stateDigest().orElseThrow().startsWith("sha256:"), a.stateDigest().toString());
        assertEquals(a.stateDigest(), b.stateDigest());

        // Snapshot half-way, restore at a later log index (entries that are not commands followed),
        // then apply the rest: lastApplied differs from the replay's, the digest does not.
        KvStateMachine half = new KvStateMachine();
        half.apply(all.subList(0, 30));
        ByteArrayOutputStream image = new ByteArrayOutputStream();
        try (StateMachine.Snapshot s = half.snapshot()) {
            s.writeTo(image);
        }
        KvStateMachine restored = new KvStateMachine();
        restored.restore(all.get(29).index() + 1, new ByteArrayInputStream(image.toByteArray()));
        assertEquals(half.stateDigest(), restored.stateDigest());
        restored.apply(all.subList(30, all.size()));
        assertEquals(a.lastApplied(), restored.lastApplied());
        assertEquals(a.stateDigest(), restored.stateDigest());

        assertNotEquals(a.stateDigest(), half.stateDigest());
        KvStateMachine oneMore = new KvStateMachine();
        oneMore.apply(all);
        oneMore.apply(List.of(new Command(1_000, 1, 9_999, KvOps.put("k1", "changed"))));
        assertNotEquals(a.stateDigest(), oneMore.stateDigest());
        StateMachine.checkStateDigest(a.stateDigest().orElseThrow());
    }

    @Test
    void anEmptyStoreHasADigestToo() {
        assertEquals(new KvStateMachine().stateDigest(), new KvStateMachine().stateDigest());
    }
}
