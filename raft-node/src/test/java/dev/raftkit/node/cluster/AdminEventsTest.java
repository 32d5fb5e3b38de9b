package dev.raftkit.node.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.TestCertificates;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.node.HostPort;
import dev.raftkit.runtime.ProtocolEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin service's {@code Events} stream: a node's live protocol events, for admins only. */
class AdminEventsTest {

    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final String CLUSTER = "events";

    @TempDir
    Path dir;

    private GrpcCluster cluster;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close(); // streams before their clients
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private AdminClient admin(long id, TlsConfig tls) {
        AdminClient a = new AdminClient(HostPort.parse(cluster.hostPort(id), "node address"), tls);
        toClose.add(a);
        return a;
    }

    private List<ProtocolEvent> follow(AdminClient admin, long sinceMicros) {
        List<ProtocolEvent> seen = new CopyOnWriteArrayList<>();
        toClose.add(admin.events(CLUSTER, sinceMicros, seen::add));
        return seen;
    }

    @Test
    void theStreamDeliversTheEventsOfALeadershipTransferInOrder() {
        long started = System.currentTimeMillis() * 1000;
        cluster = new GrpcCluster(dir, CLUSTER, Set.of(1L, 2L, 3L), id -> null, (id, b) -> { });
        cluster.startAll();
        // Since the test began: whether a subscription reaches the node before or after the
        // transfer, it gets the transfer's events once (from the node's recent events, or live).
        List<List<ProtocolEvent>> streams = new ArrayList<>();
        for (long id = 1; id <= 3; id++) {
            streams.add(follow(admin(id, null), started));
        }
        // On a loaded machine an election may overtake a transfer (the nodes start one by one):
        // then the transfer is asked again, of the leader then, until one hands over.
        long leader = 0;
        long next = 0;
        long term = 0;
        int timeoutNow = -1;
        List<ProtocolEvent> fromNext = null;
        for (int attempt = 0; attempt < 3 && timeoutNow < 0; attempt++) {
            leader = cluster.awaitLeader().id;
            long to = leader == 1 ? 2 : 1;
            next = to;
            cluster.client().transferLeadership(to);
            await().atMost(PATIENCE).until(() -> cluster.awaitLeader().id == to);
            term = cluster.node(next).server.status().term();
            fromNext = streams.get((int) next - 1);
            long t = term;
            List<ProtocolEvent> s = fromNext;
            await().atMost(PATIENCE).until(() -> index(s, "role", "leader in term " + t) >= 0);
            timeoutNow = index(fromNext, "timeout-now", "from " + leader + " in term " + (term - 1));
        }
        assertTrue(timeoutNow >= 0, "no transfer handed over in 3 attempts: " + fromNext);
        List<ProtocolEvent> fromLeader = streams.get((int) leader - 1);
        int candidate = index(fromNext, "role", "candidate in term " + term);
        int led = index(fromNext, "role", "leader in term " + term);
        assertTrue(timeoutNow < candidate && candidate < led, fromNext.toString());
        ProtocolEvent e = fromNext.get(led);
        assertEquals(next, e.node());
        assertEquals(term, e.term());
        assertTrue(e.timeMicros() >= started, e.toString());

        long t = term;
        await().atMost(PATIENCE).until(() -> fromLeader.stream().anyMatch(x -> x.kind().equals("role")
                && x.detail().startsWith("follower in term " + t)));
        int transfer = -1;
        for (int i = 0; i < fromLeader.size(); i++) {
            if (fromLeader.get(i).kind().equals("transfer-started") && fromLeader.get(i).detail().equals("to " + next)) {
                transfer = i; // the last one: the transfer that handed over
            }
        }
        int followed = -1;
        for (int i = 0; i < fromLeader.size(); i++) {
            if (fromLeader.get(i).kind().equals("role") && fromLeader.get(i).detail().startsWith("follower in term " + term)) {
                followed = i;
                break;
            }
        }
        assertTrue(transfer >= 0 && transfer < followed, fromLeader.toString());
        assertEquals(leader, fromLeader.get(transfer).node());
        assertEquals(term - 1, fromLeader.get(transfer).term());

        // A later subscriber asking for the recent past gets the same events from the node's memory.
        List<ProtocolEvent> replayed = follow(admin(next, null), started);
        await().atMost(PATIENCE).until(() -> index(replayed, "role", "leader in term " + t) >= 0);
        assertEquals(fromNext.subList(0, led + 1), replayed.subList(0, led + 1));
    }

    @Test
    void onMutualTlsOnlyAnAdminMayFollowTheEvents() throws Exception {
        TestCertificates ca = new TestCertificates(dir, "ca");
        cluster = new GrpcCluster(dir, CLUSTER, Set.of(1L, 2L, 3L), id -> {
            try {
                return ca.node(CLUSTER, id);
            } catch (Exception e) {
                throw new IllegalStateException("cannot make a certificate for node " + id, e);
            }
        }, (id, b) -> { }).insecureAdmin(false).clientTls(ca.admin(CLUSTER, "ops"));
        cluster.startAll();
        long leader = cluster.awaitLeader().id;

        for (TlsConfig notAdmin : List.of(ca.client(CLUSTER, "app"), ca.node(CLUSTER, 3))) {
            AdminClient.EventStream refused = admin(leader, notAdmin).events(CLUSTER, 1, e -> { });
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> refused.done().get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
            RaftException r = assertInstanceOf(RaftException.class, failed.getCause());
            assertEquals(RaftException.Reason.UNAUTHORIZED, r.reason(), r.getMessage());
        }

        // An admin gets the node's recent events (its election, at least) at once.
        List<ProtocolEvent> seen = follow(admin(leader, ca.admin(CLUSTER, "ops")), 1);
        await().atMost(PATIENCE).until(() -> seen.stream().anyMatch(e -> e.kind().equals("role")
                && e.detail().startsWith("leader in term ")));

        AdminClient.EventStream wrong = admin(leader, ca.admin(CLUSTER, "ops")).events("other", 0, e -> { });
        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> wrong.done().get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
        assertEquals(RaftException.Reason.WRONG_CLUSTER, ((RaftException) failed.getCause()).reason());
    }

    private static int index(List<ProtocolEvent> events, String kind, String detail) {
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).kind().equals(kind) && events.get(i).detail().equals(detail)) {
                return i;
            }
        }
        return -1;
    }
}
