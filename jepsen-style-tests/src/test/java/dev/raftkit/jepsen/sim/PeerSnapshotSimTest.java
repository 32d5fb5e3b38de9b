package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotSource;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/**
 * Snapshot source PEERS under the simulator's faults (cut transfers, crashes, partitions): the
 * leader has up-to-date peers stream lagging nodes their snapshots; such transfers happen, some
 * fall back to the leader (the peer crashed, was cut off or had no snapshot that far), and the
 * safety checks and linearizability hold throughout.
 */
class PeerSnapshotSimTest {

    @Test
    void followersSourceSnapshotsAndTheLeaderFallsBackWhenThePeerFails() {
        SimOptions base = SimOptions.defaults(0).withNodes(5)
                .withFaults(EnumSet.of(Fault.SNAPSHOT, Fault.CRASH, Fault.PARTITION))
                .withSnapshotSource(SnapshotSource.PEERS).withTrace(true);
        long delegated = 0;
        long fromPeer = 0;
        long fallbacks = 0;
        for (long seed = 1; seed <= 4; seed++) {
            SimResult r = Simulator.run(base.withSeed(seed));
            assertTrue(r.ok(), r.summary() + " " + r.violations() + "\n  replay: " + r.options().replayCommand());
            for (TraceEvent e : r.trace()) {
                switch (e.kind()) {
                    case "snapshot-delegated" -> delegated++;
                    case "snapshot-from-peer" -> fromPeer++;
                    case "snapshot-peer-timeout" -> fallbacks++;
                    default -> { }
                }
            }
        }
        System.out.printf("peer snapshots: %d delegated, %d installed from a peer, %d fell back to the leader%n",
                delegated, fromPeer, fallbacks);
        assertTrue(fromPeer > 0, "no snapshot was installed from a peer (" + delegated + " delegated)");
        assertTrue(fallbacks > 0, "no peer transfer fell back to the leader");
    }
}
