package dev.raftkit.spi;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.raftkit.core.ReadMode;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.AppendEntriesResponse;
import dev.raftkit.core.message.Heartbeat;
import dev.raftkit.core.message.HeartbeatResponse;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.message.ReadIndexRequest;
import dev.raftkit.core.message.ReadIndexResponse;
import dev.raftkit.core.message.RequestVote;
import dev.raftkit.core.message.RequestVoteResponse;
import dev.raftkit.core.message.TimeoutNow;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link Transport} keeps, as tests. An implementation's test extends this
 * class and supplies a {@link Network} that creates its transports and wires them to each other.
 *
 * <p>What is checked: every kind of message is delivered intact; {@code send} returns at once
 * even to a dead peer, and never throws; a peer that cannot be reached is reported through
 * {@link Transport.Inbound#unreachable}; a snapshot is streamed, committed and only then
 * delivered; a snapshot that does not match its descriptor is never committed nor delivered and a
 * later good transfer still works; a transfer to a dead peer fails its future; {@code close} is
 * idempotent and sending after it is harmless.
 *
 * <p>Real time, bounded: every wait has a deadline ({@link #timeout()}); no sleeps.
 */
public abstract class TransportContractTest {

    /** Nodes wired together by the transport under test. */
    protected interface Network extends AutoCloseable {

        /**
         * Creates node {@code id}'s transport, starts it delivering to {@code inbound}, and makes
         * it and every node started before (and every dead peer) able to reach each other.
         */
        Transport start(long id, Transport.Inbound inbound) throws Exception;

        /** Makes every node, started or not, know a peer {@code id} at which nothing answers. */
        void addDeadPeer(long id) throws Exception;

        /** Closes every transport it started. */
        @Override
        void close();
    }

    /** A fresh network for one test. */
    protected abstract Network newNetwork() throws Exception;

    /** The deadline for anything to happen. */
    protected Duration timeout() {
        return Duration.ofSeconds(15);
    }

    /** Bytes of the snapshot streamed in the snapshot tests; large enough for several chunks. */
    protected int snapshotBytes() {
        return 3 * 1024 * 1024 + 17;
    }

    private Network network;

    @BeforeEach
    void createNetwork() throws Exception {
        network = newNetwork();
    }

    @AfterEach
    void closeNetwork() {
        if (network != null) {
            network.close();
        }
    }

    // ----------------------------------------------------------------------------------- tests

    @Test
    void everyKindOfMessageIsDeliveredIntact() throws Exception {
        RecordingInbound one = new RecordingInbound();
        RecordingInbound two = new RecordingInbound();
        Transport t1 = network.start(1, one);
        network.start(2, two);

        List<Message> sent = everyKind(1, 2);
        t1.send(sent);

        assertEquals(new HashSet<>(sent), new HashSet<>(two.awaitMessages(sent.size())));
    }

    /**
     * A snapshot reaches the receiver only with its bytes ({@link Transport#sendSnapshot}); one
     * passed to {@code send} is dropped, and the messages around it still arrive.
     */
    @Test
    void anInstallSnapshotPassedToSendIsNotDelivered() throws Exception {
        RecordingInbound two = new RecordingInbound();
        Transport t1 = network.start(1, new RecordingInbound());
        network.start(2, two);

        Message before = new Heartbeat(1, 2, 3, 0, 1);
        Message after = new Heartbeat(1, 2, 3, 0, 2);
        t1.send(List.of(before, installSnapshot(1, 2, 1_000_000), after));

        assertEquals(Set.of(before, after), new HashSet<>(two.awaitMessages(2)));
        assertTrue(two.received.stream().noneMatch(m -> m instanceof InstallSnapshot), two.received.toString());
        assertTrue(two.writers.isEmpty(), "a snapshot writer was opened");
    }

    @Test
    void messagesFlowBothWaysAndInBulk() throws Exception {
        RecordingInbound one = new RecordingInbound();
        RecordingInbound two = new RecordingInbound();
        Transport t1 = network.start(1, one);
        Transport t2 = network.start(2, two);

        List<Message> toTwo = new ArrayList<>();
        List<Message> toOne = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            toTwo.add(new Heartbeat(1, 2, 3, 0, i));
            toOne.add(new HeartbeatResponse(2, 1, 3, i));
        }
        for (int i = 0; i < 500; i += 50) {
            t1.send(toTwo.subList(i, i + 50));
            t2.send(toOne.subList(i, i + 50));
        }

        assertEquals(new HashSet<>(toTwo), new HashSet<>(two.awaitMessages(toTwo.size())));
        assertEquals(new HashSet<>(toOne), new HashSet<>(one.awaitMessages(toOne.size())));
    }

    @Test
    void sendNeverBlocksOnADeadPeer() throws Exception {
        RecordingInbound one = new RecordingInbound();
        network.addDeadPeer(9);
        Transport t1 = network.start(1, one);

        byte[] payload = new byte[1024];
        long worstNanos = 0;
        for (int i = 0; i < 20_000; i++) {
            Message m = new AppendEntries(1, 9, 2,
                    new LogSlice(new EntryId(2, i), List.of(Entry.normal(2, i + 1L, payload))), 0);
            long start = System.nanoTime();
            t1.send(List.of(m, new Heartbeat(1, 9, 2, 0, i)));
            worstNanos = Math.max(worstNanos, System.nanoTime() - start);
        }

        // Generous for GC pauses on a shared machine, far below any connect or I/O timeout.
        assertTrue(worstNanos < TimeUnit.MILLISECONDS.toNanos(500),
                "send to a dead peer took " + TimeUnit.NANOSECONDS.toMillis(worstNanos) + " ms once");
        one.awaitUnreachable(9);
    }

    @Test
    void aDeadPeerIsReportedUnreachable() throws Exception {
        RecordingInbound one = new RecordingInbound();
        network.addDeadPeer(9);
        Transport t1 = network.start(1, one);

        t1.send(List.of(new Heartbeat(1, 9, 1, 0, 1)));

        one.awaitUnreachable(9);
    }

    @Test
    void aPeerThatStopsIsReportedUnreachable() throws Exception {
        RecordingInbound one = new RecordingInbound();
        RecordingInbound two = new RecordingInbound();
        Transport t1 = network.start(1, one);
        Transport t2 = network.start(2, two);
        t1.send(List.of(new Heartbeat(1, 2, 1, 0, 0)));
        two.awaitMessages(1);

        t2.close();

        long deadline = System.nanoTime() + timeout().toNanos();
        for (int round = 1; !one.unreachable.contains(2L); round++) {
            if (System.nanoTime() > deadline) {
                fail("node 2 was closed but never reported unreachable within " + timeout());
            }
            t1.send(List.of(new Heartbeat(1, 2, 1, 0, round)));
            one.unreachableSignal.poll(20, TimeUnit.MILLISECONDS);
        }
    }

    @Test
    void sendNeverThrows() throws Exception {
        RecordingInbound one = new RecordingInbound();
        Transport t1 = network.start(1, one);

        // To a node nobody knows: dropped, reported, never thrown.
        t1.send(List.of(new Heartbeat(1, 42, 1, 0, 0)));
        t1.send(List.of());

        one.awaitUnreachable(42);
    }

    @Test
    void aSnapshotIsStreamedAndCommittedBeforeItIsDelivered() throws Exception {
        RecordingInbound one = new RecordingInbound();
        RecordingInbound two = new RecordingInbound();
        Transport t1 = network.start(1, one);
        network.start(2, two);
        byte[] image = randomBytes(snapshotBytes(), 7);
        InstallSnapshot message = installSnapshot(1, 2, 100);
        BytesSnapshotReader reader = new BytesSnapshotReader(message.snapshot(), image);

        await(t1.sendSnapshot(message, reader));

        assertTrue(reader.closed, "the transport closes the reader when done");
        assertEquals(List.of(message), two.awaitMessages(1));
        MemorySnapshotWriter writer = two.writers.get(0);
        assertTrue(two.committedWhenDelivered, "the snapshot was committed before the message was delivered");
        assertArrayEquals(image, writer.bytes.toByteArray());
        assertFalse(writer.aborted);
    }

    @Test
    void aCorruptSnapshotIsNeverCommittedAndTheNextTransferStartsClean() throws Exception {
        RecordingInbound one = new RecordingInbound();
        RecordingInbound two = new RecordingInbound();
        Transport t1 = network.start(1, one);
        network.start(2, two);
        byte[] image = randomBytes(snapshotBytes(), 8);
        InstallSnapshot message = installSnapshot(1, 2, 100);
        byte[] flipped = image.clone();
        flipped[flipped.length / 2] ^= 1; // the bytes no longer match the descriptor's checksum
        BytesSnapshotReader corrupt = new BytesSnapshotReader(message.snapshot(), flipped, crc32c(image));

        CompletableFuture<Void> failed = t1.sendSnapshot(message, corrupt);

        ExecutionException e = expectFailure(failed);
        assertNotNull(e.getCause());
        assertTrue(corrupt.closed, "the transport closes the reader after a failure too");
        for (MemorySnapshotWriter w : two.writers) {
            assertFalse(w.committed, "a corrupt snapshot was committed");
        }

        BytesSnapshotReader good = new BytesSnapshotReader(message.snapshot(), image);
        await(t1.sendSnapshot(message, good));

        assertEquals(List.of(message), two.awaitMessages(1), "only the good transfer is delivered");
        MemorySnapshotWriter last = two.writers.get(two.writers.size() - 1);
        assertTrue(last.committed);
        assertArrayEquals(image, last.bytes.toByteArray());
        for (MemorySnapshotWriter w : two.writers.subList(0, two.writers.size() - 1)) {
            assertTrue(w.ended.await(timeout().toMillis(), TimeUnit.MILLISECONDS) && w.aborted,
                    "every failed transfer's writer is aborted");
        }
    }

    @Test
    void aSnapshotToADeadPeerFails() throws Exception {
        RecordingInbound one = new RecordingInbound();
        network.addDeadPeer(9);
        Transport t1 = network.start(1, one);
        InstallSnapshot message = installSnapshot(1, 9, 10);
        BytesSnapshotReader reader = new BytesSnapshotReader(message.snapshot(), randomBytes(1000, 9));

        expectFailure(t1.sendSnapshot(message, reader));
        assertTrue(reader.closed);
    }

    @Test
    void closeIsIdempotentAndSendingAfterCloseIsHarmless() throws Exception {
        RecordingInbound one = new RecordingInbound();
        RecordingInbound two = new RecordingInbound();
        Transport t1 = network.start(1, one);
        network.start(2, two);

        t1.close();
        t1.close();
        t1.send(List.of(new Heartbeat(1, 2, 1, 0, 0)));
        InstallSnapshot message = installSnapshot(1, 2, 10);
        BytesSnapshotReader reader = new BytesSnapshotReader(message.snapshot(), randomBytes(10, 1));
        expectFailure(t1.sendSnapshot(message, reader));
    }

    // --------------------------------------------------------------------------------- helpers

    /** One message of every kind from {@code from} to {@code to}. */
    /** One message of every kind {@link Transport#send} carries (all but InstallSnapshot). */
    protected static List<Message> everyKind(long from, long to) {
        return List.of(
                new AppendEntries(from, to, 3, new LogSlice(new EntryId(2, 10),
                        List.of(Entry.normal(2, 11, new byte[] {1, 2, 3}), Entry.normal(3, 12, new byte[0]))), 11),
                new AppendEntries(from, to, 3, new LogSlice(new EntryId(2, 10), List.of()), 10),
                AppendEntriesResponse.accept(from, to, 3, 12),
                new AppendEntriesResponse(from, to, 3, true, 12, new EntryId(2, 9)),
                new RequestVote(from, to, 4, new EntryId(3, 12), true, false),
                new RequestVoteResponse(from, to, 4, false, true),
                new Heartbeat(from, to, 3, 12, 77),
                new HeartbeatResponse(from, to, 3, 77),
                new TimeoutNow(from, to, 3),
                new ReadIndexRequest(from, to, 3, 5, ReadMode.LINEARIZABLE),
                new ReadIndexResponse(from, to, 3, 5, 12));
    }

    protected static InstallSnapshot installSnapshot(long from, long to, long index) {
        return new InstallSnapshot(from, to, 3, new SnapshotMeta(new EntryId(2, index),
                ConfState.ofVoters(Set.of(from, to))));
    }

    protected static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    protected static int crc32c(byte[] bytes) {
        CRC32C c = new CRC32C();
        c.update(bytes);
        return (int) c.getValue();
    }

    private <T> T await(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("not done within " + timeout(), e);
        }
    }

    private ExecutionException expectFailure(CompletableFuture<?> future) throws Exception {
        try {
            future.get(timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return e;
        } catch (TimeoutException e) {
            throw new AssertionError("expected a failure within " + timeout() + ", but the future is still pending", e);
        }
        throw new AssertionError("expected the future to fail, but it succeeded");
    }

    /** An {@link Transport.Inbound} that records everything, with bounded waits. */
    protected class RecordingInbound implements Transport.Inbound {
        public final BlockingQueue<Message> received = new LinkedBlockingQueue<>();
        public final Set<Long> unreachable = java.util.concurrent.ConcurrentHashMap.newKeySet();
        public final BlockingQueue<Long> unreachableSignal = new LinkedBlockingQueue<>();
        public final List<MemorySnapshotWriter> writers = new java.util.concurrent.CopyOnWriteArrayList<>();
        public volatile boolean committedWhenDelivered;

        @Override
        public void receive(Message message) {
            if (message instanceof InstallSnapshot) {
                committedWhenDelivered = !writers.isEmpty() && writers.get(writers.size() - 1).committed;
            }
            received.add(message);
        }

        @Override
        public void unreachable(long peer) {
            unreachable.add(peer);
            unreachableSignal.add(peer);
        }

        @Override
        public SnapshotWriter beginSnapshot(InstallSnapshot message) {
            MemorySnapshotWriter w = new MemorySnapshotWriter(message.snapshot());
            writers.add(w);
            return w;
        }

        /** Waits for {@code n} messages (failing after the timeout), and checks no more arrive early. */
        public List<Message> awaitMessages(int n) throws InterruptedException {
            List<Message> got = new ArrayList<>();
            long deadline = System.nanoTime() + timeout().toNanos();
            while (got.size() < n) {
                Message m = received.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (m == null) {
                    fail("received " + got.size() + " of " + n + " messages within " + timeout() + ": " + got);
                }
                got.add(m);
            }
            return got;
        }

        public void awaitUnreachable(long peer) throws InterruptedException {
            long deadline = System.nanoTime() + timeout().toNanos();
            while (!unreachable.contains(peer)) {
                if (unreachableSignal.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS) == null
                        && !unreachable.contains(peer)) {
                    fail("node " + peer + " was not reported unreachable within " + timeout());
                }
            }
        }
    }

    /** A snapshot writer in memory that records whether it was committed or aborted. */
    public static class MemorySnapshotWriter implements SnapshotWriter {
        public final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final SnapshotMeta meta;
        public volatile boolean committed;
        public volatile boolean aborted;
        /** Counted down once committed or aborted. */
        public final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);

        public MemorySnapshotWriter(SnapshotMeta meta) {
            this.meta = meta;
        }

        @Override
        public OutputStream output() {
            return bytes;
        }

        @Override
        public SnapshotDescriptor commit() {
            if (aborted) {
                throw new IllegalStateException("commit after abort");
            }
            committed = true;
            ended.countDown();
            byte[] b = bytes.toByteArray();
            return new SnapshotDescriptor(meta, b.length, crc32c(b));
        }

        @Override
        public void abort() {
            if (!committed) {
                aborted = true;
                ended.countDown();
            }
        }

        @Override
        public void close() {
            abort();
        }
    }

    /** A snapshot reader over bytes in memory; its descriptor's checksum may be given wrong on purpose. */
    public static class BytesSnapshotReader implements SnapshotReader {
        private final byte[] data;
        private final SnapshotDescriptor descriptor;
        public volatile boolean closed;

        public BytesSnapshotReader(SnapshotMeta meta, byte[] data) {
            this(meta, data, crc32c(data));
        }

        public BytesSnapshotReader(SnapshotMeta meta, byte[] data, int claimedCrc32c) {
            this.data = data;
            this.descriptor = new SnapshotDescriptor(meta, data.length, claimedCrc32c);
        }

        @Override
        public SnapshotDescriptor descriptor() {
            return descriptor;
        }

        @Override
        public InputStream input() {
            return new ByteArrayInputStream(data);
        }

        @Override
        public byte[] chunk(long offset, int maxBytes) throws IOException {
            if (closed) {
                throw new IOException("reader closed");
            }
            int from = (int) Math.min(offset, data.length);
            return Arrays.copyOfRange(data, from, (int) Math.min(data.length, from + (long) maxBytes));
        }

        @Override
        public void verify() throws IOException {
            if (crc32c(data) != descriptor.crc32c()) {
                throw new StorageException("snapshot bytes do not match the descriptor's checksum");
            }
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
