package dev.raftkit.node.cluster;

import static dev.raftkit.testkit.runtime.MapStateMachine.put;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.TestCertificates;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Clusters that must keep intruders out: mutual TLS, and cluster ids. */
class GrpcSecureClusterTest {

    @TempDir
    Path dir;

    private GrpcCluster cluster;

    @AfterEach
    void close() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Adds node 4 as a learner, commits 200 commands, and checks node 4 got none of them. */
    private void expectNodeFourLockedOut() {
        RaftClient client = cluster.client();
        client.setNode(4, cluster.hostPort(4));
        client.addLearner(4); // commits: a learner does not count towards the quorum
        for (int i = 0; i < 200; i++) {
            client.submit(put("k" + i, "v" + i));
        }
        cluster.awaitSameState(Set.of(1L, 2L, 3L), 200);
        // Two hundred commits took many heartbeat rounds, each of which node 4 would have received.
        assertEquals(0, cluster.node(4).machine.appliedCount(), "the locked-out node received the log");
        assertEquals(0, cluster.node(4).server.status().commit(), "the locked-out node heard of a commit");
    }

    @Test
    void aMutualTlsClusterWorksAndANodeWithoutTheClustersCertificateCannotJoin() throws Exception {
        TestCertificates ca = new TestCertificates(dir, "cluster");
        TestCertificates rogue = new TestCertificates(dir, "rogue");
        cluster = new GrpcCluster(dir, "secure", Set.of(1L, 2L, 3L), id -> {
            try {
                return id == 4 ? rogue.node("secure", 4) : ca.node("secure", id);
            } catch (Exception e) {
                throw new IllegalStateException("cannot make a certificate for node " + id, e);
            }
        }, (id, b) -> { });
        // Adding a learner is an admin call: it needs an admin certificate.
        cluster.clientTls(ca.admin("secure", "ops"));
        cluster.startAll();
        cluster.awaitLeader();
        cluster.start(4);

        expectNodeFourLockedOut();
    }

    @Test
    void aNodeConfiguredWithAnotherClusterIdCannotJoin() {
        cluster = new GrpcCluster(dir, "ours", Set.of(1L, 2L, 3L), id -> null, (id, b) -> { });
        cluster.startAll();
        cluster.awaitLeader();
        cluster.start(4, "theirs");

        expectNodeFourLockedOut();
    }
}
