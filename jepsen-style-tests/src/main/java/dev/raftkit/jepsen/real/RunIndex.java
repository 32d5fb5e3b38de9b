package dev.raftkit.jepsen.real;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code index.html} of a folder of runs: one row per run directory in it (newest first) with its
 * verdict line, options and a link to its {@code report.html}, as Jepsen's store index lists past
 * tests. A run directory is one holding a {@code summary.txt}; anything else in the folder is left
 * alone. The page is rewritten whole (to a temporary file, then moved) after each run, so it always
 * lists what is on disk, including runs deleted or copied in by hand since.
 */
public final class RunIndex {

    /** The first line of every index this class writes: how a folder is recognised as a runs folder. */
    static final String MARK = "<!-- raftkit jepsen runs -->";

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    /** One run as the index shows it. */
    record Run(String name, Instant finished, String verdict, String options) {
    }

    private RunIndex() {
    }

    /** True if {@code folder} holds an index this class wrote: runs put there are indexed too. */
    public static boolean isRunsFolder(Path folder) {
        Path index = folder.resolve("index.html");
        if (!Files.isRegularFile(index)) {
            return false;
        }
        try (Stream<String> lines = Files.lines(index, StandardCharsets.UTF_8)) {
            return lines.findFirst().map(MARK::equals).orElse(false);
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /** Reads the runs in {@code folder}, newest first. A run whose summary cannot be read is listed as such. */
    static List<Run> runs(Path folder) throws IOException {
        List<Run> runs = new ArrayList<>();
        try (Stream<Path> children = Files.list(folder)) {
            for (Path dir : (Iterable<Path>) children::iterator) {
                Path summary = dir.resolve("summary.txt");
                if (!Files.isRegularFile(summary)) {
                    continue;
                }
                String verdict;
                String options = "";
                try {
                    List<String> lines = Files.readAllLines(summary, StandardCharsets.UTF_8);
                    verdict = lines.isEmpty() ? "(empty summary.txt)" : lines.get(lines.size() - 1);
                    if (!lines.isEmpty() && lines.get(0).startsWith("options: ")) {
                        options = lines.get(0).substring("options: ".length());
                    }
                } catch (IOException e) {
                    verdict = "(summary.txt unreadable: " + e.getMessage() + ")";
                }
                runs.add(new Run(dir.getFileName().toString(), Files.getLastModifiedTime(summary).toInstant(), verdict,
                        options));
            }
        }
        runs.sort(Comparator.comparing(Run::finished).reversed().thenComparing(Run::name));
        return runs;
    }

    /** Rewrites {@code folder/index.html} from the runs in it. */
    public static void write(Path folder) throws IOException {
        String html = render(runs(folder));
        Path tmp = folder.resolve("index.html.tmp");
        Files.writeString(tmp, html, StandardCharsets.UTF_8);
        Files.move(tmp, folder.resolve("index.html"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String render(List<Run> runs) {
        StringBuilder rows = new StringBuilder();
        int valid = 0;
        for (Run r : runs) {
            boolean ok = r.verdict().startsWith("valid");
            valid += ok ? 1 : 0;
            String link = HtmlReport.esc(r.name()).replace(" ", "%20");
            rows.append("<tr><td><a href='").append(link).append("/report.html'>").append(HtmlReport.esc(r.name()))
                    .append("</a></td><td>").append(TIME.format(r.finished())).append("</td><td class='")
                    .append(ok ? "valid" : "invalid").append("'>").append(HtmlReport.esc(r.verdict()))
                    .append("</td><td class='opts'>").append(HtmlReport.esc(r.options())).append("</td></tr>\n");
        }
        return MARK + "\n<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>raftkit jepsen runs</title>\n"
                + "<style>body{font-family:sans-serif;margin:16px;color:#222}table{border-collapse:collapse;font-size:12px}"
                + "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}.valid{color:#1b5e20}"
                + ".invalid{color:#b71c1c;font-weight:bold}.opts{color:#555;font-size:11px}</style></head><body>\n"
                + "<h1>raftkit jepsen runs</h1>\n<p>" + runs.size() + " run" + (runs.size() == 1 ? "" : "s") + ", "
                + valid + " valid, " + (runs.size() - valid) + " not; newest first.</p>\n"
                + "<table><tr><th>run</th><th>finished</th><th>verdict</th><th>options</th></tr>\n" + rows
                + "</table>\n</body></html>\n";
    }
}
