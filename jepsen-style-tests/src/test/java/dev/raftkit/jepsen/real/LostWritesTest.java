package dev.raftkit.jepsen.real;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.raftkit.jepsen.history.History;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lost-write count on histories with known answers, including ones it must not blame. */
class LostWritesTest {

    private static final int FINAL = ClientWorkload.FINAL_PROCESS;

    @Test
    void aWriteAcknowledgedAfterTheFinalValueWasWrittenIsLost() {
        History h = History.builder()
                .write(0, "k", "a", 0, 10)
                .write(1, "k", "b", 20, 30)      // strictly after a, acknowledged
                .read(FINAL, "k", "a", 100, 110)  // yet a is what remains
                .build();
        List<?> lost = LostWrites.find(h);
        assertEquals(1, lost.size(), lost.toString());
    }

    @Test
    void concurrentWritesAreNotBlamed() {
        History h = History.builder()
                .write(0, "k", "a", 0, 30)
                .write(1, "k", "b", 10, 20)       // overlaps a: either order is fine
                .read(FINAL, "k", "a", 100, 110)
                .build();
        assertEquals(0, LostWrites.find(h).size());
    }

    @Test
    void anAbsentFinalValueLosesEveryAcknowledgedWrite() {
        History h = History.builder()
                .write(0, "k", "a", 0, 10)
                .cas(1, "k", "a", "b", true, 20, 30)
                .cas(2, "k", "zzz", "c", false, 40, 50) // did not swap: nothing to lose
                .read(FINAL, "k", null, 100, 110)
                .build();
        assertEquals(2, LostWrites.find(h).size());
    }

    @Test
    void theLatestWriteSurvivingIsNoLoss() {
        History h = History.builder()
                .write(0, "k", "a", 0, 10)
                .write(1, "k", "b", 20, 30)
                .read(FINAL, "k", "b", 100, 110)
                .build();
        assertEquals(0, LostWrites.find(h).size());
    }
}
