package dev.raftkit.node.cluster;

import static dev.raftkit.testkit.runtime.MapStateMachine.bytes;
import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static dev.raftkit.testkit.runtime.MapStateMachine.string;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException.Reason;
import dev.raftkit.core.RaftException;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.Entry;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.core.log.LogSlice;
import dev.raftkit.core.message.AppendEntries;
import dev.raftkit.core.message.Heartbeat;
import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.grpc.GrpcTestAccess;
import dev.raftkit.grpc.MessageCodec;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.TestCertificates;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.grpc.proto.RaftClientServiceGrpc;
import dev.raftkit.grpc.proto.RaftPeerGrpc;
import dev.raftkit.grpc.proto.SnapshotAck;
import dev.raftkit.grpc.proto.SnapshotChunk;
import dev.raftkit.grpc.proto.SnapshotHeader;
import dev.raftkit.grpc.proto.StatusRequest;
import dev.raftkit.grpc.proto.StreamSummary;
import dev.raftkit.runtime.ServerStatus;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.grpc.util.AdvancedTlsX509KeyManager;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates prove identity and role: node certificates are the only ones the peer port admits,
 * and only under the id they name; admin calls need an admin certificate, or insecure admin on
 * plaintext; certificate files are reloaded without a restart.
 */
class GrpcIdentityTest {

    private static final String CLUSTER = "idc";
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private GrpcCluster cluster;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private TestCertificates startMutualTlsCluster() throws Exception {
        TestCertificates ca = new TestCertificates(dir, "ca");
        cluster = new GrpcCluster(dir, CLUSTER, Set.of(1L, 2L, 3L), id -> {
            try {
                return ca.node(CLUSTER, id);
            } catch (Exception e) {
                throw new IllegalStateException("cannot make a certificate for node " + id, e);
            }
        }, (id, b) -> { }).insecureAdmin(false).clientTls(ca.admin(CLUSTER, "ops"));
        cluster.startAll();
        cluster.awaitLeader();
        cluster.client().submit(put("k", "v0"));
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 1);
        return ca;
    }

    // ------------------------------------------------------------------------------ peer port

    /** Sends {@code messages} on one message stream with {@code cert}; returns how the stream ended. */
    private Status sendOnStream(TlsConfig cert, InetSocketAddress peer, PeerEnvelope... messages) throws Exception {
        ManagedChannel channel = channel(cert, peer);
        CompletableFuture<Status> end = new CompletableFuture<>();
        StreamObserver<PeerEnvelope> out = RaftPeerGrpc.newStub(channel).stream(new StreamObserver<>() {
            @Override
            public void onNext(StreamSummary summary) {
            }

            @Override
            public void onError(Throwable t) {
                end.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                end.complete(Status.OK);
            }
        });
        for (PeerEnvelope e : messages) {
            out.onNext(e);
        }
        out.onCompleted();
        return end.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }

    private ManagedChannel channel(TlsConfig cert, InetSocketAddress target) {
        GrpcTestAccess.Channel channel = GrpcTestAccess.channel(cert, target, "identity-test");
        toClose.add(channel);
        return channel.channel();
    }

    private static void assertRefused(Status.Code code, Status s, String mentions) {
        assertEquals(code, s.getCode(), "status " + s);
        assertTrue(s.getDescription() != null && s.getDescription().contains(mentions), s.getDescription());
        assertTrue(s.getDescription().length() < 1000, "an unbounded refusal: " + s.getDescription().length());
    }

    private void assertAllRunning() {
        for (long id = 1; id <= 3; id++) {
            assertTrue(cluster.node(id).server.status().running(), "node " + id + " stopped");
        }
    }

    @Test
    void aClientCertificateOnThePeerPortCannotSendPeerMessages() throws Exception {
        TestCertificates ca = startMutualTlsCluster();
        GrpcCluster.Node target = cluster.node(1);
        long termBefore = target.server.status().term();
        // A heartbeat with a huge term, as "node 2": if it were delivered, node 1 would adopt that term.
        PeerEnvelope hostile = MessageCodec.encode(CLUSTER, new Heartbeat(2, 1, 1L << 40, 0, 7));

        Status s = sendOnStream(ca.client(CLUSTER, "app"), target.transport.localAddress(), hostile);

        assertRefused(Status.Code.PERMISSION_DENIED, s, "only node certificates");
        assertTrue(target.server.status().term() < 1L << 40, "the client's heartbeat was delivered");
        assertTrue(target.server.status().term() >= termBefore);
        assertAllRunning();
    }

    @Test
    void anAdminCertificateOnThePeerPortCannotSendPeerMessages() throws Exception {
        TestCertificates ca = startMutualTlsCluster();
        PeerEnvelope hostile = MessageCodec.encode(CLUSTER, new Heartbeat(2, 1, 1L << 40, 0, 7));

        Status s = sendOnStream(ca.admin(CLUSTER, "ops"), cluster.node(1).transport.localAddress(), hostile);

        assertRefused(Status.Code.PERMISSION_DENIED, s, "only node certificates");
        assertTrue(cluster.node(1).server.status().term() < 1L << 40, "the admin's heartbeat was delivered");
    }

    @Test
    void nodeThreesCertificateClaimingToBeNodeOneIsRefusedAndTheForgedPutIsAppliedNowhere() throws Exception {
        TestCertificates ca = startMutualTlsCluster();
        long leader = cluster.awaitLeader().id;
        long follower = leader == 1 ? 2 : 1;
        long attacker = 6 - leader - follower; // the third node: a real member, speaking as the leader
        ServerStatus f = cluster.node(follower).server.status();
        // The forged put at last+1, in the leader's term, committed at once: what a follower would apply.
        AppendEntries forged = new AppendEntries(leader, follower, f.term(), new LogSlice(new EntryId(f.term(), f.lastIndex()),
                List.of(Entry.normal(f.term(), f.lastIndex() + 1, put("k", "forged")))), f.lastIndex() + 1);

        Status s = sendOnStream(ca.node(CLUSTER, attacker), cluster.node(follower).transport.localAddress(),
                MessageCodec.encode(CLUSTER, forged));

        assertRefused(Status.Code.PERMISSION_DENIED, s, "claiming to be from node " + leader);
        assertTrue(s.getDescription().contains("raftkit://" + CLUSTER + "/node/" + attacker), s.getDescription());
        cluster.client().submit(put("k", "v1"));
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 2);
        for (long id = 1; id <= 3; id++) {
            assertEquals("v1", string(cluster.node(id).machine.query(bytes("k"))), "node " + id);
        }
        assertAllRunning();
    }

    @Test
    void nodeThreesCertificateCannotSendASnapshotAsNodeOne() throws Exception {
        TestCertificates ca = startMutualTlsCluster();
        long leader = cluster.awaitLeader().id;
        long follower = leader == 1 ? 2 : 1;
        long attacker = 6 - leader - follower;
        InstallSnapshot install = new InstallSnapshot(leader, follower, cluster.node(follower).server.status().term(),
                new SnapshotMeta(new EntryId(2, 1_000_000), ConfState.ofVoters(Set.of(1L, 2L, 3L))));
        ManagedChannel channel = channel(ca.node(CLUSTER, attacker), cluster.node(follower).transport.localAddress());
        CompletableFuture<Status> end = new CompletableFuture<>();
        StreamObserver<SnapshotChunk> out = RaftPeerGrpc.newStub(channel).installSnapshot(new StreamObserver<>() {
            @Override
            public void onNext(SnapshotAck ack) {
            }

            @Override
            public void onError(Throwable t) {
                end.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                end.complete(Status.OK);
            }
        });
        out.onNext(SnapshotChunk.newBuilder().setHeader(SnapshotHeader.newBuilder()
                .setInstallSnapshot(MessageCodec.encode(CLUSTER, install)).setSizeBytes(0).setCrc32C(0)).build());
        out.onCompleted();

        Status s = end.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);

        assertRefused(Status.Code.PERMISSION_DENIED, s, "claiming to be from node " + leader);
        assertTrue(cluster.node(follower).server.status().lastIndex() < 1_000_000, "the forged snapshot was taken");
        cluster.client().submit(put("k", "v1"));
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 2);
        assertAllRunning();
    }

    @Test
    void aNodeCertificateSpeakingAsItselfIsAdmitted() throws Exception {
        TestCertificates ca = startMutualTlsCluster();
        // Node 3's own certificate, as node 3: a plain heartbeat of an old term is admitted (and ignored).
        Status s = sendOnStream(ca.node(CLUSTER, 3), cluster.node(1).transport.localAddress(),
                MessageCodec.encode(CLUSTER, new Heartbeat(3, 1, 1, 0, 9)));
        assertEquals(Status.Code.OK, s.getCode(), "status " + s);
    }

    // ------------------------------------------------------------------------------ client port

    private RaftClient clientWith(TlsConfig tls) {
        RaftClient.Builder b = RaftClient.builder(CLUSTER).timeout(Duration.ofSeconds(10)).tls(tls);
        for (long id = 1; id <= 3; id++) {
            b.node(id, cluster.hostPort(id));
        }
        RaftClient c = b.build();
        toClose.add(c);
        return c;
    }

    @Test
    void aClientCertificateCannotCallAdminRpcs() throws Exception {
        TestCertificates ca = startMutualTlsCluster();
        RaftClient app = clientWith(ca.client(CLUSTER, "app"));
        app.submit(put("k", "by-app")); // client calls are allowed

        RaftException add = assertThrows(RaftException.class, () -> app.addVoter(98));
        assertEquals(Reason.UNAUTHORIZED, add.reason(), add.getMessage());
        assertTrue(add.getMessage().contains("not an admin's"), add.getMessage());
        RaftException remove = assertThrows(RaftException.class, () -> app.remove(3));
        assertEquals(Reason.UNAUTHORIZED, remove.reason(), remove.getMessage());
        long leader = cluster.awaitLeader().id;
        RaftException transfer = assertThrows(RaftException.class,
                () -> app.transferLeadership(leader == 1 ? 2 : 1));
        assertEquals(Reason.UNAUTHORIZED, transfer.reason(), transfer.getMessage());

        assertEquals(Set.of(1L, 2L, 3L), cluster.node(leader).server.status().conf().voters());
        assertEquals(leader, cluster.awaitLeader().id);
        assertAllRunning();
    }

    @Test
    void aNodeCertificateCannotCallAdminRpcs() throws Exception {
        TestCertificates ca = startMutualTlsCluster();
        RaftClient asNode = clientWith(ca.node(CLUSTER, 3));
        asNode.submit(put("k", "by-node")); // a node may make client calls

        RaftException add = assertThrows(RaftException.class, () -> asNode.addVoter(99));
        assertEquals(Reason.UNAUTHORIZED, add.reason(), add.getMessage());
        assertEquals(Set.of(1L, 2L, 3L), cluster.awaitLeader().server.status().conf().voters());
    }

    @Test
    void anAdminCertificateCanDoAdminWork() throws Exception {
        TestCertificates ca = startMutualTlsCluster();
        RaftClient ops = clientWith(ca.admin(CLUSTER, "ops"));
        long leader = cluster.awaitLeader().id;
        long next = leader == 1 ? 2 : 1;

        ops.transferLeadership(next);
        await().atMost(PATIENCE).until(() -> cluster.awaitLeader().id == next);
        cluster.start(4);
        ops.setNode(4, cluster.hostPort(4));
        ops.addLearner(4);
        ops.submit(put("k", "after"));
        cluster.awaitSameState(Set.of(1L, 2L, 3L, 4L), 2);
        ops.remove(4);
        await().atMost(PATIENCE).until(() -> !cluster.awaitLeader().server.status().conf().learners().contains(4L));
    }

    @Test
    void aCertificateOfAnotherClusterIsRefused() throws Exception {
        TestCertificates ca = startMutualTlsCluster();
        RaftClient other = clientWith(ca.admin("other-cluster", "ops"));

        RaftException e = assertThrows(RaftException.class, () -> other.status(1));
        assertEquals(Reason.UNAUTHORIZED, e.reason(), e.getMessage());
        assertTrue(e.getMessage().contains("another cluster"), e.getMessage());
        Status peer = sendOnStream(ca.node("other-cluster", 2), cluster.node(1).transport.localAddress(),
                MessageCodec.encode(CLUSTER, new Heartbeat(2, 1, 1L << 40, 0, 7)));
        assertRefused(Status.Code.PERMISSION_DENIED, peer, "another cluster");
    }

    @Test
    void aCertificateWithoutExactlyOneIdentityIsRefused() throws Exception {
        TestCertificates ca = startMutualTlsCluster();
        TlsConfig none = ca.issue("no-identity");
        TlsConfig two = ca.issue("two-identities", "raftkit://" + CLUSTER + "/admin/ops", "raftkit://" + CLUSTER + "/node/1");
        TlsConfig malformed = ca.issue("malformed", "raftkit://" + CLUSTER + "/root/x");

        for (TlsConfig cert : List.of(none, two, malformed)) {
            ManagedChannel c = channel(cert, new InetSocketAddress("127.0.0.1", cluster.node(1).endpoint.address().getPort()));
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> RaftClientServiceGrpc
                    .newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .status(StatusRequest.newBuilder().setClusterId(CLUSTER).build()));
            assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode(), e.getStatus().toString());
            Status peer = sendOnStream(cert, cluster.node(1).transport.localAddress(),
                    MessageCodec.encode(CLUSTER, new Heartbeat(2, 1, 1L << 40, 0, 7)));
            assertEquals(Status.Code.UNAUTHENTICATED, peer.getCode(), peer.toString());
        }
        assertTrue(cluster.node(1).server.status().term() < 1L << 40);
        assertAllRunning();
    }

    // ------------------------------------------------------------------------------ plaintext

    @Test
    void plaintextAdminRpcsAreRefusedWithoutInsecureAdmin() {
        cluster = new GrpcCluster(dir, CLUSTER, Set.of(1L, 2L, 3L), id -> null, (id, b) -> { }).insecureAdmin(false);
        cluster.startAll();
        long leader = cluster.awaitLeader().id;
        RaftClient c = cluster.client();
        c.submit(put("k", "v")); // client calls need no certificate

        RaftException add = assertThrows(RaftException.class, () -> c.addVoter(98));
        assertEquals(Reason.UNAUTHORIZED, add.reason(), add.getMessage());
        assertTrue(add.getMessage().contains("--insecure-admin"), add.getMessage());
        RaftException transfer = assertThrows(RaftException.class,
                () -> c.transferLeadership(leader == 1 ? 2 : 1));
        assertEquals(Reason.UNAUTHORIZED, transfer.reason(), transfer.getMessage());
        assertEquals(Set.of(1L, 2L, 3L), cluster.node(leader).server.status().conf().voters());
    }

    @Test
    void plaintextAdminRpcsAreAllowedWithInsecureAdmin() {
        cluster = new GrpcCluster(dir, CLUSTER, Set.of(1L, 2L, 3L), id -> null, (id, b) -> { }).insecureAdmin(true);
        cluster.startAll();
        cluster.awaitLeader();
        cluster.start(4);
        RaftClient c = cluster.client();
        c.addLearner(4);
        c.submit(put("k", "v"));
        cluster.awaitSameState(Set.of(1L, 2L, 3L, 4L), 1);
    }

    // ------------------------------------------------------------------------------ reload

    /** The serial number of the certificate node {@code port}'s server presents to a new connection. */
    private static BigInteger servedSerial(TlsConfig client, int port) throws Exception {
        AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
        keys.updateIdentityCredentials(client.certChain().toFile(), client.privateKey().toFile());
        AtomicReference<X509Certificate> seen = new AtomicReference<>();
        TrustManager capture = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                seen.set(chain[0]);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(new javax.net.ssl.KeyManager[] {keys}, new TrustManager[] {capture}, null);
        try (SSLSocket s = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", port)) {
            SSLParameters p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {"h2"});
            s.setSSLParameters(p);
            s.setSoTimeout(10_000);
            s.startHandshake();
        }
        return seen.get().getSerialNumber();
    }

    private static BigInteger fileSerial(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)).getSerialNumber();
        }
    }

    @Test
    void aNodesReplacedCertificateIsUsedByNewConnectionsWithoutARestart() throws Exception {
        TestCertificates ca = new TestCertificates(dir, "ca");
        cluster = new GrpcCluster(dir, CLUSTER, Set.of(1L, 2L, 3L), id -> {
            try {
                return ca.node(CLUSTER, id).withReloadPeriod(Duration.ofMillis(200));
            } catch (Exception e) {
                throw new IllegalStateException("cannot make a certificate for node " + id, e);
            }
        }, (id, b) -> { }).insecureAdmin(false).clientTls(ca.admin(CLUSTER, "ops"));
        cluster.startAll();
        cluster.awaitLeader();
        TlsConfig probe = ca.client(CLUSTER, "probe");
        int clientPort = cluster.node(1).endpoint.address().getPort();
        int peerPort = cluster.node(1).transport.localAddress().getPort();
        BigInteger before = fileSerial(dir.resolve("ca").resolve("node-1.pem"));
        assertEquals(before, servedSerial(probe, clientPort));

        TlsConfig renewed = ca.node(CLUSTER, 1); // same files, new key and certificate
        BigInteger after = fileSerial(renewed.certChain());
        assertNotEquals(before, after);

        await().atMost(PATIENCE).pollInterval(Duration.ofMillis(100))
                .until(() -> after.equals(servedSerial(probe, clientPort)) && after.equals(servedSerial(probe, peerPort)));
        // The cluster still works with the renewed certificate, node 1 included.
        cluster.client().submit(put("k", "renewed"));
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 1);
    }
}
