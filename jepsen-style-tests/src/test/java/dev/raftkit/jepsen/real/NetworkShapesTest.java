package dev.raftkit.jepsen.real;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Partition shapes against their definitions, checked by brute force over every drawn victim. */
class NetworkShapesTest {

    private static final List<Long> FIVE = List.of(1L, 2L, 3L, 4L, 5L);

    private static Set<Long> hears(long node, Network.Partition p, List<Long> nodes) {
        return nodes.stream().filter(o -> o != node && !p.cut().contains(new Network.Link(o, node)))
                .collect(Collectors.toSet());
    }

    @Test
    void inARingEveryNodeHearsExactlyItsTwoNeighbours() {
        for (int seed = 0; seed < 50; seed++) {
            Network.Partition p = Network.draw("ring", FIVE, 0, new Random(seed));
            for (long n : FIVE) {
                assertEquals(2, hears(n, p, FIVE).size(), p + " node " + n);
            }
        }
    }

    @Test
    void anIsolatedNodeHearsNobodyAndNobodyHearsIt() {
        for (int seed = 0; seed < 50; seed++) {
            Network.Partition p = Network.draw("isolated", FIVE, 3, new Random(seed));
            long isolated = FIVE.stream().filter(n -> hears(n, p, FIVE).isEmpty()).findFirst().orElseThrow();
            assertEquals(8, p.cut().size(), p.toString());
            FIVE.stream().filter(n -> n != isolated).forEach(n -> assertEquals(3, hears(n, p, FIVE).size()));
        }
    }

    @Test
    void majorityMinoritySplitsTwoFromThreeBothWays() {
        Network.Partition p = Network.draw("majority-minority", FIVE, 0, new Random(7));
        assertEquals(2 * 2 * 3, p.cut().size());
        long minorityCount = FIVE.stream().filter(n -> hears(n, p, FIVE).size() == 1).count();
        assertEquals(2, minorityCount, p.toString());
    }

    @Test
    void theBridgeHearsEveryoneWhileTheHalvesDoNotHearEachOther() {
        Network.Partition p = Network.draw("bridge", FIVE, 0, new Random(11));
        List<Long> bridges = FIVE.stream().filter(n -> hears(n, p, FIVE).size() == 4).toList();
        assertEquals(1, bridges.size(), p.toString());
        FIVE.stream().filter(n -> !bridges.contains(n)).forEach(n -> assertEquals(2, hears(n, p, FIVE).size()));
    }

    @Test
    void oneWayCutsOnlyTheVictimsOutgoingLinks() {
        Network.Partition p = Network.draw("one-way", FIVE, 2, new Random(5));
        assertEquals(4, p.cut().size());
        long victim = p.cut().iterator().next().from();
        assertTrue(p.cut().stream().allMatch(l -> l.from() == victim));
        assertEquals(4, hears(victim, p, FIVE).size(), "the victim still hears everyone");
        assertFalse(FIVE.stream().filter(n -> n != victim).anyMatch(n -> hears(n, p, FIVE).contains(victim)));
    }
}
