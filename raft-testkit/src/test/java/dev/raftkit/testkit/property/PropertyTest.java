package dev.raftkit.testkit.property;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The runner: tries, seeds, replay and the failure report. */
class PropertyTest {

    /** No -Dproperty.* from the build may leak into these tests. */
    private static final Map<String, String> NO_SETTINGS = Map.of();

    @Test
    void passingPropertyRunsExactlyTheGivenNumberOfTries() {
        AtomicInteger runs = new AtomicInteger();
        Property.Result<Integer> result = Property.forAll(Gens.ints(0, 10)).name("passes").tries(137)
                .settings(NO_SETTINGS).checkResult(x -> runs.incrementAndGet());
        assertTrue(result.passed());
        assertEquals(137, result.tries());
        assertEquals(137, runs.get());
    }

    @Test
    void triesComeFromThePropertyTriesSettingElseDefaultToOneThousand() {
        AtomicInteger runs = new AtomicInteger();
        Property.forAll(Gens.ints(0, 10)).name("p").settings(Map.of(Property.TRIES_PROPERTY, "42"))
                .checkResult(x -> runs.incrementAndGet());
        assertEquals(42, runs.get());

        runs.set(0);
        Property.forAll(Gens.ints(0, 10)).name("p").settings(NO_SETTINGS).checkResult(x -> runs.incrementAndGet());
        assertEquals(Property.DEFAULT_TRIES, runs.get());

        runs.set(0);
        Property.forAll(Gens.ints(0, 10)).name("p").tries(5).settings(Map.of(Property.TRIES_PROPERTY, "42"))
                .checkResult(x -> runs.incrementAndGet());
        assertEquals(5, runs.get(), "tries in the code win over the setting");
    }

    @Test
    void failingPropertyStopsAtTheFirstFailingTry() {
        AtomicInteger runs = new AtomicInteger();
        Property.Result<Integer> result = Property.forAll(Gens.ints(0, 1000)).name("stops").settings(NO_SETTINGS)
                .maxShrinkSteps(0).checkResult(x -> {
                    runs.incrementAndGet();
                    assertTrue(x < 900);
                });
        Property.Failure<Integer> failure = result.failure().orElseThrow();
        assertEquals(runs.get(), failure.tryNumber());
        assertEquals(failure.tryNumber(), result.tries());
        assertTrue(failure.original() >= 900);
        assertEquals(failure.original(), failure.shrunk(), "a budget of 0 leaves it unshrunk");
    }

    @Test
    void sameSeedGeneratesTheSameValuesAndAnotherSeedOthers() {
        Gen<List<Integer>> gen = Gens.lists(Gens.ints(-1000, 1000), 0, 10);
        assertEquals(values(gen, 42), values(gen, 42));
        assertNotEquals(values(gen, 42), values(gen, 43));
    }

    @Test
    void defaultSeedIsDerivedFromTheNameSoRunsRepeat() {
        Gen<Long> gen = Gens.longs(Long.MIN_VALUE, Long.MAX_VALUE);
        assertEquals(named(gen, "alpha"), named(gen, "alpha"));
        assertNotEquals(named(gen, "alpha"), named(gen, "beta"));
    }

    @Test
    void failureMessageNamesThePropertyTheTriesBothCounterExamplesAndTheSeed() {
        Property.Failure<Integer> failure = Property.forAll(Gens.ints(0, 1_000_000)).name("below a thousand")
                .settings(NO_SETTINGS).checkResult(x -> assertTrue(x < 1000, "x=" + x)).failure().orElseThrow();
        String message = failure.message();
        assertTrue(message.contains("Property 'below a thousand' failed on try " + failure.tryNumber() + " of 1000"),
                message);
        assertTrue(message.contains("after " + (failure.tryNumber() - 1) + " passing tries"), message);
        assertTrue(message.contains("original counter-example: " + failure.original()), message);
        assertTrue(message.contains("shrunk counter-example:   1000"), message);
        assertTrue(message.contains("seed: " + failure.seed()), message);
        assertTrue(message.contains("-Dproperty.seed=" + failure.seed()), message);
        assertTrue(message.contains("-Dtest=PropertyTest#failureMessageNamesThePropertyTheTriesBothCounterExamplesAndTheSeed"),
                message);
    }

    @Test
    void checkThrowsAnAssertionErrorCarryingTheOriginalFailureAsCause() {
        List<Throwable> thrown = new ArrayList<>();
        AssertionError error = assertThrows(AssertionError.class, () -> Property.forAll(Gens.ints(0, 100))
                .name("throws").settings(NO_SETTINGS).check(x -> {
                    if (x > 50) {
                        IllegalStateException e = new IllegalStateException("too big: " + x);
                        thrown.add(e);
                        throw e;
                    }
                }));
        assertTrue(error.getMessage().startsWith("Property 'throws' failed on try "), error.getMessage());
        assertSame(thrown.get(0), error.getCause(), "the first failure is the cause");
        assertEquals(1, error.getSuppressed().length);
        assertEquals("too big: 51", error.getSuppressed()[0].getMessage(), "the shrunk failure is suppressed");
    }

    @Test
    void replayingThePrintedSeedReproducesTheSameFailingCase() {
        Gen<List<Integer>> gen = Gens.lists(Gens.ints(0, 100), 0, 30);
        Property.ThrowingConsumer<List<Integer>> sumBelow1500 =
                list -> assertTrue(list.stream().mapToInt(Integer::intValue).sum() < 1500);
        // A run whose first failure is not its first try: replaying must find that try by its seed.
        Property.Failure<List<Integer>> first = LongStream.rangeClosed(1, 50)
                .mapToObj(seed -> Property.forAll(gen).name("sum below 1500").seed(seed).settings(NO_SETTINGS)
                        .checkResult(sumBelow1500).failure().orElseThrow())
                .filter(failure -> failure.tryNumber() > 1)
                .findFirst().orElseThrow();

        Property.Result<List<Integer>> byBuilder = Property.forAll(gen).name("sum below 1500").settings(NO_SETTINGS)
                .replay(first.seed()).checkResult(sumBelow1500);
        Property.Result<List<Integer>> bySetting = Property.forAll(gen).name("sum below 1500")
                .settings(Map.of(Property.SEED_PROPERTY, Long.toString(first.seed()))).checkResult(sumBelow1500);

        for (Property.Result<List<Integer>> replay : List.of(byBuilder, bySetting)) {
            assertEquals(1, replay.tries(), "a replay runs one try");
            Property.Failure<List<Integer>> again = replay.failure().orElseThrow();
            assertEquals(first.seed(), again.seed());
            assertEquals(first.original(), again.original());
            assertEquals(first.shrunk(), again.shrunk());
            assertTrue(again.message().contains("failed when replaying seed " + first.seed()), again.message());
        }
    }

    @Test
    void aBlankSeedSettingMeansNoReplay() {
        AtomicInteger runs = new AtomicInteger();
        Property.forAll(Gens.ints(0, 1)).name("p").tries(7).settings(Map.of(Property.SEED_PROPERTY, " "))
                .checkResult(x -> runs.incrementAndGet());
        assertEquals(7, runs.get());
    }

    @Test
    void malformedSettingsAreRefusedClearly() {
        IllegalArgumentException seed = assertThrows(IllegalArgumentException.class, () -> Property
                .forAll(Gens.ints(0, 1)).settings(Map.of(Property.SEED_PROPERTY, "0xnope")).checkResult(x -> { }));
        assertTrue(seed.getMessage().contains("-Dproperty.seed=0xnope is not a seed"), seed.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Property.forAll(Gens.ints(0, 1))
                .settings(Map.of(Property.TRIES_PROPERTY, "0")).checkResult(x -> { }));
        assertThrows(IllegalArgumentException.class, () -> Property.forAll(Gens.ints(0, 1)).tries(0));
    }

    @Test
    void theBodyMayMutateItsValueWithoutCorruptingTheReport() {
        Property.Failure<List<Integer>> failure = Property.forAll(Gens.lists(Gens.ints(1, 9), 1, 5).<List<Integer>>map(ArrayList::new))
                .name("mutates").settings(NO_SETTINGS).checkResult(list -> {
                    list.clear();
                    throw new AssertionError("always");
                }).failure().orElseThrow();
        assertEquals(List.of(1), failure.shrunk());
        assertTrue(!failure.original().isEmpty(), "the report regenerates values the body cleared");
    }

    @Test
    void generatorThatCannotProduceAValueIsReportedWithThePropertyAndSeed() {
        GenerationException e = assertThrows(GenerationException.class, () -> Property
                .check("never even", Gens.ints(0, 10).filter(x -> x > 100), x -> { }));
        assertTrue(e.getMessage().startsWith("property 'never even', try 1 (seed "), e.getMessage());
        assertTrue(e.getMessage().contains("filter rejected 100 generated values in a row"), e.getMessage());
        assertInstanceOf(GenerationException.class, e.getCause());
    }

    private static <T> List<T> values(Gen<T> gen, long seed) {
        List<T> seen = new ArrayList<>();
        Property.forAll(gen).name("values").seed(seed).tries(50).settings(NO_SETTINGS).checkResult(seen::add);
        return seen;
    }

    private static <T> List<T> named(Gen<T> gen, String name) {
        List<T> seen = new ArrayList<>();
        Property.forAll(gen).name(name).tries(20).settings(NO_SETTINGS).checkResult(seen::add);
        return seen;
    }
}
