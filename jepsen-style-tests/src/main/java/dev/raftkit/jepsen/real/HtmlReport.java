package dev.raftkit.jepsen.real;

import dev.raftkit.jepsen.checker.CheckResult;
import dev.raftkit.jepsen.checker.KeyResult;
import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.Operation;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code report.html}: one self-contained page (inline CSS and SVG, no scripts, no network) with
 * the verdict, an SVG timeline — one lane per client, each operation a bar from invocation to
 * completion (green ok, grey failed, orange indeterminate), faults shaded behind, anomalies and
 * lost writes marked with red rings — then latency and throughput over time with the same faults
 * shaded ({@link PerfPlots}), the fault table and the checker's explanations.
 */
final class HtmlReport {

    private static final int WIDTH = 1300;
    private static final int LEFT = 70;
    private static final int TOP = 40;
    private static final int LANE = 11;
    /** Beyond this many operations, only every n-th OK one is drawn (all others always are). */
    private static final int MAX_DRAWN = 40_000;

    private HtmlReport() {
    }

    static String render(JepsenOptions o, History history, List<FaultEvent> faults, CheckResult<Operation> check,
                         List<Operation> lost, JepsenResult r, long runStart) {
        List<Operation> ops = history.operations();
        long end = runStart + o.duration().toNanos();
        for (Operation op : ops) {
            end = Math.max(end, op.completeNanos() == Operation.NEVER ? op.invokeNanos() : op.completeNanos());
        }
        for (FaultEvent f : faults) {
            end = Math.max(end, f.endNanos());
        }
        double span = Math.max(1, end - runStart);
        int lanes = o.clients() + 1; // + the final reads
        int plotW = WIDTH - LEFT - 20;
        int height = TOP + lanes * LANE + 40;
        java.util.function.LongFunction<Double> x = t -> LEFT + plotW * Math.max(0, t - runStart) / span;

        Set<Long> marked = new HashSet<>();
        StringBuilder anomalies = new StringBuilder();
        for (KeyResult<Operation> k : check.keys().values()) {
            if (!k.verdict().isValid()) {
                anomalies.append("<li><pre>").append(esc(k.toString())).append("</pre></li>\n");
                k.explanation().ifPresent(e -> marked.add(e.stuck().id()));
            }
        }
        for (Operation op : lost) {
            marked.add(op.id());
            anomalies.append("<li>lost write: <code>").append(esc(op.toString())).append("</code></li>\n");
        }

        StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns='http://www.w3.org/2000/svg' width='").append(WIDTH).append("' height='").append(height)
                .append("' font-family='sans-serif' font-size='10'>\n");
        svg.append("<rect x='0' y='0' width='").append(WIDTH).append("' height='").append(height).append("' fill='#fff'/>\n");
        for (FaultEvent f : faults) {
            double x0 = x.apply(f.startNanos());
            double x1 = x.apply(f.endNanos());
            svg.append(String.format(Locale.ROOT,
                    "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s' fill-opacity='0.22'><title>%s</title></rect>\n",
                    x0, TOP - 14, Math.max(1, x1 - x0), lanes * LANE + 14, color(f.kind()), esc(f.kind() + ": " + f.description())));
            svg.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' fill='%s'>%s</text>\n", x0 + 2, TOP - 4,
                    color(f.kind()), esc(f.kind())));
        }
        long seconds = (long) Math.ceil(span / 1e9);
        long step = Math.max(1, seconds / 15);
        for (long s = 0; s <= seconds; s += step) {
            double xs = LEFT + plotW * (s * 1e9) / span;
            svg.append(String.format(Locale.ROOT,
                    "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/><text x='%.1f' y='%d' text-anchor='middle'>%ds</text>\n",
                    xs, TOP, xs, TOP + lanes * LANE, xs, TOP + lanes * LANE + 14, s));
        }
        for (int lane = 0; lane < lanes; lane++) {
            String label = lane < o.clients() ? "client " + lane : "final";
            svg.append("<text x='4' y='").append(TOP + lane * LANE + 9).append("'>").append(label).append("</text>\n");
        }
        int okStride = Math.max(1, ops.size() / MAX_DRAWN);
        int okSeen = 0;
        for (Operation op : ops) {
            int lane = op.process() == ClientWorkload.FINAL_PROCESS ? o.clients() : op.process() % o.clients();
            boolean mark = marked.contains(op.id());
            if (op.status() == OpStatus.OK && !mark && (okSeen++ % okStride) != 0) {
                continue;
            }
            double x0 = x.apply(op.invokeNanos());
            double x1 = op.completeNanos() == Operation.NEVER ? x.apply(end) : x.apply(op.completeNanos());
            String fill = switch (op.status()) {
                case OK -> op.command() instanceof Command.Read ? "#2e7d32" : "#66bb6a";
                case FAIL -> "#9e9e9e";
                case INFO -> "#fb8c00";
            };
            int y = TOP + lane * LANE + 2;
            svg.append(String.format(Locale.ROOT, "<rect x='%.1f' y='%d' width='%.1f' height='%d' fill='%s'%s><title>%s</title></rect>\n",
                    x0, y, Math.max(0.8, x1 - x0), LANE - 4, fill, op.status() == OpStatus.INFO ? " fill-opacity='0.5'" : "",
                    esc(op.toString())));
            if (mark) {
                svg.append(String.format(Locale.ROOT,
                        "<circle cx='%.1f' cy='%d' r='7' fill='none' stroke='#d50000' stroke-width='2.5'><title>anomaly: %s</title></circle>\n",
                        (x0 + x1) / 2, y + (LANE - 4) / 2, esc(op.toString())));
            }
        }
        svg.append("</svg>\n");

        StringBuilder faultRows = new StringBuilder();
        for (FaultEvent f : faults) {
            faultRows.append(String.format(Locale.ROOT, "<tr><td style='color:%s'>%s</td><td>%.1f s</td><td>%.1f s</td><td>%s</td></tr>\n",
                    color(f.kind()), esc(f.kind()), (f.startNanos() - runStart) / 1e9, (f.endNanos() - runStart) / 1e9,
                    esc(f.description())));
        }
        StringBuilder problems = new StringBuilder();
        for (String p : r.problems()) {
            problems.append("<li>").append(esc(p)).append("</li>\n");
        }
        return "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>raftkit jepsen: "
                + (r.valid() ? "valid" : "INVALID") + "</title>\n<style>body{font-family:sans-serif;margin:16px;color:#222}"
                + ".valid{color:#1b5e20}.invalid{color:#b71c1c}table{border-collapse:collapse;font-size:12px}"
                + "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}.legend span{display:inline-block;"
                + "width:12px;height:10px;margin:0 4px 0 12px}pre{white-space:pre-wrap;font-size:11px}</style></head><body>\n"
                + "<h1 class='" + (r.valid() ? "valid" : "invalid") + "'>" + esc(r.summaryLine()) + "</h1>\n"
                + "<p>" + o.nodes() + " nodes, " + o.duration().toSeconds() + " s, nemesis " + esc(o.nemeses().toString())
                + ", reads " + o.reads() + ", seed " + o.seed() + ", " + o.clients() + " clients; "
                + history.byKey().size() + " keys; leader after healing: "
                + (r.leaderMillis() < 0 ? "none" : r.leaderMillis() + " ms") + "</p>\n"
                + (problems.length() > 0 ? "<ul class='invalid'>" + problems + "</ul>\n" : "")
                + "<div class='legend'>operations:<span style='background:#66bb6a'></span>write/cas ok"
                + "<span style='background:#2e7d32'></span>read ok<span style='background:#9e9e9e'></span>failed"
                + "<span style='background:#fb8c00;opacity:.5'></span>indeterminate"
                + "<span style='border:2px solid #d50000;border-radius:6px'></span>anomaly &nbsp; faults:"
                + "<span style='background:" + color("kill") + ";opacity:.4'></span>kill"
                + "<span style='background:" + color("pause") + ";opacity:.4'></span>pause"
                + "<span style='background:" + color("partition") + ";opacity:.4'></span>partition"
                + "<span style='background:" + color("disk") + ";opacity:.4'></span>disk"
                + "<span style='background:" + color("membership") + ";opacity:.4'></span>membership</div>\n"
                + svg
                // A SQL run's transactions: the checker's verdict, counts by class and each class's smallest cycle.
                + (r.txn() != null ? "<h2>Transactions (list-append over SQL)</h2>\n" + r.txn().toHtml() : "")
                + (r.backups() != null ? "<h2>Backups and restores</h2>\n<p>" + esc(r.backups().toString())
                + ": every backup verified (checksums, state digests), restored, and its restored state checked"
                + " against the history as a read over the time it was taken; crashes timed into a backup,"
                + " snapshot, snapshot install or restore; members replaced by a node restored from a chain."
                + " Details: backups.txt.</p>\n" : "")
                + "<h2>Performance</h2>\n" + PerfPlots.latency(ops, faults, runStart, end)
                + PerfPlots.throughput(ops, faults, runStart, end)
                + "<h2>Faults (" + faults.size() + ")</h2>\n<table><tr><th>kind</th><th>from</th><th>to</th><th>what</th></tr>\n"
                + faultRows + "</table>\n"
                + "<h2>Anomalies</h2>\n" + (anomalies.length() == 0 ? "<p>none</p>\n" : "<ul>" + anomalies + "</ul>\n")
                + "<p>Files: history.jsonl, nemesis.jsonl, summary.txt, nodes/n&lt;i&gt;.log"
                + (r.txn() != null ? ", txn-history.jsonl, txn-check.json" : "") + ".</p>\n</body></html>\n";
    }

    static String color(String kind) {
        return Map.of("kill", "#c62828", "pause", "#1565c0", "partition", "#6a1b9a", "disk", "#795548", "membership", "#00838f")
                .getOrDefault(kind, "#555");
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;");
    }
}
