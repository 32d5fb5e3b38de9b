package dev.raftkit.testkit.property;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** Generators: ranges, sizes, weights, the simplest value, and clear errors. */
class GensTest {

    private static final int DRAWS = 4000;

    @Test
    void numbersStayInTheirRangeAndReachBothEnds() {
        assertEquals(set(IntStream.rangeClosed(-3, 3).boxed()), drawn(Gens.ints(-3, 3)));
        assertEquals(set(LongStream.rangeClosed(5, 9).boxed()), drawn(Gens.longs(5, 9)));
        assertEquals(set(LongStream.rangeClosed(-9, -5).boxed()), drawn(Gens.longs(-9, -5)));
        assertEquals(Set.of(Long.MIN_VALUE, Long.MIN_VALUE + 1), drawn(Gens.longs(Long.MIN_VALUE, Long.MIN_VALUE + 1)));
        assertEquals(Set.of(Long.MAX_VALUE - 1, Long.MAX_VALUE), drawn(Gens.longs(Long.MAX_VALUE - 1, Long.MAX_VALUE)));
        assertEquals(Set.of(false, true), drawn(Gens.booleans()));
    }

    @Test
    void theFullLongRangeDrawsBothSigns() {
        Set<Long> values = drawn(Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE));
        assertTrue(values.stream().anyMatch(v -> v < 0) && values.stream().anyMatch(v -> v > 0), values.toString());
    }

    @Test
    void theSimplestValueIsTheOneNearestZero() {
        assertEquals(0, simplest(Gens.ints(-5, 5)));
        assertEquals(3, simplest(Gens.ints(3, 9)));
        assertEquals(-3, simplest(Gens.ints(-9, -3)));
        assertEquals(0L, simplest(Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE)));
        assertEquals(List.of(), simplest(Gens.lists(Gens.ints(1, 5), 0, 10)));
        assertEquals(List.of(1, 1), simplest(Gens.lists(Gens.ints(1, 5), 2, 10)));
        assertEquals("a", simplest(Gens.oneOf("a", "b", "c")));
        assertEquals(false, simplest(Gens.booleans()));
    }

    @Test
    void signedChoicesMapOneToOneOntoTheRange() {
        // Replaying every choice of an asymmetric range must give every value exactly once.
        List<Long> values = new ArrayList<>();
        for (long choice = 0; choice <= 12; choice++) {
            values.add(Gens.longs(-3, 9).generate(ChoiceSource.replaying(new long[] {choice})));
        }
        assertEquals(List.of(0L, 1L, -1L, 2L, -2L, 3L, -3L, 4L, 5L, 6L, 7L, 8L, 9L), values);
    }

    @Test
    void replayClampsChoicesIntoTheRangeAndDrawsMinimumsPastTheEnd() {
        ChoiceSource source = ChoiceSource.replaying(new long[] {100, 1});
        assertEquals(9, source.nextInt(0, 9));
        assertTrue(source.nextBoolean());
        assertEquals(-4, source.nextInt(-4, 4), "past the end: the minimum");
        assertEquals(List.of(9L, 1L, 0L), LongStream.of(source.choices()).boxed().toList());
    }

    @Test
    void sameSeedSameChoices() {
        assertEquals(draws(7), draws(7));
        assertFalse(draws(7).equals(draws(8)));
    }

    @Test
    void listsAndSetsRespectTheirSizes() {
        for (List<Integer> list : samples(Gens.lists(Gens.ints(0, 9), 2, 6))) {
            assertTrue(list.size() >= 2 && list.size() <= 6, list.toString());
        }
        Set<Integer> sizes = new HashSet<>();
        for (Set<Integer> set : samples(Gens.sets(Gens.ints(0, 1000), 1, 5))) {
            assertTrue(set.size() >= 1 && set.size() <= 5, set.toString());
            sizes.add(set.size());
        }
        assertEquals(Set.of(1, 2, 3, 4, 5), sizes);
        assertEquals(Set.of(0, 1, 2), samples(Gens.sets(Gens.ints(0, 2), 3, 3)).get(0));
    }

    @Test
    void listsAverageAboutTwentyFiveOptionalElementsWhenRoomy() {
        double average = samples(Gens.lists(Gens.ints(0, 9), 0, 10_000)).stream().mapToInt(List::size).average()
                .orElseThrow();
        assertTrue(average > 20 && average < 30, "average size " + average);
    }

    @Test
    void frequencyFollowsTheWeights() {
        Gen<String> gen = Gens.frequency(List.of(new Gens.Weighted<>(1, Gens.constant("rare")),
                new Gens.Weighted<>(3, Gens.constant("common"))));
        long common = samples(gen).stream().filter("common"::equals).count();
        assertTrue(common > DRAWS * 0.70 && common < DRAWS * 0.80, "common: " + common + " of " + DRAWS);
    }

    @Test
    void chooseAndMapAndFlatMapCompose() {
        Gen<String> gen = Gens.choose(Gens.ints(0, 9).map(i -> "int " + i), Gens.booleans().map(b -> "bool " + b));
        Set<String> kinds = samples(gen).stream().map(s -> s.split(" ")[0]).collect(Collectors.toSet());
        assertEquals(Set.of("int", "bool"), kinds);

        Gen<List<Integer>> prefixOfIndexes = Gens.ints(1, 5).flatMap(n -> Gens.lists(Gens.ints(0, n - 1), n, n));
        for (List<Integer> list : samples(prefixOfIndexes)) {
            assertTrue(list.stream().allMatch(i -> i < list.size()), list.toString());
        }
    }

    @Test
    void filterKeepsOnlyAcceptedValues() {
        assertTrue(samples(Gens.ints(0, 100).filter(x -> x % 2 == 0)).stream().allMatch(x -> x % 2 == 0));
    }

    @Test
    void filterThatRejectsEverythingGivesUpWithAClearError() {
        GenerationException e = assertThrows(GenerationException.class,
                () -> Gens.ints(0, 10).filter(x -> x > 100).generate(ChoiceSource.random(1)));
        assertTrue(e.getMessage().startsWith("filter rejected 100 generated values in a row (the last was "),
                e.getMessage());
        assertTrue(e.getMessage().contains("the predicate is too strict"), e.getMessage());
    }

    @Test
    void setsThatCannotReachTheirMinimumSizeSaySo() {
        GenerationException e = assertThrows(GenerationException.class,
                () -> Gens.sets(Gens.ints(0, 2), 4, 10).generate(ChoiceSource.random(1)));
        assertTrue(e.getMessage().contains("found only 3 distinct elements"), e.getMessage());
        assertTrue(e.getMessage().contains("minSize is 4"), e.getMessage());
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Gens.ints(2, 1));
        assertThrows(IllegalArgumentException.class, () -> Gens.lists(Gens.ints(0, 1), 3, 2));
        assertThrows(IllegalArgumentException.class, () -> Gens.sets(Gens.ints(0, 1), -1, 2));
        assertThrows(IllegalArgumentException.class, () -> Gens.oneOf());
        assertThrows(IllegalArgumentException.class, () -> Gens.elements(List.of()));
        assertThrows(IllegalArgumentException.class, () -> Gens.frequency(List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Gens.Weighted<>(0, Gens.constant(1)));
        assertThrows(IllegalArgumentException.class, () -> ChoiceSource.random(1).nextLong(1, 0));
    }

    @Test
    void pairsPrintReadably() {
        assertEquals("(1, [a, b])", new Gens.Pair<>(1, List.of("a", "b")).toString());
    }

    private static List<Long> draws(long seed) {
        ChoiceSource source = ChoiceSource.random(seed);
        return IntStream.range(0, 100).mapToObj(i -> source.nextLong(-1000, 1000)).toList();
    }

    private static <T> Set<T> drawn(Gen<T> gen) {
        return new HashSet<>(samples(gen));
    }

    private static <T> List<T> samples(Gen<T> gen) {
        ChoiceSource source = ChoiceSource.random(12345);
        return IntStream.range(0, DRAWS).mapToObj(i -> gen.generate(source)).toList();
    }

    private static <T> T simplest(Gen<T> gen) {
        return gen.generate(ChoiceSource.replaying(new long[0]));
    }

    private static <T> Set<T> set(java.util.stream.Stream<T> values) {
        return values.collect(Collectors.toSet());
    }
}
