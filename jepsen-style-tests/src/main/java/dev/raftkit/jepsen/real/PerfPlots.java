package dev.raftkit.jepsen.real;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.Operation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.LongToDoubleFunction;

/**
 * The report's performance pictures, after Jepsen's perf graphs: latency over time (every
 * operation a point on a log scale, with the median and 99th percentile of each second drawn as
 * lines) and throughput over time (completions per second by outcome), each with the faults shaded
 * behind, so a reader sees what a partition or a kill did to the clients. Plain SVG, no scripts.
 *
 * <p>Latency is completion minus invocation. An indeterminate operation (the client gave up) is
 * drawn at its give-up time, so timeouts show as a ceiling; one that never completed is left out.
 * The final reads after healing are left out: they are not part of the load.
 */
final class PerfPlots {

    static final int WIDTH = 1300;
    static final int LEFT = 70;
    static final int HEIGHT = 230;
    private static final int TOP = 24;
    private static final int BOTTOM = 28;
    /** Beyond this many points, only every n-th OK one is drawn (failures and timeouts always are). */
    private static final int MAX_POINTS = 30_000;

    /** Series colours, shared with the timeline's legend where they mean the same. */
    private static final String WRITE_OK = "#66bb6a";
    private static final String READ_OK = "#2e7d32";
    private static final String FAILED = "#9e9e9e";
    private static final String INFO = "#fb8c00";

    private PerfPlots() {
    }

    /** The operations the plots show: the clients' load, without the final reads. */
    static List<Operation> load(List<Operation> ops) {
        List<Operation> out = new ArrayList<>(ops.size());
        for (Operation op : ops) {
            if (op.process() != ClientWorkload.FINAL_PROCESS && op.completeNanos() != Operation.NEVER) {
                out.add(op);
            }
        }
        return out;
    }

    /**
     * Latency over time: one point per operation, and per one-second bucket the median and the 99th
     * percentile of the operations that completed in it.
     */
    static String latency(List<Operation> ops, List<FaultEvent> faults, long start, long end) {
        List<Operation> load = load(ops);
        double span = Math.max(1, end - start);
        int plotW = WIDTH - LEFT - 20;
        int plotH = HEIGHT - TOP - BOTTOM;
        LongToDoubleFunction x = t -> LEFT + plotW * Math.max(0, t - start) / span;
        double maxMs = 1;
        for (Operation op : load) {
            maxMs = Math.max(maxMs, latencyMs(op));
        }
        // Log scale from 0.1 ms to the next power of ten above the slowest operation.
        double lo = -1;
        double hi = Math.max(1, Math.ceil(Math.log10(maxMs)));
        java.util.function.DoubleUnaryOperator y = ms -> TOP + plotH * (1 - (Math.log10(Math.max(0.1, ms)) - lo) / (hi - lo));

        StringBuilder svg = header("latency", faults, x, plotH);
        for (int e = (int) lo; e <= hi; e++) {
            double yy = y.applyAsDouble(Math.pow(10, e));
            svg.append(String.format(Locale.ROOT, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#eee'/>"
                    + "<text x='%d' y='%.1f' text-anchor='end'>%s</text>\n", LEFT, yy, WIDTH - 20, yy, LEFT - 4, yy + 3,
                    e < 0 ? "0.1 ms" : e < 3 ? (long) Math.pow(10, e) + " ms" : (long) Math.pow(10, e - 3) + " s"));
        }
        timeAxis(svg, span, plotW, HEIGHT - BOTTOM);
        int okStride = Math.max(1, load.size() / MAX_POINTS);
        int okSeen = 0;
        for (Operation op : load) {
            if (op.status() == OpStatus.OK && (okSeen++ % okStride) != 0) {
                continue;
            }
            svg.append(String.format(Locale.ROOT, "<circle cx='%.1f' cy='%.1f' r='1.3' fill='%s' fill-opacity='0.55'/>\n",
                    x.applyAsDouble(op.completeNanos()), y.applyAsDouble(latencyMs(op)), colour(op)));
        }
        List<long[]> buckets = buckets(load, start, end);
        for (double q : new double[] {0.5, 0.99}) {
            StringBuilder line = new StringBuilder();
            for (int s = 0; s < buckets.size(); s++) {
                long[] lat = buckets.get(s);
                if (lat.length == 0) {
                    continue;
                }
                double ms = quantile(lat, q) / 1e6;
                line.append(line.length() == 0 ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f",
                        x.applyAsDouble(start + (s * 1_000_000_000L) + 500_000_000L), y.applyAsDouble(ms)));
            }
            if (line.length() > 0) {
                svg.append("<path d='").append(line).append("' fill='none' stroke='")
                        .append(q == 0.5 ? "#1565c0" : "#d84315").append("' stroke-width='1.6'><title>")
                        .append(q == 0.5 ? "median" : "99th percentile").append(" latency per second</title></path>\n");
            }
        }
        svg.append("<text x='").append(LEFT).append("' y='14' font-weight='bold'>latency (ms, log scale): points per"
                + " operation; blue median, red 99th percentile per second</text>\n");
        return svg.append("</svg>\n").toString();
    }

    /** Throughput over time: completions per one-second bucket, one line per outcome. */
    static String throughput(List<Operation> ops, List<FaultEvent> faults, long start, long end) {
        List<Operation> load = load(ops);
        double span = Math.max(1, end - start);
        int plotW = WIDTH - LEFT - 20;
        int plotH = HEIGHT - TOP - BOTTOM;
        LongToDoubleFunction x = t -> LEFT + plotW * Math.max(0, t - start) / span;
        int seconds = (int) Math.max(1, Math.ceil(span / 1e9));
        String[] names = {"write/cas ok", "read ok", "failed", "indeterminate"};
        String[] colours = {WRITE_OK, READ_OK, FAILED, INFO};
        int[][] counts = new int[names.length][seconds];
        for (Operation op : load) {
            int s = (int) Math.min(seconds - 1, Math.max(0, (op.completeNanos() - start) / 1_000_000_000L));
            counts[series(op)][s]++;
        }
        int max = 1;
        for (int[] c : counts) {
            for (int v : c) {
                max = Math.max(max, v);
            }
        }
        int top = niceCeiling(max);
        StringBuilder svg = header("throughput", faults, x, plotH);
        for (int i = 0; i <= 4; i++) {
            double yy = TOP + plotH * (1 - i / 4.0);
            svg.append(String.format(Locale.ROOT, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#eee'/>"
                    + "<text x='%d' y='%.1f' text-anchor='end'>%d/s</text>\n", LEFT, yy, WIDTH - 20, yy, LEFT - 4, yy + 3,
                    top * i / 4));
        }
        timeAxis(svg, span, plotW, HEIGHT - BOTTOM);
        for (int k = 0; k < names.length; k++) {
            StringBuilder line = new StringBuilder();
            for (int s = 0; s < seconds; s++) {
                double yy = TOP + plotH * (1 - counts[k][s] / (double) top);
                line.append(s == 0 ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f",
                        x.applyAsDouble(start + s * 1_000_000_000L + 500_000_000L), yy));
            }
            svg.append("<path d='").append(line).append("' fill='none' stroke='").append(colours[k])
                    .append("' stroke-width='1.6'><title>").append(names[k]).append(" per second</title></path>\n");
        }
        svg.append("<text x='").append(LEFT).append("' y='14' font-weight='bold'>throughput (completions per second):"
                + " green writes and cas, dark green reads, grey failed, orange indeterminate</text>\n");
        return svg.append("</svg>\n").toString();
    }

    /** The latencies (ns) of the operations that completed in each second of the run. */
    static List<long[]> buckets(List<Operation> load, long start, long end) {
        int seconds = (int) Math.max(1, Math.ceil((end - start) / 1e9));
        List<List<Long>> lists = new ArrayList<>();
        for (int s = 0; s < seconds; s++) {
            lists.add(new ArrayList<>());
        }
        for (Operation op : load) {
            int s = (int) Math.min(seconds - 1, Math.max(0, (op.completeNanos() - start) / 1_000_000_000L));
            lists.get(s).add(op.completeNanos() - op.invokeNanos());
        }
        List<long[]> out = new ArrayList<>(seconds);
        for (List<Long> l : lists) {
            long[] a = l.stream().mapToLong(Long::longValue).toArray();
            Arrays.sort(a);
            out.add(a);
        }
        return out;
    }

    /** The {@code q} quantile of sorted {@code a} (nearest rank). */
    static long quantile(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static StringBuilder header(String name, List<FaultEvent> faults, LongToDoubleFunction x, int plotH) {
        StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns='http://www.w3.org/2000/svg' class='perf-").append(name).append("' width='").append(WIDTH)
                .append("' height='").append(HEIGHT).append("' font-family='sans-serif' font-size='10'>\n");
        svg.append("<rect x='0' y='0' width='").append(WIDTH).append("' height='").append(HEIGHT).append("' fill='#fff'/>\n");
        for (FaultEvent f : faults) {
            double x0 = x.applyAsDouble(f.startNanos());
            double x1 = x.applyAsDouble(f.endNanos());
            svg.append(String.format(Locale.ROOT,
                    "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s' fill-opacity='0.16'><title>%s</title></rect>\n",
                    x0, TOP, Math.max(1, x1 - x0), plotH, HtmlReport.color(f.kind()),
                    HtmlReport.esc(f.kind() + ": " + f.description())));
        }
        return svg;
    }

    private static void timeAxis(StringBuilder svg, double span, int plotW, int y) {
        long seconds = (long) Math.ceil(span / 1e9);
        long step = Math.max(1, seconds / 15);
        for (long s = 0; s <= seconds; s += step) {
            double xs = LEFT + plotW * (s * 1e9) / span;
            svg.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' text-anchor='middle'>%ds</text>\n", xs, y + 14, s));
        }
    }

    private static double latencyMs(Operation op) {
        return (op.completeNanos() - op.invokeNanos()) / 1e6;
    }

    private static int series(Operation op) {
        return switch (op.status()) {
            case OK -> op.command() instanceof Command.Read ? 1 : 0;
            case FAIL -> 2;
            case INFO -> 3;
        };
    }

    private static String colour(Operation op) {
        return switch (series(op)) {
            case 0 -> WRITE_OK;
            case 1 -> READ_OK;
            case 2 -> FAILED;
            default -> INFO;
        };
    }

    /** 1, 2 or 5 times a power of ten, at least {@code v}: a ceiling for the y axis. */
    static int niceCeiling(int v) {
        int p = 1;
        while (true) {
            for (int m : new int[] {1, 2, 5}) {
                if ((long) m * p >= v) {
                    return m * p;
                }
            }
            p *= 10;
        }
    }
}
