package dev.raftkit.node.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.testkit.runtime.MapStateMachine;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stateful hostile test on a live 3-node cluster over its real gRPC peer ports (plaintext):
 * while a client writes, an attacker sends seeded sequences of valid-looking messages of every
 * kind that a node must refuse whoever sends them: from ids that are not members, in the wrong
 * cluster, addressed to another node, malformed (self-addressed, sender 0, terms above 2^63, no
 * body, gaps, entries above the term, no prev), and snapshot transfers that are broken (corrupt,
 * gapped or reordered chunks, wrong trailers, a second header, no trailer, cancelled). Their terms
 * are far above the cluster's and their entries set a key no client writes, so any effect shows.
 *
 * <p>Afterwards: every node runs, no term reached the attacker's, no snapshot was installed, the
 * attacker's key is on no node, all replicas applied the same commands (same count and digest),
 * every acknowledged write is there, and the cluster still elects a new leader and serves.
 *
 * <p>{@code -Dhostile.seed=S} replays another run, {@code -Dhostile.millis=N} attacks longer
 * (default 5,000 ms, about 15 s in all).
 */
class HostileOutsiderClusterTest {

    static final long SEED = Long.getLong("hostile.seed", 20261203L);
    static final long ATTACK_MILLIS = Long.getLong("hostile.millis", 5_000L);
    static final String CLUSTER = "hostile";

    @TempDir
    Path dir;
    GrpcCluster cluster;
    HostilePeer attacker;

    @AfterEach
    void stop() {
        if (attacker != null) {
            attacker.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** One episode of messages no node may act on. */
    static void episode(Random rnd, HostilePeer attacker, List<Long> nodes, long nearIndex) {
        long to = nodes.get(rnd.nextInt(nodes.size()));
        long member = nodes.get(rnd.nextInt(nodes.size()));
        if (member == to) {
            member = nodes.get((nodes.indexOf(to) + 1) % nodes.size());
        }
        long[] outsiders = {4, 5, 99, 1L << 40, Long.MAX_VALUE};
        long term = HostilePeer.HOSTILE_TERM + rnd.nextInt(1000);
        int kind = rnd.nextInt(6);
        List<PeerEnvelope> stream = new ArrayList<>();
        for (int i = 0, n = 1 + rnd.nextInt(8); i < n; i++) {
            PeerEnvelope e = switch (kind) {
                // Not a member (and not a configured peer).
                case 0 -> HostilePeer.envelope(rnd, CLUSTER, outsiders[rnd.nextInt(outsiders.length)], to, term, nearIndex);
                // A member's id, another cluster.
                case 1 -> HostilePeer.envelope(rnd, rnd.nextBoolean() ? "other" : CLUSTER + "-2", member, to, term,
                        nearIndex);
                // A member's id, addressed to another node.
                case 2 -> HostilePeer.envelope(rnd, CLUSTER, member, 40 + rnd.nextInt(3), term, nearIndex);
                // A member's id, malformed.
                default -> HostilePeer.malformed(rnd, HostilePeer.envelope(rnd, CLUSTER, member, to, term, nearIndex));
            };
            stream.add(e);
        }
        if (kind >= 4) {
            // A broken snapshot transfer, which never completes correctly: its header is anything
            // (kind 4), or a well-formed InstallSnapshot under a member's id (kind 5), so that the
            // chunk checks behind the header are what refuses it.
            PeerEnvelope header = kind == 5 ? installSnapshot(rnd, member, to, term)
                    : rnd.nextBoolean() ? stream.get(0)
                    : HostilePeer.envelope(rnd, CLUSTER, outsiders[rnd.nextInt(outsiders.length)], to, term, nearIndex);
            attacker.snapshot(to, HostilePeer.brokenTransfer(rnd, header), rnd.nextInt(4) != 0);
        } else {
            attacker.stream(to, stream);
        }
    }

    static PeerEnvelope installSnapshot(Random rnd, long from, long to, long term) {
        PeerEnvelope e;
        do {
            e = HostilePeer.envelope(rnd, CLUSTER, from, to, term, 0);
        } while (e.getBodyCase() != PeerEnvelope.BodyCase.INSTALL_SNAPSHOT);
        return e;
    }

    @Test
    void outsidersOtherClustersMisaddressedMalformedAndBrokenSnapshotsChangeNothing() throws Exception {
        cluster = new GrpcCluster(dir, CLUSTER, Set.of(1L, 2L, 3L), id -> null, (id, b) -> { }).startAll();
        cluster.awaitLeader();
        Map<Long, InetSocketAddress> peers = new TreeMap<>();
        for (GrpcCluster.Node n : cluster.running()) {
            peers.put(n.id, n.transport.localAddress());
        }
        attacker = new HostilePeer(peers);
        RaftClient client = cluster.client();

        Set<Integer> acked = ConcurrentHashMap.newKeySet();
        AtomicBoolean stopWriting = new AtomicBoolean();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            for (int i = 0; !stopWriting.get(); i++) {
                try {
                    client.submit(MapStateMachine.put("k" + i, "v" + i));
                    acked.add(i);
                } catch (RaftException e) {
                    // Outcome unknown: not acknowledged, so not required to be there.
                }
            }
        });

        Random rnd = new Random(SEED);
        List<Long> nodes = new ArrayList<>(peers.keySet());
        long deadline = System.nanoTime() + ATTACK_MILLIS * 1_000_000;
        while (System.nanoTime() < deadline) {
            long nearIndex = cluster.running().get(0).server.status().lastIndex();
            episode(rnd, attacker, nodes, nearIndex);
        }
        stopWriting.set(true);
        writer.get();
        System.out.println("hostile outsiders (seed " + SEED + "): " + attacker.summary() + "; " + acked.size()
                + " writes acknowledged meanwhile");

        for (GrpcCluster.Node n : cluster.running()) {
            assertTrue(n.server.status().running(), "node " + n.id + " still runs");
            assertTrue(n.server.status().term() < HostilePeer.HOSTILE_TERM,
                    "node " + n.id + " adopted an attacker's term: " + n.server.status().term());
            assertEquals(0, n.snapshotsInstalled.get(), "node " + n.id + " installed a snapshot nobody sent");
        }
        assertTrue(acked.size() > 0, "the client wrote while under attack");
        awaitAgreementWithAllAcknowledged(cluster, acked);

        // The cluster still elects and serves.
        long oldLeader = cluster.awaitLeader().id;
        cluster.kill(oldLeader);
        GrpcCluster.Node newLeader = cluster.awaitLeader();
        assertTrue(newLeader.id != oldLeader);
        client.submit(MapStateMachine.put("after", "attack"));
        assertEquals("attack", MapStateMachine.string(client.read(MapStateMachine.bytes("after"),
                dev.raftkit.core.ReadMode.LINEARIZABLE)));
    }

    /** Same applied state on every running node, the attacker's key nowhere, every acknowledged write present. */
    static void awaitAgreementWithAllAcknowledged(GrpcCluster cluster, Set<Integer> acked) {
        Set<Long> ids = new java.util.TreeSet<>();
        cluster.running().forEach(n -> ids.add(n.id));
        cluster.awaitSameState(ids, acked.size());
        // Quiet now: the writer stopped, so the machines can be read from here once they agree.
        await().atMost(GrpcCluster.PATIENCE).until(() -> {
            long c = -1;
            for (GrpcCluster.Node n : cluster.running()) {
                long count = n.machine.appliedCount();
                if (c >= 0 && count != c) {
                    return false;
                }
                c = count;
            }
            return true;
        });
        for (GrpcCluster.Node n : cluster.running()) {
            assertEquals(0, n.machine.query(MapStateMachine.bytes(HostilePeer.EVIL_KEY)).length,
                    "node " + n.id + " applied an attacker's entry");
            List<Integer> missing = new ArrayList<>();
            for (int i : acked) {
                if (!("v" + i).equals(MapStateMachine.string(n.machine.query(MapStateMachine.bytes("k" + i))))) {
                    missing.add(i);
                }
            }
            assertTrue(missing.isEmpty(), "node " + n.id + " lost acknowledged writes " + missing);
        }
    }
}
