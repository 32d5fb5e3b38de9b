package dev.raftkit.testkit.docs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Keeps code shown in documentation the code a test compiles and runs: the lines of a test source
 * between {@code // NAME:start} and {@code // NAME:end} must appear, in order and stripped of
 * indentation, in the page that shows them. A page that drifts from the tested code fails the
 * build instead of misleading a reader.
 */
public final class DocSnippets {

    private DocSnippets() {
    }

    /** The stripped lines of {@code source} between the {@code name} markers; fails if there are none. */
    public static List<String> between(Path source, String name) throws IOException {
        String start = "// " + name + ":start";
        String end = "// " + name + ":end";
        List<String> code = new ArrayList<>();
        boolean in = false;
        for (String line : Files.readAllLines(source)) {
            String t = line.strip();
            if (t.equals(start) || t.equals(end)) {
                in = t.equals(start);
            } else if (in) {
                code.add(t);
            }
        }
        if (code.isEmpty()) {
            throw new AssertionError("no lines between '" + start + "' and '" + end + "' in " + source
                    + "; put the markers around the code the documentation shows");
        }
        return code;
    }

    /** Fails unless {@code page} shows {@code code} exactly (indentation aside), in one piece. */
    public static void assertShown(Path page, List<String> code) throws IOException {
        List<String> doc = Files.readAllLines(page).stream().map(String::strip).toList();
        if (Collections.indexOfSubList(doc, code) < 0) {
            throw new AssertionError(page + " must contain the example exactly as tested; its lines:\n"
                    + String.join("\n", code));
        }
    }
}
