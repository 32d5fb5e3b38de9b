package dev.raftkit.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The HTML report of one {@code raftkit bench} run: per setting (and per peer library when
 * baselines ran in the same invocation), throughput over time, p50 and p99 latency over time and
 * a latency CDF (percentile plot), each chart one series per setting so they read side by side.
 * Self-contained: inline SVG and CSS, no scripts, no fonts or files from the network.
 *
 * <p>The charts follow the real-process harness' performance pictures (same width, a 1-2-5 y
 * ceiling, a time axis in seconds, a log scale for latency); that code draws operations and
 * faults of a history, so the bench has its own small renderer of lines from histograms.
 */
final class BenchReport {

    static final int WIDTH = 1200;
    static final int HEIGHT = 300;
    private static final int LEFT = 70;
    /** Room right of the plot for the legend, so that it never hides a line. */
    private static final int RIGHT = 270;
    private static final int TOP = 24;
    private static final int BOTTOM = 34;
    /** The CDF's percentiles: dense near the tail, on an x axis of 1/(1-p) in log scale. */
    private static final double[] CDF_PERCENTILES = cdfPercentiles();
    private static final String[] PALETTE = {"#1565c0", "#d84315", "#2e7d32", "#6a1b9a", "#f9a825", "#00838f",
        "#ad1457", "#4e342e", "#546e7a", "#9e9d24", "#283593", "#ef6c00"};

    /**
     * One line of every chart: a setting's name, its histogram per second of the measured window
     * and the whole window's histogram (values in nanoseconds).
     */
    record Series(String name, List<Histogram> perSecond, Histogram total) {
    }

    private BenchReport() {
    }

    /** The whole page: {@code title}, a summary table, then the four charts. */
    static String html(String title, List<String> notes, List<Series> series) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>").append(esc(title)).append("</title>\n")
                .append("<style>body{font-family:sans-serif;margin:20px;color:#222}table{border-collapse:collapse;"
                        + "margin:10px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                        + "td:first-child,th:first-child{text-align:left}svg{display:block;margin:14px 0}"
                        + "p.note{color:#555;max-width:1100px}</style></head><body>\n");
        h.append("<h1>").append(esc(title)).append("</h1>\n");
        for (String n : notes) {
            h.append("<p class='note'>").append(esc(n)).append("</p>\n");
        }
        h.append("<table><tr><th>setting</th><th>ops</th><th>ops/s</th><th>p50 ms</th><th>p99 ms</th>"
                + "<th>p99.9 ms</th><th>max ms</th></tr>\n");
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            double secs = Math.max(1, s.perSecond().size());
            h.append(String.format(Locale.ROOT, "<tr><td><span style='color:%s'>&#9632;</span> %s</td><td>%d</td>"
                            + "<td>%.0f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td></tr>%n", colour(i),
                    esc(s.name()), s.total().getTotalCount(), s.total().getTotalCount() / secs,
                    LatencyRecording.percentileMillis(s.total(), 50), LatencyRecording.percentileMillis(s.total(), 99),
                    LatencyRecording.percentileMillis(s.total(), 99.9),
                    LatencyRecording.percentileMillis(s.total(), 100)));
        }
        h.append("</table>\n");
        h.append(throughput(series));
        h.append(percentileOverTime(series, 50));
        h.append(percentileOverTime(series, 99));
        h.append(cdf(series));
        return h.append("</body></html>\n").toString();
    }

    /** Operations completed per second of the measured window, one line per setting. */
    static String throughput(List<Series> series) {
        List<double[][]> lines = new ArrayList<>();
        for (Series s : series) {
            double[][] pts = new double[s.perSecond().size()][];
            for (int i = 0; i < pts.length; i++) {
                pts[i] = new double[] {i + 0.5, s.perSecond().get(i).getTotalCount()};
            }
            lines.add(pts);
        }
        return chart("throughput", "throughput over the measured window (writes completed per second)", series,
                lines, false, false, "s", "/s");
    }

    /** Percentile {@code p} of each second's latencies, one line per setting (log scale). */
    static String percentileOverTime(List<Series> series, double p) {
        List<double[][]> lines = new ArrayList<>();
        for (Series s : series) {
            List<double[]> pts = new ArrayList<>();
            for (int i = 0; i < s.perSecond().size(); i++) {
                Histogram h = s.perSecond().get(i);
                if (h.getTotalCount() > 0) {
                    pts.add(new double[] {i + 0.5, LatencyRecording.percentileMillis(h, p)});
                }
            }
            lines.add(pts.toArray(new double[0][]));
        }
        String name = p == 50 ? "p50" : String.format(Locale.ROOT, "p%s", trim(p));
        return chart("latency-" + name, name + " latency per second of the measured window (ms, log scale)", series,
                lines, false, true, "s", " ms");
    }

    /**
     * The latency CDF as a percentile plot: latency (log) against percentile, the x axis spread
     * as 1/(1-p) in log scale so 90, 99, 99.9 and 99.99 get equal room; one line per setting.
     */
    static String cdf(List<Series> series) {
        List<double[][]> lines = new ArrayList<>();
        for (Series s : series) {
            List<double[]> pts = new ArrayList<>();
            if (s.total().getTotalCount() > 0) {
                for (double p : CDF_PERCENTILES) {
                    // Past the last sample's own rank a percentile only repeats the maximum.
                    if (p > 100.0 * (1 - 1.0 / s.total().getTotalCount()) && p != CDF_PERCENTILES[0]) {
                        pts.add(new double[] {1 / (1 - Math.min(p, 99.9999) / 100),
                            LatencyRecording.percentileMillis(s.total(), 100)});
                        break;
                    }
                    pts.add(new double[] {1 / (1 - p / 100), LatencyRecording.percentileMillis(s.total(), p)});
                }
            }
            lines.add(pts.toArray(new double[0][]));
        }
        return chart("cdf", "latency by percentile over the whole window (ms, log scale; x: percentile)", series,
                lines, true, true, "", " ms");
    }

    // ------------------------------------------------------------------ drawing

    /**
     * One SVG line chart; {@code lines.get(i)} is {@code series.get(i)}'s points (x, y). With
     * {@code logX} the x values are 1/(1-p) of a percentile and labelled as percentiles.
     */
    private static String chart(String cls, String title, List<Series> series, List<double[][]> lines, boolean logX,
                                boolean logY, String xUnit, String yUnit) {
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = HEIGHT - TOP - BOTTOM;
        double xMax = logX ? 1e4 : 1;
        double yMax = 0;
        double yMin = Double.MAX_VALUE;
        for (double[][] pts : lines) {
            for (double[] pt : pts) {
                xMax = Math.max(xMax, pt[0]);
                if (!Double.isNaN(pt[1])) {
                    yMax = Math.max(yMax, pt[1]);
                    yMin = Math.min(yMin, pt[1]);
                }
            }
        }
        if (!logX) {
            xMax = Math.ceil(xMax);
        }
        double y0;
        double y1;
        if (logY) {
            y0 = Math.pow(10, Math.floor(Math.log10(yMin == Double.MAX_VALUE || yMin <= 0 ? 0.01 : yMin)));
            y1 = Math.pow(10, Math.ceil(Math.log10(Math.max(yMax, y0 * 10))));
        } else {
            y0 = 0;
            y1 = niceCeiling(Math.max(1, (long) Math.ceil(yMax)));
        }
        final double lx1 = logX ? Math.log10(xMax) : xMax;
        final double fy0 = y0;
        final double fy1 = y1;
        java.util.function.DoubleUnaryOperator sx = v -> LEFT + plotW * (logX ? Math.log10(v) : v) / lx1;
        java.util.function.DoubleUnaryOperator sy = v -> logY
                ? TOP + plotH * (1 - (Math.log10(v) - Math.log10(fy0)) / (Math.log10(fy1) - Math.log10(fy0)))
                : TOP + plotH * (1 - v / fy1);
        StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns='http://www.w3.org/2000/svg' class='bench-").append(cls).append("' width='").append(WIDTH)
                .append("' height='").append(HEIGHT).append("' font-family='sans-serif' font-size='10'>\n");
        svg.append("<rect x='0' y='0' width='").append(WIDTH).append("' height='").append(HEIGHT)
                .append("' fill='#fff'/>\n");
        // y grid and labels
        if (logY) {
            for (double v = y0; v <= y1 * 1.0001; v *= 10) {
                gridY(svg, sy.applyAsDouble(v), fmt(v) + yUnit);
            }
        } else {
            for (int i = 0; i <= 4; i++) {
                gridY(svg, sy.applyAsDouble(y1 * i / 4), fmt(y1 * i / 4) + yUnit);
            }
        }
        // x labels
        if (logX) {
            for (double v = 1; v <= xMax * 1.0001; v *= 10) {
                double pct = 100 * (1 - 1 / v);
                svg.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' text-anchor='middle'>p%s</text>"
                        + "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#eee'/>%n", sx.applyAsDouble(v),
                        HEIGHT - BOTTOM + 14, trim(pct), sx.applyAsDouble(v), TOP, sx.applyAsDouble(v), HEIGHT - BOTTOM));
            }
        } else {
            long step = Math.max(1, (long) xMax / 15);
            for (long s = 0; s <= xMax; s += step) {
                svg.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' text-anchor='middle'>%d%s</text>%n",
                        sx.applyAsDouble(s), HEIGHT - BOTTOM + 14, s, xUnit));
            }
        }
        for (int i = 0; i < lines.size(); i++) {
            StringBuilder d = new StringBuilder();
            for (double[] pt : lines.get(i)) {
                if (Double.isNaN(pt[1]) || (logY && pt[1] <= 0)) {
                    continue;
                }
                d.append(d.length() == 0 ? "M" : " L").append(String.format(Locale.ROOT, "%.1f %.1f",
                        sx.applyAsDouble(pt[0]), sy.applyAsDouble(pt[1])));
            }
            if (d.length() > 0) {
                svg.append("<path class='series' d='").append(d).append("' fill='none' stroke='").append(colour(i))
                        .append("' stroke-width='1.8'><title>").append(esc(series.get(i).name())).append("</title></path>\n");
            }
        }
        // legend, right of the plot
        int lx = WIDTH - RIGHT + 14;
        for (int i = 0; i < series.size(); i++) {
            int ly = TOP + 6 + 13 * i;
            svg.append(String.format(Locale.ROOT, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='3'/>"
                    + "<text x='%d' y='%d'>%s</text>%n", lx, ly, lx + 16, ly, colour(i), lx + 20, ly + 3,
                    esc(series.get(i).name())));
        }
        svg.append("<text x='").append(LEFT).append("' y='14' font-weight='bold'>").append(esc(title)).append("</text>\n");
        return svg.append("</svg>\n").toString();
    }

    private static void gridY(StringBuilder svg, double y, String label) {
        svg.append(String.format(Locale.ROOT, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#eee'/>"
                + "<text x='%d' y='%.1f' text-anchor='end'>%s</text>%n", LEFT, y, WIDTH - RIGHT, y, LEFT - 4, y + 3,
                esc(label)));
    }

    static String colour(int i) {
        return PALETTE[i % PALETTE.length];
    }

    /** 1, 2 or 5 times a power of ten, at least {@code v}: a ceiling for a linear y axis. */
    static long niceCeiling(long v) {
        long p = 1;
        while (true) {
            for (int m : new int[] {1, 2, 5}) {
                if (m * p >= v) {
                    return m * p;
                }
            }
            p *= 10;
        }
    }

    private static double[] cdfPercentiles() {
        List<Double> ps = new ArrayList<>();
        // Evenly spaced on the log(1/(1-p)) axis: 40 points per decade from p0 to p99.999.
        for (int i = 0; i <= 200; i++) {
            ps.add(100 * (1 - Math.pow(10, -i / 40.0)));
        }
        return ps.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static String fmt(double v) {
        if (v >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        return trim(v);
    }

    private static String trim(double v) {
        String s = String.format(Locale.ROOT, "%.4f", v);
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;");
    }
}
