package dev.raftkit.testkit.http;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format, version 0.0.4 (what a scraper reads
 * from {@code /metrics}), for tests that check a node's output is well-formed rather than merely
 * containing a few words. It refuses, with the line number and what is wrong:
 *
 * <ul>
 *   <li>a metric or label name outside {@code [a-zA-Z_:][a-zA-Z0-9_:]*} (labels: no colon);
 *   <li>a label value not in double quotes, or with an escape other than {@code \\}, {@code \"} and
 *       {@code \n}; a label named twice in one sample; anything but a comma or a closing brace
 *       after a label;
 *   <li>a value that is not a Go float ({@code 1}, {@code -2.5e3}, {@code NaN}, {@code +Inf},
 *       {@code -Inf}), a timestamp that is not an integer, or anything after the timestamp;
 *   <li>{@code # HELP} with an escape other than {@code \\} and {@code \n}; {@code # TYPE} with a type
 *       other than counter, gauge, histogram, summary and untyped; a second HELP or TYPE for one
 *       family, or a TYPE after the family's first sample;
 *   <li>a family's samples not in one group, the same sample (name and labels) twice, a histogram
 *       bucket without {@code le};
 *   <li>a last line without its line feed.
 * </ul>
 *
 * Empty lines are skipped and other {@code #} lines are comments, as the format says. A sample
 * belongs to the family it names, or, for {@code _bucket}, {@code _sum} and {@code _count}, to the
 * histogram or summary the rest of its name has a TYPE for.
 *
 * <p>Safe from any thread: it keeps no state between calls.
 */
public final class PrometheusText {

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern FLOAT = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern INTEGER = Pattern.compile("-?\\d+");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    private PrometheusText() {
    }

    /** What was wrong, on which line (1-based) of the exposition. */
    public static final class FormatException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int line;

        FormatException(int line, String message, String text) {
            super("line " + line + ": " + message + ": '" + text + "'");
            this.line = line;
        }

        /** The 1-based line the problem is on. */
        public int line() {
            return line;
        }
    }

    /** One sample line: its name, its labels in the order written, its value and optional timestamp (ms). */
    public record Sample(String name, Map<String, String> labels, double value, Long timestampMillis) {
    }

    /**
     * One metric family: its name, TYPE ({@code untyped} when none was given), HELP (null when none)
     * and samples in the order written.
     */
    public record Family(String name, String type, String help, List<Sample> samples) {
    }

    /** A parsed exposition: families by name, in the order they first appeared. */
    public record Exposition(Map<String, Family> families) {

        /**
         * The family {@code name}.
         *
         * @throws IllegalArgumentException if there is none, naming the families there are
         */
        public Family family(String name) {
            Family f = families.get(name);
            if (f == null) {
                throw new IllegalArgumentException("no metric family '" + name + "' among " + families.keySet());
            }
            return f;
        }

        /** Every sample of every family, in order. */
        public List<Sample> samples() {
            List<Sample> all = new ArrayList<>();
            families.values().forEach(f -> all.addAll(f.samples()));
            return all;
        }
    }

    /** A family being read. */
    private static final class Building {
        final String name;
        String type;
        String help;
        final List<Sample> samples = new ArrayList<>();
        boolean closed;

        Building(String name) {
            this.name = name;
        }
    }

    /**
     * Parses a whole exposition.
     *
     * @throws FormatException at the first line that breaks the format
     */
    public static Exposition parse(String text) {
        Map<String, Building> families = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        Building current = null;
        if (!text.isEmpty() && !text.endsWith("\n")) {
            int last = text.split("\n", -1).length;
            throw new FormatException(last, "the last line does not end with a line feed",
                    text.substring(text.lastIndexOf('\n') + 1));
        }
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length - 1; i++) { // the last element is what follows the final line feed
            String line = lines[i];
            int no = i + 1;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split(" ", 4);
                if (parts.length >= 3 && parts[0].equals("#") && (parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
                    String name = parts[2];
                    if (!METRIC_NAME.matcher(name).matches()) {
                        throw new FormatException(no, "'" + name + "' is not a metric name", line);
                    }
                    Building f = families.computeIfAbsent(name, Building::new);
                    if (f.closed || (f != current && !f.samples.isEmpty())) {
                        throw new FormatException(no, "family " + name + "'s samples were already given", line);
                    }
                    String rest = parts.length == 4 ? parts[3] : "";
                    if (parts[1].equals("HELP")) {
                        if (f.help != null) {
                            throw new FormatException(no, "a second HELP for " + name, line);
                        }
                        f.help = unescapeHelp(rest, no, line);
                    } else {
                        if (f.type != null) {
                            throw new FormatException(no, "a second TYPE for " + name, line);
                        }
                        if (!f.samples.isEmpty()) {
                            throw new FormatException(no, "TYPE for " + name + " after its first sample", line);
                        }
                        if (!TYPES.contains(rest)) {
                            throw new FormatException(no, "'" + rest + "' is not a type (" + TYPES + ")", line);
                        }
                        f.type = rest;
                    }
                    current = switchTo(current, f);
                }
                continue; // any other # line is a comment
            }
            Sample s = sample(line, no);
            Building f = familyOf(s.name(), families);
            if (f.closed) {
                throw new FormatException(no, "family " + f.name + "'s samples are not in one group", line);
            }
            current = switchTo(current, f);
            if (!seen.add(s.name() + s.labels())) {
                throw new FormatException(no, "the same sample twice", line);
            }
            if ("histogram".equals(f.type) && s.name().equals(f.name + "_bucket") && !s.labels().containsKey("le")) {
                throw new FormatException(no, "a histogram bucket without an 'le' label", line);
            }
            f.samples.add(s);
        }
        Map<String, Family> out = new LinkedHashMap<>();
        families.forEach((name, f) -> out.put(name, new Family(name, f.type == null ? "untyped" : f.type, f.help,
                List.copyOf(f.samples))));
        return new Exposition(Collections.unmodifiableMap(out));
    }

    /** Leaving a family for another closes it: its samples must form one group. */
    private static Building switchTo(Building current, Building next) {
        if (current != null && current != next && !current.samples.isEmpty()) {
            current.closed = true;
        }
        return next;
    }

    private static Building familyOf(String sampleName, Map<String, Building> families) {
        for (String suffix : new String[] {"_bucket", "_sum", "_count", "_created"}) {
            if (sampleName.endsWith(suffix)) {
                Building base = families.get(sampleName.substring(0, sampleName.length() - suffix.length()));
                if (base != null && ("histogram".equals(base.type) || "summary".equals(base.type))) {
                    return base;
                }
            }
        }
        return families.computeIfAbsent(sampleName, Building::new);
    }

    private static String unescapeHelp(String s, int no, String line) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i + 1 == s.length()) {
                throw new FormatException(no, "HELP ends in a lone backslash", line);
            }
            char e = s.charAt(++i);
            switch (e) {
                case '\\' -> b.append('\\');
                case 'n' -> b.append('\n');
                default -> throw new FormatException(no, "HELP has an unknown escape \\" + e, line);
            }
        }
        return b.toString();
    }

    private static Sample sample(String line, int no) {
        int i = 0;
        int n = line.length();
        while (i < n && line.charAt(i) != '{' && line.charAt(i) != ' ' && line.charAt(i) != '\t') {
            i++;
        }
        String name = line.substring(0, i);
        if (!METRIC_NAME.matcher(name).matches()) {
            throw new FormatException(no, "'" + name + "' is not a metric name", line);
        }
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < n && line.charAt(i) == '{') {
            i++;
            while (true) {
                if (i < n && line.charAt(i) == '}') {
                    i++;
                    break;
                }
                int start = i;
                while (i < n && line.charAt(i) != '=') {
                    i++;
                }
                String label = line.substring(start, i);
                if (i == n || !LABEL_NAME.matcher(label).matches()) {
                    throw new FormatException(no, "'" + label + "' is not a label name followed by =", line);
                }
                i++;
                if (i == n || line.charAt(i) != '"') {
                    throw new FormatException(no, "label " + label + "'s value is not in double quotes", line);
                }
                i++;
                StringBuilder value = new StringBuilder();
                while (true) {
                    if (i == n) {
                        throw new FormatException(no, "label " + label + "'s value has no closing quote", line);
                    }
                    char c = line.charAt(i++);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        if (i == n) {
                            throw new FormatException(no, "label " + label + "'s value ends in a lone backslash", line);
                        }
                        char e = line.charAt(i++);
                        switch (e) {
                            case '\\' -> value.append('\\');
                            case '"' -> value.append('"');
                            case 'n' -> value.append('\n');
                            default -> throw new FormatException(no, "label " + label + " has an unknown escape \\" + e,
                                    line);
                        }
                    } else {
                        value.append(c);
                    }
                }
                if (labels.put(label, value.toString()) != null) {
                    throw new FormatException(no, "label " + label + " is given twice", line);
                }
                if (i < n && line.charAt(i) == ',') {
                    i++;
                } else if (i >= n || line.charAt(i) != '}') {
                    throw new FormatException(no, "expected ',' or '}' after label " + label, line);
                }
            }
        }
        String rest = line.substring(i);
        if (rest.isEmpty() || (rest.charAt(0) != ' ' && rest.charAt(0) != '\t')) {
            throw new FormatException(no, "expected a blank and a value after the name and labels", line);
        }
        String[] fields = rest.strip().split("[ \t]+");
        if (fields.length > 2 || fields[0].isEmpty()) {
            throw new FormatException(no, "expected a value and at most a timestamp", line);
        }
        double value = value(fields[0], no, line);
        Long timestamp = null;
        if (fields.length == 2) {
            if (!INTEGER.matcher(fields[1]).matches()) {
                throw new FormatException(no, "timestamp '" + fields[1] + "' is not an integer (milliseconds)", line);
            }
            try {
                timestamp = Long.parseLong(fields[1]);
            } catch (NumberFormatException e) {
                throw new FormatException(no, "timestamp '" + fields[1] + "' is out of range", line);
            }
        }
        return new Sample(name, Collections.unmodifiableMap(labels), value, timestamp);
    }

    private static double value(String v, int no, String line) {
        switch (v) {
            case "NaN":
                return Double.NaN;
            case "+Inf":
            case "Inf":
                return Double.POSITIVE_INFINITY;
            case "-Inf":
                return Double.NEGATIVE_INFINITY;
            default:
                if (!FLOAT.matcher(v).matches()) {
                    throw new FormatException(no, "value '" + v + "' is not a number, NaN, +Inf or -Inf", line);
                }
                return Double.parseDouble(v);
        }
    }
}
