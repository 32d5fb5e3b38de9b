package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Snapshot transfers under the simulator's faults: with {@link Fault#SNAPSHOT} the simulated
 * transport cuts transfers at random chunks (with crashes and partitions on as well); the safety
 * checks and linearizability hold, cut transfers happen and resume from the receiver's last
 * verified chunk, and each resumed transfer re-sends less than a whole image.
 */
class SnapshotResumeSimTest {

    private static final Pattern RESUMED = Pattern.compile("sent=(\\d+) resent=(\\d+) size=(\\d+)");

    @Test
    void transfersCutAtRandomChunksResumeAndEverySafetyPropertyHolds() {
        SimOptions base = SimOptions.defaults(0).withFaults(EnumSet.of(Fault.SNAPSHOT, Fault.CRASH, Fault.PARTITION))
                .withTrace(true);
        long cuts = 0;
        long resumed = 0;
        long resentBytes = 0;
        long imageBytes = 0;
        for (long seed = 1; seed <= 8; seed++) {
            SimResult r = Simulator.run(base.withSeed(seed));
            assertTrue(r.ok(), r.summary() + " " + r.violations() + "\n  replay: " + r.options().replayCommand());
            for (TraceEvent e : r.trace()) {
                if (e.kind().equals("snapshot-cut")) {
                    cuts++;
                } else if (e.kind().equals("snapshot-resumed")) {
                    Matcher m = RESUMED.matcher(e.detail());
                    assertTrue(m.find(), e.detail());
                    long resent = Long.parseLong(m.group(2));
                    long size = Long.parseLong(m.group(3));
                    assertTrue(resent < size, "seed " + seed + ": a resumed transfer re-sent " + resent
                            + " bytes of a " + size + "-byte image: " + e.detail());
                    resumed++;
                    resentBytes += resent;
                    imageBytes += size;
                }
            }
        }
        System.out.printf("snapshot transfers: %d cut, %d resumed; %d bytes re-sent for %d bytes of images delivered%n",
                cuts, resumed, resentBytes, imageBytes);
        assertTrue(cuts > 0, "no transfer was cut");
        assertTrue(resumed > 0, "no transfer resumed");
        assertTrue(resentBytes < imageBytes, "resuming re-sent more than whole images would have");
    }
}
