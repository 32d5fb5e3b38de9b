package dev.raftkit.jepsen.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Shrunk schedules of bugs the simulator once found, replayed as regressions: each failed on the
 * commit before its fix and must pass from then on (the comment at the top of each file says what
 * it caught).
 */
class RegressionSchedulesTest {

    static Stream<String> schedules() {
        return Stream.of("duplicate-snapshot-at-one-index.schedule", "stale-copy-commits-deposed-entries.schedule",
                "backup-root-lost-in-a-power-cut.schedule");
    }

    @ParameterizedTest
    @MethodSource("schedules")
    void replaysWithoutAViolation(String name) throws IOException {
        String text;
        try (InputStream in = RegressionSchedulesTest.class.getResourceAsStream("/regressions/" + name)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        SimResult r = Simulator.run(ScheduleFile.read(text, Map.of()));
        assertTrue(r.ok(), name + ": " + r.violations());
    }
}
