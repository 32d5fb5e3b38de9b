package dev.raftkit.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.StorageException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A crash at every step of writing (and of retiring) a snapshot leaves the store with the old
 * snapshot or the new one, complete, never a mix, and no partial directory after start-up.
 */
class SnapshotCrashTest {

    static final Path DIR = Path.of("/sim/node/snapshots");
    static final SnapshotMeta OLD = new SnapshotMeta(new EntryId(1, 10), ConfState.ofVoters(Set.of(1L, 2L, 3L)));
    static final SnapshotMeta NEW = new SnapshotMeta(new EntryId(2, 20),
            new ConfState(Set.of(1L, 2L), Set.of(1L, 2L, 3L), Set.of(), Set.of(3L), true));

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static void assertReads(FileSnapshotStore store, SnapshotDescriptor d, byte[] expected) throws Exception {
        try (SnapshotReader r = store.open(d); InputStream in = r.input()) {
            r.verify();
            assertArrayEquals(expected, in.readAllBytes());
        }
    }

    @Test
    void aCrashAtAnyStepOfWritingLeavesTheOldOrTheNewSnapshot() throws Exception {
        SimFileIo base = new SimFileIo().mkdirsDurable(DIR.getParent());
        byte[] oldData = bytes(150_000, 1);
        byte[] newData = bytes(200_000, 2);
        try (FileSnapshotStore store = FileSnapshotStore.open(base, DIR)) {
            try (SnapshotWriter w = store.begin(OLD)) {
                w.output().write(oldData);
                w.commit();
            }
        }
        int sawOld = 0;
        int sawNew = 0;
        for (int at = 0; ; at++) {
            SimFileIo sim = base.copy();
            boolean finished;
            try (FileSnapshotStore store = FileSnapshotStore.open(sim, DIR)) {
                sim.crashAtOp(at);
                try (SnapshotWriter w = store.begin(NEW)) {
                    w.output().write(newData);
                    w.commit();
                    store.retain(1);
                    finished = true;
                } catch (SimFileIo.Crashed e) {
                    finished = false;
                }
            }
            sim.crash(new Random(at));
            try (FileSnapshotStore store = FileSnapshotStore.open(sim, DIR)) {
                SnapshotDescriptor latest = store.latest().orElseThrow();
                if (latest.meta().equals(NEW)) {
                    assertReads(store, latest, newData);
                    sawNew++;
                } else {
                    assertEquals(OLD, latest.meta(), "crash at op " + at);
                    assertReads(store, latest, oldData);
                    sawOld++;
                }
                for (String name : sim.list(DIR)) {
                    assertTrue(!name.endsWith(FileSnapshotStore.PARTIAL_SUFFIX), "partial left: " + name);
                }
            }
            if (finished) {
                break;
            }
        }
        assertTrue(sawOld > 3 && sawNew > 0, "crash points: old " + sawOld + ", new " + sawNew);
    }

    @Test
    void aDamagedSnapshotFailsVerification() throws Exception {
        SimFileIo sim = new SimFileIo().mkdirsDurable(DIR.getParent());
        try (FileSnapshotStore store = FileSnapshotStore.open(sim, DIR)) {
            SnapshotDescriptor d;
            try (SnapshotWriter w = store.begin(OLD)) {
                w.output().write(bytes(5000, 3));
                d = w.commit();
            }
            String name = sim.list(DIR).stream().filter(n -> n.startsWith("snap-")).findFirst().orElseThrow();
            sim.flip(DIR.resolve(name).resolve(FileSnapshotStore.DATA), 1234, 5);
            try (SnapshotReader r = store.open(d)) {
                StorageException e = org.junit.jupiter.api.Assertions.assertThrows(StorageException.class, r::verify);
                assertTrue(e.getMessage().contains("does not match its manifest"), e.getMessage());
            }
        }
    }

    /**
     * Two snapshots at one index with the same bytes have equal descriptors; opening latest()
     * opens the newer copy, the one it names, so a flipped bit there is found (simulator seed 340,
     * five nodes, found the store opening the older copy instead).
     */
    @Test
    void equalSnapshotsAtOneIndexOpenTheNewest() throws Exception {
        SimFileIo sim = new SimFileIo().mkdirsDurable(DIR.getParent());
        byte[] data = bytes(10_000, 3);
        try (FileSnapshotStore store = FileSnapshotStore.open(sim, DIR)) {
            for (int i = 0; i < 2; i++) {
                try (SnapshotWriter w = store.begin(OLD)) {
                    w.output().write(data);
                    w.commit();
                }
            }
        }
        java.util.List<Path> datas = sim.durableFiles(DIR).stream().filter(p -> p.getFileName().toString().equals("data"))
                .sorted().toList();
        assertEquals(2, datas.size(), datas.toString());
        sim.flip(datas.get(1), 2, 6);
        try (FileSnapshotStore store = FileSnapshotStore.open(sim, DIR)) {
            SnapshotDescriptor latest = store.latest().orElseThrow();
            try (SnapshotReader r = store.open(latest)) {
                org.junit.jupiter.api.Assertions.assertThrows(dev.raftkit.spi.StorageException.class, r::verify);
            }
        }
    }
}
