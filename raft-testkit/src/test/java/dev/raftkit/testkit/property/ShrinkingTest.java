package dev.raftkit.testkit.property;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Shrinking finds the minimal counter-example: numbers at the boundary, the shortest list, the
 * shortest action sequence. Each case runs under several seeds, so a pass is not luck.
 */
class ShrinkingTest {

    private static final int SEEDS = 10;

    @Test
    void intShrinksToTheBoundary() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            assertEquals(1000, shrunk(Gens.ints(0, 1_000_000), seed, x -> assertTrue(x < 1000)));
        }
    }

    @Test
    void signedNumbersShrinkTowardZeroToTheBoundaryOnEitherSide() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            assertEquals(1000, shrunk(Gens.ints(-1_000_000, 1_000_000), seed, x -> assertTrue(x < 1000)));
            assertEquals(-500, shrunk(Gens.ints(-1_000_000, 1_000_000), seed, x -> assertTrue(x > -500)));
            assertEquals(-100L, shrunk(Gens.longs(-1_000_000_000_000L, -7), seed, x -> assertTrue(x > -100)));
            assertEquals(1L << 40,
                    shrunk(Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE), seed, x -> assertTrue(Math.abs(x) < 1L << 40)));
        }
    }

    @Test
    void listWithTooLargeASumShrinksToOneElementAtTheBoundary() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            assertEquals(List.of(100), shrunk(Gens.lists(Gens.ints(0, 1000), 0, 50), seed,
                    list -> assertTrue(list.stream().mapToInt(Integer::intValue).sum() < 100)));
        }
    }

    @Test
    void sumSpreadOverSmallElementsShrinksToTheFewestElements() {
        // No single element can reach 100: the minimum is two elements, the first as small as can be.
        for (long seed = 1; seed <= SEEDS; seed++) {
            assertEquals(List.of(40, 60), shrunk(Gens.lists(Gens.ints(0, 60), 0, 50), seed,
                    list -> assertTrue(list.stream().mapToInt(Integer::intValue).sum() < 100)));
        }
    }

    @Test
    void sevenAfterAThreeShrinksToExactlyThoseTwo() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            assertEquals(List.of(3, 7), shrunk(Gens.lists(Gens.ints(0, 9), 0, 40), seed, list -> {
                int three = list.indexOf(3);
                assertTrue(three < 0 || !list.subList(three, list.size()).contains(7));
            }));
        }
    }

    @Test
    void setShrinksToTheSmallestOffendingElements() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            List<Integer> shrunk = new ArrayList<>(shrunk(Gens.sets(Gens.ints(0, 100), 0, 30), seed,
                    set -> assertTrue(set.size() < 3)));
            shrunk.sort(null);
            assertEquals(List.of(0, 1, 2), shrunk);
        }
    }

    /** Actions against a stack; the stack under test is wrong once it holds three or more values. */
    sealed interface Action permits Push, Pop {
    }

    record Push(int value) implements Action {
    }

    record Pop() implements Action {
    }

    @Test
    void actionSequenceShrinksToTheShortestSequenceThatShowsTheBug() {
        Gen<Action> action = Gens.choose(Gens.ints(0, 9).map(Push::new), Gens.constant(new Pop()));
        for (long seed = 1; seed <= SEEDS; seed++) {
            assertEquals(List.of(new Push(0), new Push(0), new Push(1), new Pop()),
                    shrunk(Gens.lists(action, 0, 60), seed, ShrinkingTest::stackAgreesWithModel));
        }
    }

    @Test
    void pairsShrinkBothSides() {
        for (long seed = 1; seed <= SEEDS; seed++) {
            assertEquals(new Gens.Pair<>(1, 2), shrunk(Gens.pairs(Gens.ints(0, 1000), Gens.ints(0, 1000)), seed,
                    p -> assertTrue(p.first() == 0 || p.second() <= p.first())));
        }
    }

    @Test
    void shrinkingStopsWithinItsStepBudget() {
        Property.Failure<List<Integer>> failure = Property.forAll(Gens.lists(Gens.ints(0, 1_000_000), 40, 40))
                .name("budget").settings(Map.of()).maxShrinkSteps(25)
                .checkResult(list -> assertTrue(list.get(39) < 10)).failure().orElseThrow();
        assertTrue(failure.shrinkSteps() <= 25, "steps: " + failure.shrinkSteps());
        assertTrue(failure.shrunk().get(39) >= 10, "still a counter-example: " + failure.shrunk());
    }

    private static void stackAgreesWithModel(List<Action> actions) {
        Deque<Integer> model = new ArrayDeque<>();
        BuggyStack stack = new BuggyStack();
        for (Action a : actions) {
            if (a instanceof Push push) {
                model.push(push.value());
                stack.push(push.value());
            } else if (!model.isEmpty()) {
                assertEquals(model.pop(), stack.pop(), "pop after " + actions);
            }
        }
    }

    /** Pops the bottom instead of the top once it holds three values. */
    private static final class BuggyStack {
        private final List<Integer> values = new ArrayList<>();

        void push(int v) {
            values.add(v);
        }

        int pop() {
            return values.size() >= 3 ? values.remove(0) : values.remove(values.size() - 1);
        }
    }

    private static <T> T shrunk(Gen<T> gen, long seed, Property.ThrowingConsumer<T> body) {
        Property.Result<T> result = Property.forAll(gen).name("shrinking").seed(seed).settings(Map.of())
                .checkResult(body);
        return result.failure().orElseThrow(() -> new AssertionError("expected a failure with seed " + seed))
                .shrunk();
    }
}
