package example;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.testkit.docs.DocSnippets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * docs/testing.md shows {@link CounterPropertyTest} whole (everything between its
 * {@code testing-guide:} markers, which are its first and last lines): the page and the file must
 * not drift apart.
 */
class TestingGuideTest {

    private static final Path SOURCE = Path.of("src/test/java/example/CounterPropertyTest.java");
    private static final Path PAGE = Path.of("../docs/testing.md");

    @Test
    void theGuideShowsTheExampleTheBuildRuns() throws IOException {
        DocSnippets.assertShown(PAGE, DocSnippets.between(SOURCE, "testing-guide"));
        // And verbatim, indentation included: the page shows a whole file to copy.
        List<String> lines = Files.readAllLines(SOURCE);
        String source = String.join("\n", lines.subList(1, lines.size() - 1)) + "\n";
        assertTrue(Files.readString(PAGE).contains("```java\n" + source + "```"),
                "docs/testing.md must show src/test/java/example/CounterPropertyTest.java verbatim"
                        + " (without its marker lines); copy the file into it");
    }
}
