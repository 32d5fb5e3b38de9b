package dev.raftkit.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.spi.ResumableSnapshotWriter;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.Transport;
import dev.raftkit.spi.TransportContractTest.BytesSnapshotReader;
import dev.raftkit.storage.FileSnapshotStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resumable InstallSnapshot over the gRPC transport, into a real {@link FileSnapshotStore}: a
 * transfer cut by its sender's failure leaves the receiver's verified chunks, and the next
 * transfer of the same image — here from another node, as after a leader change to a leader with
 * the same snapshot — asks where to resume and reads and sends only the bytes after them.
 */
class ResumableSnapshotTransferTest {

    static final Duration PATIENCE = Duration.ofSeconds(20);
    static final int CHUNK = 4096;

    @TempDir
    Path dir;

    private GrpcNetwork net;
    private FileSnapshotStore store;

    @AfterEach
    void close() throws IOException {
        if (net != null) {
            net.close();
        }
        if (store != null) {
            store.close();
        }
    }

    static int crc32c(byte[] b) {
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(b);
        return (int) c.getValue();
    }

    /** An inbound over a real snapshot store, resuming as the runtime does. */
    static class StoreInbox implements Transport.Inbound {
        final FileSnapshotStore store;
        final List<Message> received = new CopyOnWriteArrayList<>();

        StoreInbox(FileSnapshotStore store) {
            this.store = store;
        }

        @Override
        public void receive(Message message) {
            received.add(message);
        }

        @Override
        public void unreachable(long peer) {
        }

        @Override
        public SnapshotWriter beginSnapshot(InstallSnapshot message) throws IOException {
            return store.begin(message.snapshot());
        }

        @Override
        public ResumableSnapshotWriter beginSnapshot(InstallSnapshot message, long sizeBytes, int crc32c)
                throws IOException {
            return store.beginReceive(message.snapshot(), sizeBytes, crc32c);
        }

        @Override
        public long snapshotResumePoint(InstallSnapshot message, long sizeBytes, int crc32c) throws IOException {
            return store.receivedBytes(message.snapshot(), sizeBytes, crc32c);
        }
    }

    /** A reader that records the first offset it is asked for and the bytes it hands out, failing from {@code failAt}. */
    static final class Recording extends BytesSnapshotReader {
        final AtomicLong first = new AtomicLong(-1);
        final AtomicLong read = new AtomicLong();
        private final long failAt;

        Recording(SnapshotMeta meta, byte[] image, long failAt) {
            super(meta, image);
            this.failAt = failAt;
        }

        @Override
        public byte[] chunk(long offset, int maxBytes) throws IOException {
            first.compareAndSet(-1, offset);
            if (offset >= failAt) {
                throw new IOException("the sender's disk failed at byte " + offset);
            }
            byte[] b = super.chunk(offset, maxBytes);
            read.addAndGet(b.length);
            return b;
        }
    }

    @Test
    void aTransferCutByItsSenderResumesFromTheReceiversLastVerifiedChunkWhenAnotherNodeSendsTheSameImage()
            throws Exception {
        net = new GrpcNetwork("c", id -> null);
        store = FileSnapshotStore.open(dir.resolve("snapshots"));
        StoreInbox inbox = new StoreInbox(store);
        GrpcTransport t1 = net.start(1, net.create(1, b -> b.snapshotChunkBytes(CHUNK)), new StoreInbox(null));
        net.start(2, net.create(2, b -> b.snapshotChunkBytes(CHUNK)), inbox);
        GrpcTransport t3 = net.start(3, net.create(3, b -> b.snapshotChunkBytes(CHUNK)), new StoreInbox(null));
        SnapshotMeta meta = new SnapshotMeta(new EntryId(4, 900), ConfState.ofVoters(Set.of(1L, 2L, 3L)));
        byte[] image = new byte[200 * CHUNK + 123];
        new Random(16).nextBytes(image);
        long failAt = (long) (60 + new Random(7).nextInt(100)) * CHUNK;

        Recording first = new Recording(meta, image, failAt);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> t1.sendSnapshot(new InstallSnapshot(1, 2, 5, meta), first).get(PATIENCE.toMillis(),
                        TimeUnit.MILLISECONDS));
        assertTrue(e.getCause().getMessage().contains("disk failed"), e.getCause().getMessage());
        assertEquals(0, first.first.get(), "a first transfer starts at byte 0");

        // The receiver's end of the cancelled call settles; what it verified stays on its disk.
        AtomicLong last = new AtomicLong(-1);
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(100)).until(() -> {
            long now = store.receivedBytes(meta, image.length, crc32c(image));
            return now == last.getAndSet(now);
        });
        long verified = last.get();
        assertEquals(0, verified % CHUNK, "whole chunks are kept");
        assertTrue(verified <= first.read.get(), "nothing is kept that was not sent");
        assertTrue(inbox.received.isEmpty(), "a cut transfer is never handed over");

        // A new leader (node 3) with the same snapshot: only the rest travels.
        Recording second = new Recording(meta, image, Long.MAX_VALUE);
        InstallSnapshot fromThree = new InstallSnapshot(3, 2, 6, meta);
        t3.sendSnapshot(fromThree, second).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(verified, second.first.get(), "resumed at the last verified chunk");
        assertEquals(image.length - verified, second.read.get(), "only the bytes after it were sent");
        assertEquals(List.of(fromThree), inbox.received);
        try (SnapshotReader r = store.open(store.latest().orElseThrow()); InputStream in = r.input()) {
            r.verify();
            assertArrayEquals(image, in.readAllBytes());
        }
        System.out.printf("cut at byte %d (sender), %d verified by the receiver, %d sent on resume of %d%n",
                failAt, verified, second.read.get(), image.length);
    }

    /**
     * The receiving pool thread interrupted in the middle of a receipt (what shutting the
     * transport down does to it): the partial's files are closed under it, which is a cut, not a
     * bad write, so the chunks verified before it stay for the next transfer instead of being
     * deleted.
     */
    @Test
    void aReceiptInterruptedMidWriteKeepsItsVerifiedChunksForTheNextTransfer() throws Exception {
        net = new GrpcNetwork("c", id -> null);
        store = FileSnapshotStore.open(dir.resolve("snapshots"));
        int interruptAt = 40;
        AtomicBoolean interruptedOnce = new AtomicBoolean();
        StoreInbox inbox = new StoreInbox(store) {
            @Override
            public ResumableSnapshotWriter beginSnapshot(InstallSnapshot message, long sizeBytes, int crc32c)
                    throws IOException {
                ResumableSnapshotWriter w = super.beginSnapshot(message, sizeBytes, crc32c);
                return new ResumableSnapshotWriter() {
                    private int checkpoints;

                    @Override
                    public long resumeOffset() {
                        return w.resumeOffset();
                    }

                    @Override
                    public void checkpoint() throws IOException {
                        if (++checkpoints == interruptAt && interruptedOnce.compareAndSet(false, true)) {
                            // As shutdownNow would: the next file operation throws ClosedByInterruptException.
                            Thread.currentThread().interrupt();
                        }
                        w.checkpoint();
                    }

                    @Override
                    public void restart() throws IOException {
                        w.restart();
                    }

                    @Override
                    public void suspend() {
                        w.suspend();
                    }

                    @Override
                    public OutputStream output() {
                        return w.output();
                    }

                    @Override
                    public SnapshotDescriptor commit() throws IOException {
                        return w.commit();
                    }

                    @Override
                    public void abort() {
                        w.abort();
                    }

                    @Override
                    public void close() {
                        w.close();
                    }
                };
            }
        };
        GrpcTransport t1 = net.start(1, net.create(1, b -> b.snapshotChunkBytes(CHUNK)), new StoreInbox(null));
        net.start(2, net.create(2, b -> b.snapshotChunkBytes(CHUNK)), inbox);
        SnapshotMeta meta = new SnapshotMeta(new EntryId(4, 900), ConfState.ofVoters(Set.of(1L, 2L, 3L)));
        byte[] image = new byte[100 * CHUNK + 77];
        new Random(5).nextBytes(image);

        Recording first = new Recording(meta, image, Long.MAX_VALUE);
        assertThrows(ExecutionException.class, () -> t1.sendSnapshot(new InstallSnapshot(1, 2, 5, meta), first)
                .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
        assertTrue(interruptedOnce.get(), "the receipt was interrupted");
        // The chunks checkpointed before the interrupted one are kept (not deleted as a write error).
        long expected = (long) (interruptAt - 1) * CHUNK;
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50))
                .until(() -> store.receivedBytes(meta, image.length, crc32c(image)) == expected);
        assertTrue(inbox.received.isEmpty(), "an interrupted transfer is never handed over");

        Recording second = new Recording(meta, image, Long.MAX_VALUE);
        InstallSnapshot again = new InstallSnapshot(1, 2, 5, meta);
        t1.sendSnapshot(again, second).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(expected, second.first.get(), "resumed after the chunks verified before the interrupt");
        assertEquals(image.length - expected, second.read.get(), "only the rest was sent");
        assertEquals(List.of(again), inbox.received);
        try (SnapshotReader r = store.open(store.latest().orElseThrow()); InputStream in = r.input()) {
            r.verify();
            assertArrayEquals(image, in.readAllBytes());
        }
    }
}
