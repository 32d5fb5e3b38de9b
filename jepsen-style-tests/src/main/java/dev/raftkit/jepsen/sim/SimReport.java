package dev.raftkit.jepsen.sim;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.JsonLines;
import dev.raftkit.jepsen.history.OpType;
import dev.raftkit.jepsen.history.Response;
import dev.raftkit.jepsen.history.TypedHistory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one simulated run leaves for a person to study: {@code trace.jsonl} (every event, after the
 * {@link Trace#HEADER} line), {@code history.jsonl} (every client operation), {@code summary.txt}
 * and {@code index.html}, a timeline with a lane per node — its role and term over time, elections,
 * commits, crashes and restarts — the faults, and a lane per client with its operations.
 */
public final class SimReport {

    private static final int WIDTH = 1300;
    private static final int LEFT = 80;
    private static final int TOP = 40;
    private static final int NODE_LANE = 22;
    private static final int CLIENT_LANE = 10;
    private static final Pattern ROLE = Pattern.compile("^(follower|pre-candidate|candidate|leader) (?:in|for) term (\\d+)");
    private static final Pattern CLIENT = Pattern.compile("^client (\\d+) (.*)$");

    private SimReport() {
    }

    /**
     * Writes the report of {@code r} into {@code dir} (created if needed).
     *
     * @throws IllegalArgumentException if the run did not keep its trace ({@link SimOptions#withTrace})
     */
    public static void write(SimResult r, Path dir) throws IOException {
        requireTrace(r);
        Files.createDirectories(dir);
        writeTrace(r, dir.resolve("trace.jsonl"));
        Files.writeString(dir.resolve("history.jsonl"), historyJsonLines(r.history()), StandardCharsets.UTF_8);
        StringBuilder summary = new StringBuilder(r.summary()).append('\n');
        r.violations().forEach(v -> summary.append("  ").append(v).append('\n'));
        Files.writeString(dir.resolve("summary.txt"), summary, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("index.html"), html(r), StandardCharsets.UTF_8);
    }

    /** Writes {@code r}'s trace as JSON lines, the {@link Trace#HEADER} first. */
    public static void writeTrace(SimResult r, Path file) throws IOException {
        requireTrace(r);
        List<String> lines = new ArrayList<>(r.trace().size() + 1);
        lines.add(Trace.HEADER);
        r.trace().forEach(e -> lines.add(e.toJson()));
        Files.write(file, lines, StandardCharsets.UTF_8);
    }

    /**
     * A history as JSON lines: key-value histories as version 1 (what {@code raftkit check} reads),
     * a workload's own operations as version 2.
     */
    @SuppressWarnings("unchecked")
    public static String historyJsonLines(TypedHistory<?, ?> h) {
        return h.type() == OpType.keyValue() ? JsonLines.toJsonLines(History.fromTyped((TypedHistory<Command, Response>) h))
                : JsonLines.toJsonLines(h);
    }

    private static void requireTrace(SimResult r) {
        if (r.trace().isEmpty() && r.traceEvents() > 0) {
            throw new IllegalArgumentException("seed " + r.options().seed() + " ran without keeping its trace; run it"
                    + " with SimOptions.withTrace(true) to write a report");
        }
    }

    /** One span of a node's role: from {@code start} until the next one (or a crash). */
    private record Span(long start, long end, String role, long term) {
    }

    /** One client operation, from its invocation to its completion ({@code -1}: never). */
    private record ClientOp(int client, long start, long end, String what, String outcome) {
    }

    static String html(SimResult r) {
        List<TraceEvent> events = r.trace();
        long end = 1;
        TreeSet<Long> nodes = new TreeSet<>();
        for (TraceEvent e : events) {
            end = Math.max(end, e.timeMicros());
            if (e.node() > 0 && !e.kind().equals("complete")) {
                nodes.add(e.node());
            }
        }
        // Roles: a span per role change, closed by the next change or a crash.
        Map<Long, List<Span>> spans = new TreeMap<>();
        Map<Long, Span> open = new HashMap<>();
        Map<Long, List<TraceEvent>> marks = new TreeMap<>();
        List<TraceEvent> faults = new ArrayList<>();
        List<ClientOp> ops = new ArrayList<>();
        Map<Integer, TraceEvent> invoked = new HashMap<>();
        int clients = 0;
        Set<Long> down = new HashSet<>();
        for (TraceEvent e : events) {
            if (e.node() > 0 && !open.containsKey(e.node()) && !down.contains(e.node()) && !e.kind().equals("crash")
                    && !e.kind().equals("complete")) {
                // A node is a follower from its first event (a learner added later, a restart) until
                // it traces a role; its term is not known until then.
                open.put(e.node(), new Span(e.timeMicros(), -1, "follower", 0));
            }
            switch (e.kind()) {
                case "role" -> {
                    Matcher m = ROLE.matcher(e.detail());
                    if (m.find()) {
                        close(open, spans, e.node(), e.timeMicros());
                        open.put(e.node(), new Span(e.timeMicros(), -1, m.group(1), Long.parseLong(m.group(2))));
                    }
                }
                case "crash" -> {
                    close(open, spans, e.node(), e.timeMicros());
                    down.add(e.node());
                    marks.computeIfAbsent(e.node(), k -> new ArrayList<>()).add(e);
                }
                case "restart" -> {
                    down.remove(e.node());
                    marks.computeIfAbsent(e.node(), k -> new ArrayList<>()).add(e);
                }
                case "vote-refused", "recovered", "snapshot-restored", "match-regressed" ->
                        marks.computeIfAbsent(e.node(), k -> new ArrayList<>()).add(e);
                case "fault", "heal" -> faults.add(e);
                case "invoke", "complete" -> {
                    Matcher m = CLIENT.matcher(e.detail());
                    if (m.find()) {
                        int c = Integer.parseInt(m.group(1));
                        clients = Math.max(clients, c + 1);
                        if (e.kind().equals("invoke")) {
                            invoked.put(c, e);
                        } else {
                            TraceEvent i = invoked.remove(c);
                            if (i != null) {
                                ops.add(new ClientOp(c, i.timeMicros(), e.timeMicros(),
                                        CLIENT.matcher(i.detail()).replaceFirst("$2"), m.group(2)));
                            }
                        }
                    }
                }
                default -> { }
            }
        }
        for (Long n : new ArrayList<>(open.keySet())) {
            close(open, spans, n, end);
        }
        for (TraceEvent i : invoked.values()) {
            ops.add(new ClientOp(Integer.parseInt(CLIENT.matcher(i.detail()).replaceFirst("$1")), i.timeMicros(), -1,
                    CLIENT.matcher(i.detail()).replaceFirst("$2"), "never answered"));
        }

        int plotW = WIDTH - LEFT - 20;
        double span = end;
        List<Long> lanes = new ArrayList<>(nodes);
        int clientTop = TOP + lanes.size() * NODE_LANE + 20;
        int height = clientTop + clients * CLIENT_LANE + 40;
        StringBuilder svg = new StringBuilder();
        svg.append("<svg xmlns='http://www.w3.org/2000/svg' width='").append(WIDTH).append("' height='").append(height)
                .append("' font-family='sans-serif' font-size='10'>\n");
        // Time axis, in virtual seconds.
        double seconds = span / 1e6;
        double step = seconds <= 2 ? 0.25 : seconds <= 8 ? 1 : Math.ceil(seconds / 15);
        for (double s = 0; s <= seconds; s += step) {
            double x = LEFT + plotW * s * 1e6 / span;
            svg.append(String.format(Locale.ROOT, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#eee'/>"
                    + "<text x='%.1f' y='%d' text-anchor='middle'>%s s</text>\n", x, TOP - 16, x, height - 30, x, height - 16,
                    trim(s)));
        }
        for (TraceEvent f : faults) {
            double x = x(f.timeMicros(), span, plotW);
            svg.append(String.format(Locale.ROOT, "<line class='fault' x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='%s'"
                    + " stroke-dasharray='2,2'><title>%s</title></line>\n", x, TOP - 14, x, clientTop - 8,
                    f.kind().equals("heal") ? "#2e7d32" : "#c62828", esc(at(f) + " " + f.kind() + ": " + f.detail()
                            + (f.node() > 0 ? " (node " + f.node() + ")" : ""))));
        }
        for (int i = 0; i < lanes.size(); i++) {
            long n = lanes.get(i);
            int y = TOP + i * NODE_LANE;
            svg.append("<text x='4' y='").append(y + 14).append("'>node ").append(n).append("</text>\n");
            for (Span s : spans.getOrDefault(n, List.of())) {
                double x0 = x(s.start(), span, plotW);
                double x1 = x(s.end(), span, plotW);
                svg.append(String.format(Locale.ROOT, "<rect class='role' data-node='%d' data-role='%s' data-term='%d'"
                        + " x='%.1f' y='%d' width='%.1f' height='%d' fill='%s'><title>%s</title></rect>\n", n, s.role(), s.term(),
                        x0, y + 2, Math.max(0.5, x1 - x0), NODE_LANE - 6, roleColor(s.role()),
                        esc("node " + n + ": " + s.role() + (s.term() > 0 ? " in term " + s.term() : "") + " from " + trim(s.start() / 1e6) + " s to "
                                + trim(s.end() / 1e6) + " s")));
                if (s.role().equals("leader") && x1 - x0 > 14) {
                    svg.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d' fill='#fff'>t%d</text>\n", x0 + 2, y + 13, s.term()));
                }
            }
            for (TraceEvent m : marks.getOrDefault(n, List.of())) {
                double x = x(m.timeMicros(), span, plotW);
                String color = switch (m.kind()) {
                    case "crash" -> "#000";
                    case "restart" -> "#1565c0";
                    case "vote-refused" -> "#8e24aa";
                    default -> "#ef6c00";
                };
                svg.append(String.format(Locale.ROOT, "<circle class='mark' data-kind='%s' cx='%.1f' cy='%d' r='3' fill='%s'>"
                        + "<title>%s</title></circle>\n", m.kind(), x, y + NODE_LANE - 3, color,
                        esc(at(m) + " node " + n + " " + m.kind() + ": " + m.detail())));
            }
        }
        for (int c = 0; c < clients; c++) {
            svg.append("<text x='4' y='").append(clientTop + c * CLIENT_LANE + 8).append("'>client ").append(c).append("</text>\n");
        }
        for (ClientOp op : ops) {
            double x0 = x(op.start(), span, plotW);
            double x1 = op.end() < 0 ? x(end, span, plotW) : x(op.end(), span, plotW);
            String fill = op.outcome().equals("ok") ? (op.what().startsWith("read") ? "#2e7d32" : "#66bb6a")
                    : op.end() < 0 || op.outcome().contains("Timeout") ? "#fb8c00" : "#9e9e9e";
            svg.append(String.format(Locale.ROOT, "<rect class='op' x='%.1f' y='%d' width='%.1f' height='%d' fill='%s'>"
                    + "<title>%s</title></rect>\n", x0, clientTop + op.client() * CLIENT_LANE + 1, Math.max(0.6, x1 - x0),
                    CLIENT_LANE - 3, fill, esc("client " + op.client() + " " + op.what() + " → " + op.outcome())));
        }
        svg.append("</svg>\n");

        StringBuilder faultRows = new StringBuilder();
        for (TraceEvent f : faults) {
            faultRows.append("<tr><td>").append(trim(f.timeMicros() / 1e6)).append(" s</td><td>")
                    .append(f.node() == 0 ? "cluster" : "node " + f.node()).append("</td><td>").append(esc(f.detail()))
                    .append("</td></tr>\n");
        }
        StringBuilder violations = new StringBuilder();
        for (String v : r.violations()) {
            violations.append("<li>").append(esc(v)).append("</li>\n");
        }
        SimOptions o = r.options();
        return "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>raftkit sim seed " + o.seed()
                + ": " + (r.ok() ? "ok" : "VIOLATION") + "</title>\n<style>body{font-family:sans-serif;margin:16px;color:#222}"
                + ".ok{color:#1b5e20}.bad{color:#b71c1c}table{border-collapse:collapse;font-size:12px}"
                + "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}.legend span{display:inline-block;"
                + "width:12px;height:10px;margin:0 4px 0 12px}</style></head><body>\n"
                + "<h1 id='verdict' class='" + (r.ok() ? "ok" : "bad") + "'>" + esc(r.summary()) + "</h1>\n"
                + "<p id='options'>" + o.nodes() + " nodes, " + o.ticks() + " ticks, faults " + esc(o.faults().toString())
                + ", state machine " + esc(o.workload().name()) + ", " + o.clients() + " clients. Replay: <code>raftkit sim --seed "
                + o.seed() + " --nodes " + o.nodes() + " --ticks " + o.ticks() + " --sm " + esc(o.workload().name())
                + " --report DIR</code></p>\n"
                + (violations.length() > 0 ? "<ul id='violations' class='bad'>" + violations + "</ul>\n" : "")
                + "<div class='legend'>roles:<span style='background:" + roleColor("leader") + "'></span>leader"
                + "<span style='background:" + roleColor("candidate") + "'></span>candidate"
                + "<span style='background:" + roleColor("pre-candidate") + "'></span>pre-candidate"
                + "<span style='background:" + roleColor("follower") + "'></span>follower (blank: down)"
                + " &nbsp; marks: crash (black), restart (blue), vote refused (purple), recovery (orange);"
                + " dashed lines: faults (red), heal (green) &nbsp; operations:"
                + "<span style='background:#66bb6a'></span>write ok<span style='background:#2e7d32'></span>read ok"
                + "<span style='background:#9e9e9e'></span>failed<span style='background:#fb8c00'></span>indeterminate</div>\n"
                + svg
                + "<h2>Faults (" + faults.size() + ")</h2>\n<table id='faults'><tr><th>at</th><th>where</th><th>what</th></tr>\n"
                + faultRows + "</table>\n"
                + "<p>Files: trace.jsonl (every event; schema in docs/user-guide.md), history.jsonl, summary.txt.</p>\n"
                + "</body></html>\n";
    }

    private static void close(Map<Long, Span> open, Map<Long, List<Span>> spans, long node, long at) {
        Span s = open.remove(node);
        if (s != null) {
            spans.computeIfAbsent(node, k -> new ArrayList<>()).add(new Span(s.start(), at, s.role(), s.term()));
        }
    }

    private static double x(long micros, double span, int plotW) {
        return LEFT + plotW * micros / span;
    }

    private static String at(TraceEvent e) {
        return trim(e.timeMicros() / 1e6) + " s";
    }

    private static String trim(double seconds) {
        return String.format(Locale.ROOT, "%.3f", seconds).replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    private static String roleColor(String role) {
        return switch (role) {
            case "leader" -> "#2e7d32";
            case "candidate" -> "#f9a825";
            case "pre-candidate" -> "#fff176";
            default -> "#cfd8dc";
        };
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;");
    }
}
