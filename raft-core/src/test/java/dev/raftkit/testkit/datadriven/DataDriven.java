package dev.raftkit.testkit.datadriven;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.opentest4j.AssertionFailedError;

/**
 * Golden scripts in the datadriven style: each case is a command line, a {@code ----} line, and
 * the expected output, ended by a blank line. Lines starting with {@code #} are comments.
 *
 * <pre>
 * # A leader is elected.
 * campaign 1
 * ----
 * ok
 * </pre>
 *
 * <p>Run with {@code -Drewrite=true} to write the actual output back into the script instead of
 * comparing; review the diff like code. Expected output never contains blank lines.
 */
public final class DataDriven {

    private DataDriven() {
    }

    private record Case(ScriptCommand command, int firstLine, int lastLine, List<String> expected) {
    }

    /** Runs every case of {@code script} through {@code handler}, in order. */
    public static void run(Path script, Function<ScriptCommand, String> handler) {
        List<String> lines;
        try {
            lines = Files.readAllLines(script);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        boolean rewrite = Boolean.getBoolean("rewrite");
        List<String> rewritten = new ArrayList<>();
        int i = 0;
        while (i < lines.size()) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                rewritten.add(line);
                i++;
                continue;
            }
            String location = script.getFileName() + ":" + (i + 1);
            if (i + 1 >= lines.size() || !lines.get(i + 1).equals("----")) {
                throw new IllegalArgumentException(location + ": expected '----' after the command '" + line + "'");
            }
            ScriptCommand command = ScriptCommand.parse(line, location);
            int j = i + 2;
            List<String> expected = new ArrayList<>();
            while (j < lines.size() && !lines.get(j).isBlank()) {
                expected.add(lines.get(j));
                j++;
            }
            String actual;
            try {
                actual = handler.apply(command);
            } catch (RuntimeException e) {
                actual = "error: " + e.getMessage();
            }
            actual = actual.strip();
            if (actual.isEmpty()) {
                actual = "ok";
            }
            if (rewrite) {
                rewritten.add(line);
                rewritten.add("----");
                rewritten.addAll(List.of(actual.split("\n")));
            } else if (!String.join("\n", expected).equals(actual)) {
                throw new AssertionFailedError(location + ": output of '" + line + "' differs (run with "
                        + "-Drewrite=true to regenerate, then review the diff)", String.join("\n", expected), actual);
            }
            i = j;
        }
        if (rewrite) {
            try {
                Files.write(script, rewritten);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
