package example;

import static example.CounterPropertyTest.counters;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.sim.ScheduleFile;
import dev.raftkit.jepsen.sim.ScheduleShrinker;
import dev.raftkit.jepsen.sim.SimOptions;
import dev.raftkit.jepsen.sim.SimResult;
import dev.raftkit.jepsen.sim.SimRunner;
import dev.raftkit.jepsen.sim.Simulator;
import dev.raftkit.jepsen.sim.TraceEvent;
import dev.raftkit.testkit.docs.DocSnippets;
import example.CounterPropertyTest.Add;
import example.CounterPropertyTest.CounterMachine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The smaller blocks of docs/testing.md ("Replaying and studying a failure", "Prove that your test
 * can fail"), run on {@link CounterPropertyTest}'s counters with the public API only, and checked
 * against the page.
 */
class TestingGuideSnippetsTest {

    private static final Path SOURCE = Path.of("src/test/java/example/TestingGuideSnippetsTest.java");
    private static final Path PAGE = Path.of("../docs/testing.md");

    @TempDir
    Path dir;

    /** A planted bug: after a restore, counter 0 is one short. */
    static final class BrokenMachine extends CounterMachine {
        @Override
        public void restore(long index, InputStream in) throws IOException {
            super.restore(index, in);
            super.apply(List.of(new Command(index, 0, 0, encode(new Add(0, -1)))));
        }
    }

    @Test
    void aSeedIsReplayedWithItsTrace() throws IOException {
        long seed = 3;
        // replay:start
        SimResult r = Simulator.run(SimOptions.defaults(seed).withWorkload(counters(CounterMachine::new)).withTrace(true));
        Files.write(dir.resolve("trace.jsonl"), r.trace().stream().map(TraceEvent::toJson).toList());
        // replay:end
        assertTrue(r.ok(), r.violations().toString());
        List<String> trace = Files.readAllLines(dir.resolve("trace.jsonl"));
        assertFalse(trace.isEmpty(), "the trace was written");
        assertTrue(trace.get(0).startsWith("{"), "JSON lines: " + trace.get(0));
    }

    @Test
    void thePlantedBugIsFound() {
        // planted:start
        SimResult r = SimRunner.firstFailure(SimOptions.defaults(0).withWorkload(counters(BrokenMachine::new)), 1, 200);
        assertNotNull(r, "the planted bug passed 200 seeds");
        // planted:end
        assertFalse(r.ok());
    }

    /** A failure shrunk to a schedule file becomes a regression test that the fixed machine passes. */
    @Test
    void aShrunkFailureIsARegressionTest() throws IOException {
        SimResult failing = SimRunner.firstFailure(SimOptions.defaults(0).withWorkload(counters(BrokenMachine::new)),
                1, 200);
        assertNotNull(failing, "the planted bug passed 200 seeds");
        ScheduleShrinker.Outcome shrunk = ScheduleShrinker.shrink(failing, 40);
        assertNull(shrunk.refusal(), shrunk.refusal());
        Files.writeString(dir.resolve("counter-lost-increment.schedule"), shrunk.scheduleFile());
        // regression:start
        SimOptions regression = ScheduleFile.read(Files.readString(dir.resolve("counter-lost-increment.schedule")),
                Map.of("counter", counters(CounterMachine::new)));   // your state machine, by the name it was written with
        assertTrue(Simulator.run(regression).ok());
        // regression:end
        SimOptions stillBroken = ScheduleFile.read(Files.readString(dir.resolve("counter-lost-increment.schedule")),
                Map.of("counter", counters(BrokenMachine::new)));
        assertFalse(Simulator.run(stillBroken).ok(), "the schedule still catches the bug it was shrunk from");
    }

    @Test
    void theDocumentationShowsExactlyTheTestedCode() throws IOException {
        DocSnippets.assertShown(PAGE, DocSnippets.between(SOURCE, "replay"));
        DocSnippets.assertShown(PAGE, DocSnippets.between(SOURCE, "planted"));
        DocSnippets.assertShown(PAGE, DocSnippets.between(SOURCE, "regression"));
    }
}
