package example;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/testing.md shows {@link CounterPropertyTest} whole: the page and the file must not drift apart. */
class TestingGuideTest {

    @Test
    void theGuideShowsTheExampleTheBuildRuns() throws IOException {
        String source = Files.readString(Path.of("src/test/java/example/CounterPropertyTest.java"));
        String guide = Files.readString(Path.of("../docs/testing.md"));
        assertTrue(guide.contains("```java\n" + source + "```"),
                "docs/testing.md must show src/test/java/example/CounterPropertyTest.java verbatim; copy the file into it");
    }
}
