package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.core.SnapshotSource;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Snapshot source PEERS under the simulator's faults (cut transfers, crashes, partitions): the
 * leader has up-to-date peers stream lagging nodes their snapshots; such transfers happen, some
 * fall back to the leader (the peer crashed, was cut off or had no snapshot that far), and the
 * safety checks and linearizability hold throughout.
 */
class PeerSnapshotSimTest {

    /** "to F from P …" in the leader's delegation and timeout events. */
    private static final Pattern TO_FROM = Pattern.compile("^to (\\d+) from (\\d+) ");

    @Test
    void followersSourceSnapshotsAndTheLeaderFallsBackWhenThePeerFails() {
        SimOptions base = SimOptions.defaults(0).withNodes(5)
                .withFaults(EnumSet.of(Fault.SNAPSHOT, Fault.CRASH, Fault.PARTITION))
                .withSnapshotSource(SnapshotSource.PEERS).withTrace(true);
        long delegated = 0;
        long fromPeer = 0;
        long fallbacks = 0;
        long crashedPeerFallbacks = 0;
        for (long seed = 1; seed <= 4; seed++) {
            SimResult r = Simulator.run(base.withSeed(seed));
            assertTrue(r.ok(), r.summary() + " " + r.violations() + "\n  replay: " + r.options().replayCommand());
            // Per follower: the peer last asked to stream it a snapshot, and whether that peer crashed since.
            Map<Long, Long> askedPeer = new HashMap<>();
            Map<Long, Boolean> peerCrashed = new HashMap<>();
            for (TraceEvent e : r.trace()) {
                Matcher m = TO_FROM.matcher(e.detail());
                switch (e.kind()) {
                    case "snapshot-delegated" -> {
                        delegated++;
                        if (m.find()) {
                            askedPeer.put(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
                            peerCrashed.put(Long.parseLong(m.group(1)), false);
                        }
                    }
                    case "crash" -> askedPeer.forEach((follower, peer) -> {
                        if (peer == e.node()) {
                            peerCrashed.put(follower, true);
                        }
                    });
                    case "snapshot-from-peer" -> fromPeer++;
                    case "snapshot-peer-timeout" -> {
                        fallbacks++;
                        if (m.find() && peerCrashed.getOrDefault(Long.parseLong(m.group(1)), false)) {
                            crashedPeerFallbacks++;
                        }
                    }
                    default -> { }
                }
            }
        }
        System.out.printf("peer snapshots: %d delegated, %d installed from a peer, %d fell back to the leader (%d after"
                + " the peer crashed mid-transfer)%n", delegated, fromPeer, fallbacks, crashedPeerFallbacks);
        assertTrue(fromPeer > 0, "no snapshot was installed from a peer (" + delegated + " delegated)");
        assertTrue(fallbacks > 0, "no peer transfer fell back to the leader");
        assertTrue(crashedPeerFallbacks > 0, "no fallback after the chosen peer crashed mid-transfer");
    }
}
