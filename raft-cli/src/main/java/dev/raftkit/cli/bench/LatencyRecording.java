package dev.raftkit.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The latencies of one benchmark setting's measured window, recorded with HdrHistogram: the whole
 * window's histogram for the table and CSV, and one histogram per second of the window for the
 * report's throughput and percentiles over time.
 *
 * <p>Client threads call {@link #record} (wait-free, any number of threads at once); the one
 * thread that drives the setting calls {@link #nextSecond} once per second and {@link #finish}
 * after the clients stopped. Values are nanoseconds, kept to three significant digits (0.1 %),
 * from 1 ns to 60 s; a longer one counts as 60 s (the clients time out after 10 s).
 *
 * <p><b>Coordinated omission.</b> The benchmark is closed-loop: each client sends its next write
 * only when the previous one returned, so while the cluster stalls the clients send nothing and
 * the stall is recorded once per client rather than once per write that an open-loop load (a
 * fixed arrival rate) would have queued behind it. The percentiles are therefore those of the
 * service time a client saw, not the response time under a fixed offered load: a pause of
 * {@code P} ms adds at most one sample of {@code P} ms per client, so the tail (p99.9 and above)
 * understates what users at a fixed rate would see during that pause. Compare tails only between
 * runs of the same closed-loop workload (as the peers' harnesses run), and read a stall from the
 * throughput over time, where it shows as a dip.
 */
final class LatencyRecording {

    /** Longest latency kept apart from the others; longer ones are clamped to it. */
    static final long HIGHEST_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final Recorder recorder = new Recorder(1, HIGHEST_NANOS, 3);
    private final List<Histogram> perSecond = new ArrayList<>();
    private Histogram interval;

    /** Records one completed write's latency; called by the client threads. */
    void record(long nanos) {
        recorder.recordValue(Math.max(1, Math.min(HIGHEST_NANOS, nanos)));
    }

    /** Closes the current second of the window: what was recorded since the last call is its histogram. */
    void nextSecond() {
        interval = recorder.getIntervalHistogram(interval);
        perSecond.add(interval.copy());
    }

    /**
     * After the clients stopped: a write that finished inside the window but was recorded after
     * the last {@link #nextSecond} belongs to the last second.
     */
    void finish() {
        interval = recorder.getIntervalHistogram(interval);
        if (perSecond.isEmpty()) {
            perSecond.add(interval.copy());
        } else {
            perSecond.get(perSecond.size() - 1).add(interval);
        }
    }

    /** One histogram per second of the window, in order (the last one may cover less than a second). */
    List<Histogram> perSecond() {
        return List.copyOf(perSecond);
    }

    /** The whole window's histogram: the sum of the seconds. */
    Histogram total() {
        Histogram all = new Histogram(1, HIGHEST_NANOS, 3);
        perSecond.forEach(all::add);
        return all;
    }

    /** Percentile {@code p} (0..100) of {@code h} in milliseconds, NaN for an empty histogram. */
    static double percentileMillis(Histogram h, double p) {
        if (h.getTotalCount() == 0) {
            return Double.NaN;
        }
        return h.getValueAtPercentile(p) / 1e6;
    }
}
