package dev.raftkit.jepsen.txn;

import dev.raftkit.jepsen.history.Json;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link TxnChecker} found: every anomaly type seen with its count, up to
 * {@value #EXAMPLES} examples of each (cycles with their edges explained), and the verdict under the
 * model checked. The anomalies are reported whatever the model; the model decides which of them make
 * the history invalid ({@link Consistency#forbids}).
 *
 * @param model the model the verdict is for
 * @param transactions transactions in the history
 * @param committed ok transactions plus the indeterminate ones a read shows took effect
 * @param edges edges of the dependency graph
 * @param anomalies the examples, grouped by type in {@link AnomalyType} order
 * @param counts how many of each type were found (may exceed the examples kept)
 * @param checkNanos how long the check took
 */
public record TxnResult(Consistency model, int transactions, int committed, int edges, List<Anomaly> anomalies,
        Map<AnomalyType, Integer> counts, long checkNanos) {

    /** Cycles longer than this are listed in {@link #toHtml()}, not drawn. */
    private static final int MAX_DRAWN = 40;

    /** Examples kept per anomaly type. */
    public static final int EXAMPLES = Analysis.EXAMPLES;

    /** Copies the collections. */
    public TxnResult {
        anomalies = List.copyOf(anomalies);
        EnumMap<AnomalyType, Integer> copy = new EnumMap<>(AnomalyType.class);
        copy.putAll(counts);
        counts = Collections.unmodifiableMap(copy);
    }

    /** True if the history shows no anomaly that {@link #model()} forbids. */
    public boolean valid() {
        return validUnder(model);
    }

    /** True if the history shows no anomaly that {@code other} forbids. */
    public boolean validUnder(Consistency other) {
        return violations(other).isEmpty();
    }

    /** The anomaly types found that {@code other} forbids, in {@link AnomalyType} order. */
    public List<AnomalyType> violations(Consistency other) {
        List<AnomalyType> out = new ArrayList<>();
        for (AnomalyType t : counts.keySet()) {
            if (other.forbids(t)) {
                out.add(t);
            }
        }
        return out;
    }

    /** The anomaly types found, in {@link AnomalyType} order. */
    public List<AnomalyType> types() {
        return List.copyOf(counts.keySet());
    }

    /** One line: {@code valid (strict-serializable): ...} or {@code INVALID (...): G-single×2 ...}. */
    public String summary() {
        StringBuilder b = new StringBuilder(valid() ? "valid" : "INVALID");
        b.append(" (").append(modelName(model)).append("): ").append(transactions).append(" transactions, ")
                .append(committed).append(" committed, ").append(edges).append(" edges");
        if (!counts.isEmpty()) {
            b.append("; anomalies:");
            counts.forEach((t, c) -> b.append(' ').append(t.label()).append('=').append(c));
        }
        b.append("; serializable ").append(validUnder(Consistency.SERIALIZABLE) ? "yes" : "no")
                .append(", strict-serializable ").append(validUnder(Consistency.STRICT_SERIALIZABLE) ? "yes" : "no");
        b.append(String.format(" (checker %d ms)", checkNanos / 1_000_000));
        return b.toString();
    }

    /** The report as text: the summary line, then each example anomaly with its cycle's edges. */
    public String text() {
        StringBuilder b = new StringBuilder(summary()).append('\n');
        for (Anomaly a : anomalies) {
            b.append('\n').append(a.explanation()).append('\n');
            for (CycleStep s : a.cycle()) {
                b.append("  T").append(s.from()).append(" -").append(s.type().label()).append("-> T").append(s.to())
                        .append(": ").append(s.why()).append('\n');
            }
        }
        return b.toString();
    }

    /**
     * The result as one JSON object, for reports and tools: {@code valid}, {@code model},
     * {@code serializable}, {@code strictSerializable}, {@code transactions}, {@code committed},
     * {@code edges}, {@code checkMillis}, {@code counts} (label to count) and {@code anomalies}, each
     * with {@code type}, {@code txns}, {@code explanation}, {@code violates} (the models it breaks)
     * and {@code cycle} (a list of {@code {from, to, type, key, why}}).
     */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("valid", valid());
        m.put("model", modelName(model));
        m.put("serializable", validUnder(Consistency.SERIALIZABLE));
        m.put("strictSerializable", validUnder(Consistency.STRICT_SERIALIZABLE));
        m.put("transactions", (long) transactions);
        m.put("committed", (long) committed);
        m.put("edges", (long) edges);
        m.put("checkMillis", checkNanos / 1_000_000);
        Map<String, Object> c = new LinkedHashMap<>();
        counts.forEach((t, v) -> c.put(t.label(), (long) v));
        m.put("counts", c);
        List<Object> list = new ArrayList<>();
        for (Anomaly a : anomalies) {
            Map<String, Object> am = new LinkedHashMap<>();
            am.put("type", a.type().label());
            List<Object> ids = new ArrayList<>();
            for (int t : a.txns()) {
                ids.add((long) t);
            }
            am.put("txns", ids);
            am.put("explanation", a.explanation());
            am.put("violates", a.type().needsRealTime() ? List.of("strict-serializable")
                    : List.of("serializable", "strict-serializable"));
            List<Object> steps = new ArrayList<>();
            for (CycleStep s : a.cycle()) {
                Map<String, Object> sm = new LinkedHashMap<>();
                sm.put("from", (long) s.from());
                sm.put("to", (long) s.to());
                sm.put("type", s.type().label());
                sm.put("key", s.key());
                sm.put("why", s.why());
                steps.add(sm);
            }
            am.put("cycle", steps);
            list.add(am);
        }
        m.put("anomalies", list);
        return Json.write(m);
    }

    /**
     * A standalone HTML fragment (no scripts, inline SVG, styles on the elements): the verdict, the
     * counts, and each example anomaly with its explanation and, for a cycle, a drawing of it (the
     * transactions on a circle, each edge an arrow labelled with its kind; a cycle of more than 40
     * transactions is described, not drawn).
     */
    public String toHtml() {
        StringBuilder b = new StringBuilder();
        b.append("<section class=\"txn-check\" style=\"font-family:sans-serif\">\n");
        b.append("<p style=\"font-weight:bold;color:").append(valid() ? "#2a7d2a" : "#b00020").append("\">")
                .append(esc(summary())).append("</p>\n");
        if (!counts.isEmpty()) {
            b.append("<table style=\"border-collapse:collapse\"><tr><th align=left>anomaly</th><th>count</th>"
                    + "<th>forbidden by</th></tr>\n");
            counts.forEach((t, c) -> b.append("<tr><td>").append(esc(t.label())).append("</td><td align=right>")
                    .append(c).append("</td><td>").append(t.needsRealTime() ? "strict-serializable"
                            : "serializable, strict-serializable").append("</td></tr>\n"));
            b.append("</table>\n");
        }
        for (Anomaly a : anomalies) {
            b.append("<div class=\"anomaly\" style=\"margin:1em 0\"><h4 style=\"margin:0.3em 0\">")
                    .append(esc(a.type().label())).append("</h4><p>").append(esc(a.explanation())).append("</p>\n");
            if (a.cycle().size() > MAX_DRAWN) {
                b.append("<p>(a cycle of ").append(a.cycle().size()).append(" transactions: too long to draw)</p>\n");
            } else if (!a.cycle().isEmpty()) {
                svg(a.cycle(), b);
            }
            b.append("</div>\n");
        }
        b.append("</section>\n");
        return b.toString();
    }

    private static void svg(List<CycleStep> cycle, StringBuilder b) {
        int k = cycle.size();
        double r = 60 + 12 * k;
        double size = 2 * r + 120;
        double c = size / 2;
        b.append(String.format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\">", size, size));
        b.append("<defs>");
        for (EdgeType t : EdgeType.values()) {
            b.append("<marker id=\"txn-arrow-").append(t.label()).append("\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\""
                    + " markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"")
                    .append(colour(t)).append("\"/></marker>");
        }
        b.append("</defs>");
        double[] x = new double[k];
        double[] y = new double[k];
        for (int i = 0; i < k; i++) {
            double angle = -Math.PI / 2 + 2 * Math.PI * i / k;
            x[i] = c + r * Math.cos(angle);
            y[i] = c + r * Math.sin(angle);
        }
        for (int i = 0; i < k; i++) {
            int j = (i + 1) % k;
            double dx = x[j] - x[i];
            double dy = y[j] - y[i];
            double len = Math.max(1, Math.hypot(dx, dy));
            // Each edge bends to its left, so that the two edges of a two-transaction cycle do not
            // overlap.
            double mx = (x[i] + x[j]) / 2 + dy / len * 30;
            double my = (y[i] + y[j]) / 2 - dx / len * 30;
            double sx = x[i] + (mx - x[i]) / Math.hypot(mx - x[i], my - y[i]) * 22;
            double sy = y[i] + (my - y[i]) / Math.hypot(mx - x[i], my - y[i]) * 22;
            double ex = x[j] + (mx - x[j]) / Math.hypot(mx - x[j], my - y[j]) * 22;
            double ey = y[j] + (my - y[j]) / Math.hypot(mx - x[j], my - y[j]) * 22;
            CycleStep s = cycle.get(i);
            String colour = colour(s.type());
            b.append(String.format("<path d=\"M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\""
                    + " marker-end=\"url(#txn-arrow-%s)\"><title>%s</title></path>", sx, sy, mx, my, ex, ey, colour,
                    s.type().label(), esc(s.why())));
            b.append(String.format("<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\" text-anchor=\"%s\">%s</text>",
                    mx + dy / len * 4, my - dx / len * 4 + 4, colour, dy > 0 ? "start" : dy < 0 ? "end" : "middle",
                    esc(s.type().label() + (s.key() == null ? "" : " " + s.key()))));
        }
        for (int i = 0; i < k; i++) {
            b.append(String.format("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"20\" fill=\"#f4f4f4\" stroke=\"#333\"/>"
                    + "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">T%d</text>",
                    x[i], y[i], x[i], y[i] + 4, cycle.get(i).from()));
        }
        b.append("</svg>\n");
    }

    private static String colour(EdgeType type) {
        return switch (type) {
            case RW -> "#b00020";
            case WR -> "#1f5fa8";
            case WW -> "#333333";
            default -> "#888888";
        };
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** {@code serializable} or {@code strict-serializable}. */
    public static String modelName(Consistency model) {
        return model == Consistency.SERIALIZABLE ? "serializable" : "strict-serializable";
    }
}
