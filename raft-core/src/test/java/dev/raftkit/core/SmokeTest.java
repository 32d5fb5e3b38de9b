package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.testkit.cluster.TestCluster;
import dev.raftkit.testkit.cluster.TestNode;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void threeNodesElectAndReplicate() {
        TestCluster c = TestCluster.of(3);
        c.node(1).raft().campaign();
        c.stabilize();
        assertEquals(Role.LEADER, c.node(1).raft().role());
        c.node(1).raft().propose("x".getBytes(StandardCharsets.UTF_8));
        c.stabilize();
        for (TestNode n : c.nodes()) {
            System.out.println(n.id() + " " + n.raft() + " applied=" + TestCluster.describe(n.applied()));
        }
        assertEquals(TestCluster.describe(c.node(1).applied()), TestCluster.describe(c.node(2).applied()));
        assertEquals(5, c.node(2).appliedIndex());
    }

    @Test
    void singleNode() {
        TestCluster c = TestCluster.of(1);
        c.node(1).raft().campaign();
        c.stabilize();
        c.node(1).raft().propose("a".getBytes(StandardCharsets.UTF_8));
        c.stabilize();
        assertEquals(3, c.node(1).appliedIndex());
    }
}
