package dev.raftkit.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.Heartbeat;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.SnapshotWriter;
import dev.raftkit.spi.Transport;
import dev.raftkit.spi.TransportContractTest.BytesSnapshotReader;
import dev.raftkit.spi.TransportContractTest.MemorySnapshotWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GrpcTransport beyond the SPI contract: admission, size limits, lanes, reconnects, TLS, snapshots. */
class GrpcTransportTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private GrpcNetwork network(String cluster) {
        GrpcNetwork n = new GrpcNetwork(cluster, id -> null);
        toClose.add(n);
        return n;
    }

    private GrpcTransport own(GrpcTransport t) {
        toClose.add(t);
        return t;
    }

    /** Records what a node receives. */
    static class Inbox implements Transport.Inbound {
        final List<Message> received = new CopyOnWriteArrayList<>();
        final Set<Long> unreachable = ConcurrentHashMap.newKeySet();
        final List<MemorySnapshotWriter> writers = new CopyOnWriteArrayList<>();
        volatile Function<InstallSnapshot, MemorySnapshotWriter> snapshots = m -> new MemorySnapshotWriter(m.snapshot());

        @Override
        public void receive(Message message) {
            received.add(message);
        }

        @Override
        public void unreachable(long peer) {
            unreachable.add(peer);
        }

        @Override
        public SnapshotWriter beginSnapshot(InstallSnapshot message) {
            MemorySnapshotWriter w = snapshots.apply(message);
            writers.add(w);
            return w;
        }

        boolean receivedFrom(long node) {
            return received.stream().anyMatch(m -> m.from() == node);
        }
    }

    private static Heartbeat heartbeat(long from, long to, long context) {
        return new Heartbeat(from, to, 1, 0, context);
    }

    private static AppendEntries append(long from, long to, long index, int bytes) {
        return new AppendEntries(from, to, 1, new LogSlice(new EntryId(1, index - 1),
                List.of(Entry.normal(1, index, new byte[bytes]))), 0);
    }

    /** Sends a heartbeat from {@code t} every poll until {@code inbox} has one from {@code from}. */
    private static void keepSendingUntilReceived(Transport t, long from, long to, Inbox inbox) {
        AtomicInteger round = new AtomicInteger();
        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(50)).until(() -> {
            t.send(List.of(heartbeat(from, to, round.incrementAndGet())));
            return inbox.receivedFrom(from);
        });
    }

    // ------------------------------------------------------------------------------ admission

    @Test
    void aNodeRefusesMessagesFromAnotherClusterAndDeliversNothingOfThem() throws Exception {
        GrpcNetwork ours = network("ours");
        Inbox one = new Inbox();
        Inbox three = new Inbox();
        GrpcTransport t1 = ours.start(1, one);
        GrpcTransport t3 = ours.start(3, three);
        // Node 2 is configured with another cluster's id but our addresses, and we know it as a peer:
        // the cluster id alone must keep its traffic out.
        Inbox two = new Inbox();
        GrpcTransport stranger = own(new GrpcTransport(GrpcNetwork.testDefaults("theirs", 2)
                .peer(1, ours.address(1)).build()));
        stranger.start(two);
        t1.addPeer(2, stranger.localAddress());

        stranger.send(List.of(heartbeat(2, 1, 7), append(2, 1, 1, 10)));
        await().atMost(PATIENCE).until(() -> two.unreachable.contains(1L));
        t1.send(List.of(heartbeat(1, 2, 8)));
        await().atMost(PATIENCE).until(() -> one.unreachable.contains(2L));

        // A message from a legitimate peer still goes through, and arrives after the refusal.
        keepSendingUntilReceived(t3, 3, 1, one);
        assertFalse(one.receivedFrom(2), "node 1 delivered a message of another cluster: " + one.received);
        assertTrue(two.received.isEmpty(), "node 2 delivered a message of another cluster: " + two.received);
    }

    @Test
    void aNodeRefusesMessagesFromUnknownSenders() throws Exception {
        GrpcNetwork net = network("c");
        Inbox one = new Inbox();
        Inbox two = new Inbox();
        GrpcTransport t1 = net.start(1, one);
        GrpcTransport t2 = net.start(2, two);
        InetSocketAddress address1 = t1.localAddress();
        t2.removePeer(1);

        t1.send(List.of(heartbeat(1, 2, 1)));

        await().atMost(PATIENCE).until(() -> one.unreachable.contains(2L));
        assertTrue(two.received.isEmpty(), "delivered from an unknown sender: " + two.received);

        // Once node 2 learns of node 1 (a membership change), its messages are accepted.
        t2.addPeer(1, address1);
        keepSendingUntilReceived(t1, 1, 2, two);
    }

    // ------------------------------------------------------------------------------ size limits

    @Test
    void aMessageAboveTheReceiversLimitIsRefusedAndTheStreamRecovers() throws Exception {
        GrpcNetwork net = network("c");
        Inbox one = new Inbox();
        Inbox two = new Inbox();
        GrpcTransport t1 = net.start(1, one);
        net.start(2, net.create(2, b -> b.maxMessageBytes(64 << 10).snapshotChunkBytes(32 << 10)), two);

        t1.send(List.of(append(1, 2, 1, 200 << 10)));

        await().atMost(PATIENCE).until(() -> one.unreachable.contains(2L));
        keepSendingUntilReceived(t1, 1, 2, two);
        assertTrue(two.received.stream().noneMatch(m -> m instanceof AppendEntries),
                "the oversized append was delivered");
    }

    @Test
    void aMessageAboveTheSendersLimitIsDroppedWithoutBreakingTheStream() throws Exception {
        GrpcNetwork net = network("c");
        Inbox one = new Inbox();
        Inbox two = new Inbox();
        GrpcTransport t1 = net.start(1, net.create(1, b -> b.maxMessageBytes(64 << 10).snapshotChunkBytes(32 << 10)), one);
        net.start(2, two);

        t1.send(List.of(append(1, 2, 1, 200 << 10), append(1, 2, 1, 1000)));

        await().atMost(PATIENCE).until(() -> two.received.size() == 1);
        AppendEntries got = (AppendEntries) two.received.get(0);
        assertEquals(1000, got.slice().entries().get(0).data().length, "only the small append arrives");
        assertFalse(one.unreachable.contains(2L), "a local drop is not the peer's fault");
    }

    // ------------------------------------------------------------------------------ lanes

    @Test
    void aHeartbeatIsNotStuckBehindLargeAppends() throws Exception {
        GrpcNetwork net = network("c");
        Inbox one = new Inbox();
        Inbox two = new Inbox();
        GrpcTransport t1 = net.start(1, one);
        net.start(2, two);
        keepSendingUntilReceived(t1, 1, 2, two); // connected
        two.received.clear();

        List<Message> burst = new ArrayList<>();
        int appends = 40;
        for (int i = 1; i <= appends; i++) {
            burst.add(append(1, 2, i, 1 << 20));
        }
        burst.add(heartbeat(1, 2, 999));
        t1.send(burst);

        await().atMost(PATIENCE).untilAsserted(() -> assertEquals(appends,
                two.received.stream().filter(m -> m instanceof AppendEntries).count(), "appends received"));
        int appendsBefore = 0;
        for (Message m : two.received) {
            if (m instanceof Heartbeat h && h.context() == 999) {
                break;
            }
            appendsBefore += m instanceof AppendEntries ? 1 : 0;
        }
        assertTrue(appendsBefore < appends / 2, "the heartbeat sent after " + appends
                + " 1 MiB appends arrived after " + appendsBefore + " of them: it waited behind them");
    }

    // ------------------------------------------------------------------------------ reconnects

    @Test
    void aRestartedPeerIsReachedAgainOnItsAddress() throws Exception {
        GrpcNetwork net = network("c");
        Inbox one = new Inbox();
        Inbox two = new Inbox();
        GrpcTransport t1 = net.start(1, one);
        GrpcTransport t2 = net.start(2, two);
        keepSendingUntilReceived(t1, 1, 2, two);
        InetSocketAddress address2 = stopUntilUnreachable(t1, one, t2);

        Inbox twoAgain = restartNodeTwo(address2, t1);

        keepSendingUntilReceived(t1, 1, 2, twoAgain);
    }

    /** Closes node 2's transport and waits until node 1's reports it unreachable; returns where node 2 listened. */
    private static InetSocketAddress stopUntilUnreachable(GrpcTransport t1, Inbox one, GrpcTransport t2)
            throws java.io.IOException {
        InetSocketAddress address2 = t2.localAddress();
        t2.close();
        await().atMost(PATIENCE).until(() -> {
            t1.send(List.of(heartbeat(1, 2, 0)));
            return one.unreachable.contains(2L);
        });
        return address2;
    }

    /** Starts node 2's transport again on {@code address2}; returns its inbox. */
    private Inbox restartNodeTwo(InetSocketAddress address2, GrpcTransport t1) throws java.io.IOException {
        Inbox twoAgain = new Inbox();
        own(new GrpcTransport(GrpcNetwork.testDefaults("c", 2).listen(address2).peer(1, t1.localAddress()).build()))
                .start(twoAgain);
        return twoAgain;
    }

    @Test
    void aSnapshotForAPeerThatIsRestartingWaitsForItInsteadOfFailing() throws Exception {
        GrpcNetwork net = network("c");
        Inbox one = new Inbox();
        GrpcTransport t1 = net.start(1, one);
        Inbox two = new Inbox();
        GrpcTransport t2 = net.start(2, two);
        keepSendingUntilReceived(t1, 1, 2, two);
        InetSocketAddress address2 = stopUntilUnreachable(t1, one, t2);

        // Node 1's channel to node 2 is in reconnect backoff when the transfer starts.
        byte[] image = image(1 << 20);
        InstallSnapshot message = snapshotMessage(1, 2);
        CompletableFuture<Void> sent = t1.sendSnapshot(message, new BytesSnapshotReader(message.snapshot(), image));
        Inbox twoAgain = restartNodeTwo(address2, t1);

        sent.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(List.of(message), twoAgain.received);
        assertTrue(java.util.Arrays.equals(image, twoAgain.writers.get(0).bytes.toByteArray()));
    }

    // ------------------------------------------------------------------------------ TLS

    @Test
    void aPeerWithoutTheClustersCertificateCannotConnectOrSend(@TempDir Path dir) throws Exception {
        TestCertificates cluster = new TestCertificates(dir, "cluster");
        TestCertificates rogue = new TestCertificates(dir, "rogue");
        GrpcNetwork net = new GrpcNetwork("c", id -> {
            try {
                return id == 2 ? rogue.node("c", 2) : cluster.node("c", id);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        toClose.add(net);
        Inbox one = new Inbox();
        Inbox two = new Inbox();
        Inbox three = new Inbox();
        GrpcTransport t1 = net.start(1, one);
        GrpcTransport t2 = net.start(2, two);
        GrpcTransport t3 = net.start(3, three);
        // And one without TLS at all.
        Inbox four = new Inbox();
        GrpcTransport plain = own(new GrpcTransport(GrpcNetwork.testDefaults("c", 4)
                .peer(1, t1.localAddress()).build()));
        plain.start(four);
        t1.addPeer(4, plain.localAddress());

        t2.send(List.of(heartbeat(2, 1, 1)));
        plain.send(List.of(heartbeat(4, 1, 1)));
        t1.send(List.of(heartbeat(1, 2, 1)));

        await().atMost(PATIENCE).until(() -> two.unreachable.contains(1L));
        await().atMost(PATIENCE).until(() -> four.unreachable.contains(1L));
        await().atMost(PATIENCE).until(() -> one.unreachable.contains(2L));
        keepSendingUntilReceived(t3, 3, 1, one);
        assertFalse(one.receivedFrom(2) || one.receivedFrom(4), "delivered without the cluster's certificate: " + one.received);
        assertTrue(two.received.isEmpty(), "node 2 accepted node 1 although it does not trust its CA");
    }

    @Test
    void serverOnlyTlsCarriesMessages(@TempDir Path dir) throws Exception {
        TestCertificates cluster = new TestCertificates(dir, "cluster");
        GrpcNetwork net = new GrpcNetwork("c", id -> {
            try {
                TlsConfig m = cluster.node("c", id);
                return new TlsConfig(m.certChain(), m.privateKey(), m.trustedCa(), false);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        toClose.add(net);
        Inbox one = new Inbox();
        Inbox two = new Inbox();
        GrpcTransport t1 = net.start(1, one);
        net.start(2, two);

        keepSendingUntilReceived(t1, 1, 2, two);
    }

    @Test
    void tlsFilesThatDoNotExistAreNamedInTheError(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GrpcNetwork.testDefaults("c", 1).tls(TlsConfig.mutual(dir.resolve("node.pem"),
                        dir.resolve("node.key"), dir.resolve("ca.pem"))).build());
        assertTrue(e.getMessage().contains("node.pem"), e.getMessage());
    }

    // ------------------------------------------------------------------------------ snapshots

    private static InstallSnapshot snapshotMessage(long from, long to) {
        return new InstallSnapshot(from, to, 3, new SnapshotMeta(new EntryId(2, 500), ConfState.ofVoters(Set.of(from, to))));
    }

    private static byte[] image(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    @Test
    void aTransferThatFailsAtTheReceiverIsAbortedAndTheNextOneSucceeds() throws Exception {
        GrpcNetwork net = network("c");
        Inbox one = new Inbox();
        Inbox two = new Inbox();
        GrpcTransport t1 = net.start(1, one);
        net.start(2, two);
        AtomicInteger attempts = new AtomicInteger();
        two.snapshots = m -> attempts.incrementAndGet() == 1 ? new FailingWriter(m.snapshot(), 1 << 20)
                : new MemorySnapshotWriter(m.snapshot());
        byte[] image = image(3 << 20);
        InstallSnapshot message = snapshotMessage(1, 2);

        ExecutionException e = assertThrows(ExecutionException.class,
                () -> t1.sendSnapshot(message, new BytesSnapshotReader(message.snapshot(), image))
                        .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
        assertTrue(e.getCause().getMessage().contains("disk full"), e.getCause().getMessage());
        MemorySnapshotWriter first = two.writers.get(0);
        assertTrue(first.ended.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS) && first.aborted);

        t1.sendSnapshot(message, new BytesSnapshotReader(message.snapshot(), image))
                .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(List.of(message), two.received);
        assertTrue(java.util.Arrays.equals(image, two.writers.get(1).bytes.toByteArray()));
    }

    @Test
    void aTransferInterruptedByTheSendersCrashIsAbortedAndARestartedSenderStartsOver() throws Exception {
        GrpcNetwork net = network("c");
        Inbox one = new Inbox();
        Inbox two = new Inbox();
        GrpcTransport t1 = net.start(1, one);
        GrpcTransport t2 = net.start(2, two);
        byte[] image = image(4 << 20);
        InstallSnapshot message = snapshotMessage(1, 2);
        CountDownLatch halfway = new CountDownLatch(1);
        SnapshotReader stalling = new BytesSnapshotReader(message.snapshot(), image) {
            @Override
            public byte[] chunk(long offset, int maxBytes) throws IOException {
                if (offset >= image.length / 2) {
                    halfway.countDown();
                    try {
                        // Stands for a slow disk; released by the sender's shutdown (interrupt).
                        new CountDownLatch(1).await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    }
                }
                return super.chunk(offset, maxBytes);
            }
        };

        CompletableFuture<Void> first = t1.sendSnapshot(message, stalling);
        assertTrue(halfway.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS));
        await().atMost(PATIENCE).until(() -> !two.writers.isEmpty());
        t1.close(); // the leader crashes mid-transfer

        MemorySnapshotWriter broken = two.writers.get(0);
        assertTrue(broken.ended.await(PATIENCE.toMillis(), TimeUnit.MILLISECONDS) && broken.aborted,
                "the receiver kept a half-received snapshot");
        assertThrows(ExecutionException.class, () -> first.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS));

        GrpcTransport again = net.start(1, net.create(1, b -> b), new Inbox());
        again.sendSnapshot(message, new BytesSnapshotReader(message.snapshot(), image))
                .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertEquals(List.of(message), two.received);
        assertTrue(java.util.Arrays.equals(image, two.writers.get(1).bytes.toByteArray()));
        assertTrue(t2.peers().contains(1L));
    }

    /** A writer whose disk fills up after {@code limit} bytes. */
    static final class FailingWriter extends MemorySnapshotWriter {
        private final long limit;

        FailingWriter(SnapshotMeta meta, long limit) {
            super(meta);
            this.limit = limit;
        }

        @Override
        public OutputStream output() {
            OutputStream real = super.output();
            return new OutputStream() {
                long written;

                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (written + len > limit) {
                        throw new IOException("disk full");
                    }
                    written += len;
                    real.write(b, off, len);
                }
            };
        }
    }
}
