package dev.raftkit.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.EntryId;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link SnapshotStore}, {@link SnapshotWriter} and {@link SnapshotReader}: every
 * implementation extends this test. Durable implementations override {@link #reopen}.
 */
public abstract class SnapshotStoreContractTest {

    protected abstract SnapshotStore create() throws Exception;

    /** Closes {@code store} and opens the same storage again; in-memory stores return it. */
    protected SnapshotStore reopen(SnapshotStore store) throws Exception {
        return store;
    }

    protected SnapshotStore store;

    @BeforeEach
    void setUpStore() throws Exception {
        store = create();
    }

    @AfterEach
    void closeStore() throws Exception {
        store.close();
    }

    protected static SnapshotMeta meta(long term, long index) {
        return new SnapshotMeta(new EntryId(term, index),
                new ConfState(Set.of(1L, 2L), Set.of(1L, 3L), Set.of(9L), Set.of(3L), true));
    }

    protected static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    protected SnapshotDescriptor write(SnapshotMeta meta, byte[] data) throws IOException {
        try (SnapshotWriter w = store.begin(meta)) {
            w.output().write(data);
            return w.commit();
        }
    }

    private static byte[] readAll(SnapshotReader r) throws IOException {
        try (InputStream in = r.input()) {
            return in.readAllBytes();
        }
    }

    @Test
    void anEmptyStoreHasNoLatest() throws Exception {
        assertEquals(Optional.empty(), store.latest());
    }

    @Test
    void aCommittedSnapshotReadsBackWithItsDescriptor() throws Exception {
        byte[] data = bytes(200_000, 1);
        SnapshotDescriptor d = write(meta(3, 40), data);
        CRC32C crc = new CRC32C();
        crc.update(data);
        assertEquals(new SnapshotDescriptor(meta(3, 40), data.length, (int) crc.getValue()), d);
        for (int round = 0; round < 2; round++) {
            assertEquals(Optional.of(d), store.latest());
            try (SnapshotReader r = store.open(store.latest().orElseThrow())) {
                assertEquals(d, r.descriptor());
                assertArrayEquals(data, readAll(r));
                r.verify();
            }
            store = reopen(store);
        }
    }

    @Test
    void chunksCoverTheSnapshotAndAreEmptyAtTheEnd() throws Exception {
        byte[] data = bytes(10_000, 2);
        SnapshotDescriptor d = write(meta(1, 5), data);
        try (SnapshotReader r = store.open(d)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (long off = 0; ; ) {
                byte[] c = r.chunk(off, 3000);
                if (c.length == 0) {
                    break;
                }
                assertTrue(c.length <= 3000);
                out.write(c);
                off += c.length;
            }
            assertArrayEquals(data, out.toByteArray());
            assertEquals(0, r.chunk(data.length, 100).length);
        }
    }

    @Test
    void anEmptySnapshotIsValid() throws Exception {
        SnapshotDescriptor d = write(meta(1, 1), new byte[0]);
        try (SnapshotReader r = store.open(d)) {
            assertEquals(0, readAll(r).length);
            r.verify();
        }
    }

    @Test
    void nothingIsVisibleBeforeCommitAndAnAbortLeavesNoTrace() throws Exception {
        SnapshotDescriptor old = write(meta(1, 10), bytes(100, 3));
        SnapshotWriter w = store.begin(meta(2, 20));
        w.output().write(bytes(100, 4));
        assertEquals(Optional.of(old), store.latest());
        w.abort();
        w.abort();
        w.close();
        assertEquals(Optional.of(old), store.latest());
        store = reopen(store);
        assertEquals(Optional.of(old), store.latest());
    }

    @Test
    void closingAnUncommittedWriterAborts() throws Exception {
        try (SnapshotWriter w = store.begin(meta(2, 20))) {
            w.output().write(1);
        }
        assertEquals(Optional.empty(), store.latest());
    }

    @Test
    void latestIsTheHighestIndexAndRetainKeepsTheNewest() throws Exception {
        write(meta(1, 10), bytes(10, 5));
        SnapshotDescriptor b = write(meta(2, 30), bytes(10, 6));
        SnapshotDescriptor a = write(meta(2, 20), bytes(10, 7));
        assertEquals(Optional.of(b), store.latest());
        store.retain(2);
        store = reopen(store);
        assertEquals(Optional.of(b), store.latest());
        try (SnapshotReader r = store.open(a)) {
            r.verify();
        }
        store.retain(1);
        assertThrows(IOException.class, () -> store.open(a));
        store.retain(0);
        assertEquals(Optional.empty(), store.latest());
    }
}
