package dev.raftkit.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class LatencyRecordingTest {

    @Test
    void percentilesOfAUniformDistributionAreWhereTheyShouldBe() {
        LatencyRecording r = new LatencyRecording();
        // 1 µs, 2 µs, ... 100 ms: uniform, so percentile p is p % of 100 ms.
        for (long i = 1; i <= 100_000; i++) {
            r.record(i * 1_000);
        }
        r.nextSecond();
        r.finish();
        Histogram h = r.total();
        assertEquals(100_000, h.getTotalCount());
        // Three significant digits: within 0.1 % of the exact value.
        assertEquals(50.0, LatencyRecording.percentileMillis(h, 50), 0.05);
        assertEquals(99.0, LatencyRecording.percentileMillis(h, 99), 0.1);
        assertEquals(99.9, LatencyRecording.percentileMillis(h, 99.9), 0.1);
        assertEquals(100.0, LatencyRecording.percentileMillis(h, 100), 0.1);
    }

    @Test
    void eachSecondHoldsWhatWasRecordedInItAndLateSamplesJoinTheLastSecond() {
        LatencyRecording r = new LatencyRecording();
        for (int i = 0; i < 10; i++) {
            r.record(1_000_000);
        }
        r.nextSecond();
        for (int i = 0; i < 5; i++) {
            r.record(3_000_000);
        }
        r.nextSecond();
        r.record(3_000_000); // finished inside the window, recorded after its end
        r.finish();
        List<Histogram> s = r.perSecond();
        assertEquals(2, s.size());
        assertEquals(10, s.get(0).getTotalCount());
        assertEquals(6, s.get(1).getTotalCount());
        assertEquals(1.0, LatencyRecording.percentileMillis(s.get(0), 50), 0.01);
        assertEquals(3.0, LatencyRecording.percentileMillis(s.get(1), 50), 0.01);
        assertEquals(16, r.total().getTotalCount());
        assertEquals(1.0, LatencyRecording.percentileMillis(r.total(), 50), 0.01);
    }

    @Test
    void anEmptyWindowHasNoPercentilesAndTooLongLatenciesAreClamped() {
        LatencyRecording r = new LatencyRecording();
        r.finish();
        assertTrue(Double.isNaN(LatencyRecording.percentileMillis(r.total(), 50)));
        LatencyRecording big = new LatencyRecording();
        big.record(Long.MAX_VALUE);
        big.finish();
        assertEquals(60_000.0, LatencyRecording.percentileMillis(big.total(), 100), 60.0);
    }
}
