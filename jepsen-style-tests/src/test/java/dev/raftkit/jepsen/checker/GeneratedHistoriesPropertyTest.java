package dev.raftkit.jepsen.checker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.raftkit.jepsen.history.Command;
import dev.raftkit.jepsen.history.History;
import dev.raftkit.jepsen.history.JsonLines;
import dev.raftkit.jepsen.history.OpStatus;
import dev.raftkit.jepsen.history.Operation;
import dev.raftkit.jepsen.history.Response;
import dev.raftkit.jepsen.history.TypedHistory;
import dev.raftkit.jepsen.history.TypedOperation;
import dev.raftkit.testkit.property.Gen;
import dev.raftkit.testkit.property.Property;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The checker against histories whose answer is known by construction, and against a brute-force
 * oracle on random small histories.
 */
class GeneratedHistoriesPropertyTest {

    private static final Budget BUDGET = Budget.of(Duration.ofSeconds(10), 2_000_000);

    /** Shapes shrink toward one client, one key, no overlap, no failures. */
    private static final Gen<LinearizableHistories.Shape> SHAPES = source -> new LinearizableHistories.Shape(
            source.nextInt(1, 60), source.nextInt(1, 3), source.nextInt(1, 6), source.nextInt(0, 30),
            source.nextInt(0, 15), source.nextInt(0, 10));

    private static final Gen<History> LINEARIZABLE =
            SHAPES.flatMap(shape -> source -> LinearizableHistories.generate(shape, source::nextInt));

    @Test
    void historiesFromSequentialExecutionsWithConcurrencyWindows_areAccepted() {
        Property.check("linearizable by construction is accepted", LINEARIZABLE, h -> {
            CheckResult<Operation> r = LinearizabilityChecker.check(h, BUDGET);
            assertEquals(Verdict.LINEARIZABLE, r.verdict(), () -> r + "\n" + h);
        });
    }

    @Test
    void aReadOfAValueNeverWritten_isRejected() {
        Gen<History> corrupted = LINEARIZABLE
                .filter(h -> !LinearizableHistories.okReads(h).isEmpty())
                .flatMap(h -> source -> {
                    List<Integer> reads = LinearizableHistories.okReads(h);
                    return LinearizableHistories.withUnwrittenRead(h, reads.get(source.nextInt(0, reads.size() - 1)));
                });
        Property.check("a read of a never-written value is rejected", corrupted, h -> {
            CheckResult<Operation> r = LinearizabilityChecker.check(h, BUDGET);
            assertEquals(Verdict.NOT_LINEARIZABLE, r.verdict(), () -> r + "\n" + h);
            assertEquals(1, r.keysWith(Verdict.NOT_LINEARIZABLE).size(), r::toString);
        });
    }

    /**
     * Random small histories — mostly not linearizable: values and responses are drawn from a
     * tiny set, intervals at random — must get the verdict the brute-force oracle gives.
     */
    @Test
    void randomSmallHistories_agreeWithBruteForce() {
        Gen<History> random = source -> {
            History.Builder b = History.builder();
            int n = source.nextInt(0, 7);
            for (int i = 0; i < n; i++) {
                String key = "k" + source.nextInt(0, 1);
                long invoke = source.nextInt(0, 20);
                long complete = invoke + source.nextInt(0, 10);
                String value = String.valueOf((char) ('a' + source.nextInt(0, 2)));
                String other = source.nextBoolean() ? null : String.valueOf((char) ('a' + source.nextInt(0, 2)));
                Command command = switch (source.nextInt(0, 2)) {
                    case 0 -> Command.write(key, value);
                    case 1 -> Command.read(key);
                    default -> Command.cas(key, other, value);
                };
                switch (source.nextInt(0, 5)) {
                    case 4 -> b.info(i, command, invoke);
                    case 5 -> b.fail(i, command, invoke, complete);
                    default -> b.ok(i, command, command instanceof Command.Write ? Response.written()
                            : command instanceof Command.Read ? Response.read(source.nextBoolean() ? null : value)
                            : Response.cas(source.nextBoolean()), invoke, complete);
                }
            }
            return b.build();
        };
        Property.check("WGL agrees with brute force", random, h -> {
            boolean expected = BruteForceOracle.isLinearizable(h);
            CheckResult<Operation> r = LinearizabilityChecker.check(h, BUDGET);
            assertEquals(expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE, r.verdict(),
                    () -> r + "\n" + h);
        });
    }

    /**
     * The same on a user's own model: random small append-list histories (reads answered with
     * random short lists), checker against the definition, and both verdicts must occur.
     */
    @Test
    void randomSmallAppendListHistories_agreeWithBruteForce() {
        AppendListModel model = new AppendListModel();
        Gen<TypedHistory<AppendListModel.ListOp, List<Long>>> random = source -> {
            TypedHistory.Builder<AppendListModel.ListOp, List<Long>> b = TypedHistory.builder(AppendListModel.TYPE);
            int n = source.nextInt(0, 7);
            for (int i = 0; i < n; i++) {
                String list = "l" + source.nextInt(0, 1);
                long invoke = source.nextInt(0, 20);
                long complete = invoke + source.nextInt(0, 10);
                boolean append = source.nextBoolean();
                AppendListModel.ListOp op = append ? new AppendListModel.Append(list, source.nextInt(1, 3))
                        : new AppendListModel.ReadList(list);
                List<Long> seen = new java.util.ArrayList<>();
                for (int k = source.nextInt(0, 2); k > 0; k--) {
                    seen.add((long) source.nextInt(1, 3));
                }
                switch (source.nextInt(0, 5)) {
                    case 4 -> b.info(i, op, invoke);
                    case 5 -> b.fail(i, op, invoke, complete);
                    default -> b.ok(i, op, append ? null : List.copyOf(seen), invoke, complete);
                }
            }
            return b.build();
        };
        java.util.concurrent.atomic.AtomicInteger valid = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger invalid = new java.util.concurrent.atomic.AtomicInteger();
        Property.check("WGL agrees with brute force on append-only lists", random, h -> {
            List<Call<TypedOperation<AppendListModel.ListOp, List<Long>>>> calls = new java.util.ArrayList<>();
            for (TypedOperation<AppendListModel.ListOp, List<Long>> o : h.operations()) {
                boolean read = o.input() instanceof AppendListModel.ReadList;
                if (o.status() == OpStatus.OK) {
                    calls.add(Call.completed(o, o.invokeNanos(), o.completeNanos()));
                } else if (o.status() == OpStatus.INFO && !read) {
                    calls.add(Call.indeterminate(o, o.invokeNanos()));
                }
            }
            boolean expected = BruteForceOracle.isLinearizable(calls, o -> o.input().list(), model);
            (expected ? valid : invalid).incrementAndGet();
            var r = LinearizabilityChecker.check(h, model, CheckOptions.of(BUDGET));
            assertEquals(expected ? Verdict.LINEARIZABLE : Verdict.NOT_LINEARIZABLE, r.verdict(),
                    () -> r + "\n" + h);
        });
        assertTrue(valid.get() > 0 && invalid.get() > 0, valid + " valid, " + invalid + " invalid");
    }

    @Test
    void jsonLinesRoundTrip_keepsHistoryAndVerdict() {
        Property.check("JSON lines round trip", LINEARIZABLE, h -> {
            History back = JsonLines.parse(JsonLines.toJsonLines(h));
            assertEquals(h, back);
            assertEquals(LinearizabilityChecker.check(h, BUDGET).verdict(),
                    LinearizabilityChecker.check(back, BUDGET).verdict());
        });
    }
}
