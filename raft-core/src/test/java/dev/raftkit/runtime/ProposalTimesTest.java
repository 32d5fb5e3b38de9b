package dev.raftkit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The loop's proposal times: each committed proposal reported once, with its own latency, across growth and wrap-around. */
class ProposalTimesTest {

    /** Records what the loop would hand to the embedder's metrics. */
    private static final class Recorded implements RaftMetrics {
        final List<Long> latencies = new ArrayList<>();

        @Override
        public void committed(long nanos) {
            latencies.add(nanos);
        }
    }

    @Test
    void eachProposalIsReportedOnceWhenItsIndexCommits() {
        Recorded r = new Recorded();
        SafeMetrics metrics = new SafeMetrics(1, r);
        ProposalTimes times = new ProposalTimes();
        // 150 in flight (the arrays grow past 64), 100 commit (the head moves), 100 more (the tail wraps).
        for (long i = 1; i <= 150; i++) {
            times.add(i, i * 10);
        }
        times.committed(100, 5_000, metrics);
        assertEquals(50, times.size());
        for (long i = 151; i <= 250; i++) {
            times.add(i, i * 10);
        }
        assertEquals(150, times.size());
        // Then commits in uneven steps, each at its own time.
        long index = 250;
        long done = 100;
        long[] steps = {1, 7, 0, 42, 100};
        long now = 10_000;
        for (long step : steps) {
            long upTo = done + step;
            now += 1_000;
            times.committed(upTo, now, metrics);
            for (long i = done + 1; i <= upTo; i++) {
                assertEquals(now - i * 10, r.latencies.get((int) i - 1), "latency of the proposal at " + i);
            }
            done = upTo;
        }
        for (long i = 1; i <= 100; i++) {
            assertEquals(5_000 - i * 10, r.latencies.get((int) i - 1), "latency of the proposal at " + i);
        }
        assertEquals(index, r.latencies.size());
        assertTrue(times.isEmpty());
        times.committed(index + 5, 2_000_000, metrics);
        assertEquals(index, r.latencies.size(), "nothing is reported twice");
        times.add(index + 1, 5);
        times.clear();
        times.committed(index + 1, 10, metrics);
        assertEquals(index, r.latencies.size(), "a former leader's proposals are not timed");
    }
}
