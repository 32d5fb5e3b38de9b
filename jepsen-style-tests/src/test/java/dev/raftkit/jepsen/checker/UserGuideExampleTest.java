package dev.raftkit.jepsen.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.raftkit.jepsen.history.Codec;
import dev.raftkit.jepsen.history.JsonLines;
import dev.raftkit.jepsen.history.OpType;
import dev.raftkit.jepsen.history.TypedHistory;
import dev.raftkit.jepsen.history.TypedHistoryRecorder;
import dev.raftkit.jepsen.history.TypedOperation;
import dev.raftkit.testkit.docs.DocSnippets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example of docs/user-guide.md ("The linearizability checker"): the lines between the
 * {@code types:} and {@code check:} markers are the page's block, run here and checked against it.
 */
class UserGuideExampleTest {

    private static final Path SOURCE =
            Path.of("src/test/java/dev/raftkit/jepsen/checker/UserGuideExampleTest.java");

    // types:start
    sealed interface ListOp permits Append, ReadList { String list(); }
    record Append(String list, long value) implements ListOp {}
    record ReadList(String list) implements ListOp {}
    // types:end

    @Test
    void theGuidesExample_runs(@TempDir Path dir) throws Exception {
        int client = 1;
        // check:start
        OpType<ListOp, List<Long>> lists = OpType
                .of(Codec.auto(ListOp.class), Codec.listOf(Codec.auto(Long.class)))  // read answers a list
                .keyedBy(ListOp::list)
                .readOnlyWhen(op -> op instanceof ReadList);

        Model<List<Long>, TypedOperation<ListOp, List<Long>>> model = Model.of(List::of, (list, op, seen) -> {
            if (op instanceof Append a) {
                List<Long> next = new ArrayList<>(list);
                next.add(a.value());
                return Optional.of(List.copyOf(next));          // an append answers nothing
            }
            return list.equals(seen) ? Optional.of(list) : Optional.empty();
        });

        TypedHistoryRecorder<ListOp, List<Long>> recorder = new TypedHistoryRecorder<>(lists);
        long id = recorder.invoke(client, new Append("l", 7));
        recorder.ok(id, null);                                  // or recorder.fail(id), recorder.info(id)
        long read = recorder.invoke(2, new ReadList("l"));
        recorder.ok(read, List.of(7L));

        TypedHistory<ListOp, List<Long>> history = recorder.history();
        Files.writeString(dir.resolve("history.jsonl"), JsonLines.toJsonLines(history));
        CheckResult<TypedOperation<ListOp, List<Long>>> result = LinearizabilityChecker.check(history, model,
                CheckOptions.DEFAULT.withBudget(Budget.of(Duration.ofMinutes(1), 5_000_000, 512L << 20)));
        if (!result.isValid()) {
            throw new AssertionError(result);                   // per key: verdict, longest prefix, stuck op
        }
        // check:end
        assertEquals(history, JsonLines.parse(Files.readString(dir.resolve("history.jsonl")), lists));
    }

    @Test
    void theGuidesExample_rejectsAStaleRead() {
        OpType<ListOp, List<Long>> lists = OpType
                .of(Codec.auto(ListOp.class), Codec.listOf(Codec.auto(Long.class)))
                .keyedBy(ListOp::list)
                .readOnlyWhen(op -> op instanceof ReadList);
        Model<List<Long>, TypedOperation<ListOp, List<Long>>> model = Model.of(List::of, (list, op, seen) -> {
            if (op instanceof Append a) {
                List<Long> next = new ArrayList<>(list);
                next.add(a.value());
                return Optional.of(List.copyOf(next));
            }
            return list.equals(seen) ? Optional.of(list) : Optional.empty();
        });
        TypedHistoryRecorder<ListOp, List<Long>> recorder = new TypedHistoryRecorder<>(lists);
        recorder.ok(recorder.invoke(1, new Append("l", 7)), null);
        recorder.ok(recorder.invoke(2, new ReadList("l")), List.of());   // begun after the append ended
        assertFalse(LinearizabilityChecker.check(recorder.history(), model, CheckOptions.DEFAULT).isValid(),
                "a read that misses a completed append is not linearizable");
    }

    @Test
    void theDocumentationShowsExactlyTheTestedCode() throws IOException {
        Path page = Path.of("../docs/user-guide.md");
        DocSnippets.assertShown(page, DocSnippets.between(SOURCE, "types"));
        DocSnippets.assertShown(page, DocSnippets.between(SOURCE, "check"));
    }
}
