package dev.raftkit.testkit.property;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Runs a property: a body that must hold for every value a generator produces.
 *
 * <pre>{@code
 * Property.check("reversing twice is the identity", Gens.lists(Gens.ints(-50, 50), 0, 20), list -> {
 *     assertEquals(list, reverse(reverse(list)));
 * });
 * }</pre>
 *
 * <p><b>Tries.</b> {@code -Dproperty.tries=N} sets the number of tries (default 1000);
 * {@link Builder#tries(int)} in the code takes precedence.
 *
 * <p><b>Seeds.</b> Each try has its own seed, derived from the run's seed: by default a hash of
 * the property's name, so the default build is reproducible; {@link Builder#seed(long)} overrides
 * it. When a try fails, the harness shrinks the counter-example, then throws an
 * {@link AssertionError} naming the property, the try, the original and the shrunk counter-example,
 * the try's seed and the hint {@code -Dproperty.seed=<seed>}. Running with that system property
 * (or {@link Builder#replay(long)}) runs exactly that one try again: the same original value,
 * shrunk the same way to the same counter-example, provided the body itself is deterministic.
 *
 * <p>The body fails when it throws anything (an assertion, any exception). Do not use JUnit
 * assumptions inside it: use {@link Gen#filter} to restrict the values.
 */
public final class Property {

    /** System property: the number of tries of every property without an explicit count. */
    public static final String TRIES_PROPERTY = "property.tries";
    /** System property: replay exactly the try with this seed, in every property run. */
    public static final String SEED_PROPERTY = "property.seed";
    /** Tries per property when neither the code nor {@value #TRIES_PROPERTY} says otherwise. */
    public static final int DEFAULT_TRIES = 1000;
    /** Runs of the body spent shrinking one failure, unless {@link Builder#maxShrinkSteps} says. */
    public static final int DEFAULT_MAX_SHRINK_STEPS = 5000;

    private Property() {
    }

    /** A property body: a check that may throw anything. */
    @FunctionalInterface
    public interface ThrowingConsumer<T> {

        /** Checks the property for {@code value}; throws to report a failure. */
        void accept(T value) throws Throwable;
    }

    /**
     * Checks {@code body} for values of {@code gen}; the name seeds the run and labels failures.
     *
     * @throws AssertionError      if the body fails for some value (message as described above)
     * @throws GenerationException if {@code gen} cannot produce a value
     */
    public static <T> void check(String name, Gen<T> gen, ThrowingConsumer<T> body) {
        forAll(gen).name(name).check(body);
    }

    /** Starts configuring a property over the values of {@code gen}. */
    public static <T> Builder<T> forAll(Gen<T> gen) {
        return new Builder<>(gen);
    }

    /** Runs the body on one value; returns what it threw, or null. */
    static <T> Throwable run(ThrowingConsumer<T> body, T value) {
        try {
            body.accept(value);
            return null;
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable t) {
            return t;
        }
    }

    /** Configures and runs one property. Not thread-safe; build, run, discard. */
    public static final class Builder<T> {

        private final Gen<T> gen;
        private String name;
        private Integer tries;
        private Long seed;
        private Long replay;
        private int maxShrinkSteps = DEFAULT_MAX_SHRINK_STEPS;
        private Function<String, String> settings = System::getProperty;

        private Builder(Gen<T> gen) {
            this.gen = Objects.requireNonNull(gen, "gen");
        }

        /** Names the property; the default is the calling test's {@code Class#method}. */
        public Builder<T> name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /** Runs {@code tries} tries, whatever {@value #TRIES_PROPERTY} says. */
        public Builder<T> tries(int tries) {
            this.tries = requirePositive(tries, "tries");
            return this;
        }

        /** Seeds the run with {@code seed} instead of the hash of the name. */
        public Builder<T> seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Runs only the try with this seed (as printed by a failure), as {@code -Dproperty.seed} does. */
        public Builder<T> replay(long trySeed) {
            this.replay = trySeed;
            return this;
        }

        /** Bounds the runs of the body spent shrinking a failure (0: report it unshrunk). */
        public Builder<T> maxShrinkSteps(int steps) {
            if (steps < 0) {
                throw new IllegalArgumentException("maxShrinkSteps must not be negative, got " + steps);
            }
            this.maxShrinkSteps = steps;
            return this;
        }

        /** Reads {@value #TRIES_PROPERTY} and {@value #SEED_PROPERTY} from {@code values}, not the JVM. */
        Builder<T> settings(Map<String, String> values) {
            this.settings = Map.copyOf(values)::get;
            return this;
        }

        /**
         * Runs the property.
         *
         * @throws AssertionError      if the body fails for some value, after shrinking it
         * @throws GenerationException if the generator cannot produce a value
         */
        public void check(ThrowingConsumer<T> body) {
            Result<T> result = checkResult(body);
            if (result.failure().isPresent()) {
                throw result.failure().get().toAssertionError();
            }
        }

        /**
         * Runs the property and returns the outcome instead of throwing it (for testing the harness,
         * or for tools that report failures their own way).
         *
         * @throws GenerationException if the generator cannot produce a value
         */
        public Result<T> checkResult(ThrowingConsumer<T> body) {
            Objects.requireNonNull(body, "body");
            String caller = Caller.find();
            String label = name != null ? name : caller;
            Long replaySeed = replay != null ? replay : parseSeed(settings.apply(SEED_PROPERTY));
            int count = replaySeed != null ? 1 : tries != null ? tries : parseTries(settings.apply(TRIES_PROPERTY));
            long base = seed != null ? seed : ChoiceSource.seedOf(label);
            for (int n = 1; n <= count; n++) {
                long trySeed = replaySeed != null ? replaySeed : ChoiceSource.trySeed(base, n);
                ChoiceSource source = ChoiceSource.random(trySeed);
                T value;
                try {
                    value = gen.generate(source);
                } catch (GenerationException e) {
                    throw new GenerationException("property '" + label + "', try " + n + " (seed " + trySeed
                            + "): " + e.getMessage(), e);
                }
                Throwable error = run(body, value);
                if (error != null) {
                    return new Result<>(label, n, Optional.of(shrink(label, caller, n, count, replaySeed != null,
                            trySeed, new Shrinker.Attempt<>(source.choices(), source.spans(), value, error), body)));
                }
            }
            return new Result<>(label, count, Optional.empty());
        }

        private Failure<T> shrink(String label, String caller, int tryNumber, int count, boolean replayed,
                                  long trySeed, Shrinker.Attempt<T> failing, ThrowingConsumer<T> body) {
            Shrinker<T> shrinker = new Shrinker<>(gen, body, maxShrinkSteps, failing);
            Shrinker.Attempt<T> smallest = shrinker.shrink();
            // Regenerate both values: the body may have mutated the ones it was given.
            T original = gen.generate(ChoiceSource.replaying(failing.choices()));
            T shrunk = gen.generate(ChoiceSource.replaying(smallest.choices()));
            return new Failure<>(label, caller, trySeed, tryNumber, count, replayed, original, shrunk,
                    failing.error(), smallest.error(), shrinker.steps());
        }

        private static Long parseSeed(String text) {
            if (text == null || text.isBlank()) {
                return null;
            }
            try {
                return Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + SEED_PROPERTY + "=" + text
                        + " is not a seed: give the number a failing property printed", e);
            }
        }

        private static int parseTries(String text) {
            if (text == null || text.isBlank()) {
                return DEFAULT_TRIES;
            }
            try {
                return requirePositive(Integer.parseInt(text.trim()), "-D" + TRIES_PROPERTY);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + TRIES_PROPERTY + "=" + text + " is not a number of tries", e);
            }
        }

        private static int requirePositive(int value, String what) {
            if (value < 1) {
                throw new IllegalArgumentException(what + " must be at least 1, got " + value);
            }
            return value;
        }
    }

    /**
     * The outcome of a property run.
     *
     * @param name    the property's name
     * @param tries   tries run, the failing one included
     * @param failure the failure, if a try failed
     */
    public record Result<T>(String name, int tries, Optional<Failure<T>> failure) {

        /** Whether every try passed. */
        public boolean passed() {
            return failure.isEmpty();
        }
    }

    /**
     * A failed try, shrunk.
     *
     * @param name        the property's name
     * @param caller      the {@code Class#method} that ran the property, for the replay command
     * @param seed        the failing try's seed: {@code -Dproperty.seed=<seed>} replays it
     * @param tryNumber   the failing try, from 1
     * @param tries       tries the run was to make
     * @param replayed    whether this run replayed one seed
     * @param original    the value the try generated (regenerated, so not touched by the body)
     * @param shrunk      the smallest failing value found (likewise regenerated)
     * @param error       what the body threw for the original value
     * @param shrunkError what the body threw for the shrunk value
     * @param shrinkSteps runs of the body spent shrinking
     */
    public record Failure<T>(String name, String caller, long seed, int tryNumber, int tries, boolean replayed,
                             T original, T shrunk, Throwable error, Throwable shrunkError, int shrinkSteps) {

        /** The report: what failed, the counter-examples, and how to replay it. */
        public String message() {
            String run = replayed
                    ? "failed when replaying seed " + seed
                    : "failed on try " + tryNumber + " of " + tries + " (after " + (tryNumber - 1) + " passing tries)";
            return "Property '" + name + "' " + run + ".\n"
                    + "  original counter-example: " + Limits.describe(original) + "\n"
                    + "  shrunk counter-example:   " + Limits.describe(shrunk)
                    + "  (" + shrinkSteps + " shrink steps)\n"
                    + "  shrunk failure: " + shrunkError + "\n"
                    + "  seed: " + seed + "\n"
                    + "  Replay: -D" + SEED_PROPERTY + "=" + seed + " runs exactly this try again (same original,"
                    + " same shrinking), e.g.\n"
                    + "    mvn -pl <module> test -Dtest=" + caller + " -D" + SEED_PROPERTY + "=" + seed;
        }

        /** The report as an error, with the original failure as its cause and the shrunk one suppressed. */
        public AssertionError toAssertionError() {
            AssertionError e = new AssertionError(message(), error);
            if (shrunkError != error) {
                e.addSuppressed(shrunkError);
            }
            return e;
        }
    }

    /** Finds the test that runs a property, for default names and the replay command. */
    private static final class Caller {

        static String find() {
            return StackWalker.getInstance().walk(frames -> frames
                    .filter(f -> !isHarness(f.getClassName()))
                    .findFirst()
                    .map(f -> simpleName(f.getClassName()) + "#" + methodName(f.getMethodName()))
                    .orElse("property"));
        }

        private static boolean isHarness(String className) {
            return className.equals(Property.class.getName())
                    || className.startsWith(Property.class.getName() + "$");
        }

        private static String simpleName(String className) {
            String simple = className.substring(className.lastIndexOf('.') + 1);
            int nested = simple.indexOf('$');
            return nested < 0 ? simple : simple.substring(0, nested);
        }

        /** {@code lambda$someTest$3} (a property run inside a lambda) is {@code someTest}. */
        private static String methodName(String method) {
            if (method.startsWith("lambda$")) {
                String rest = method.substring("lambda$".length());
                int end = rest.indexOf('$');
                return end < 0 ? rest : rest.substring(0, end);
            }
            return method;
        }
    }
}
