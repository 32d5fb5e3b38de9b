package dev.raftkit.testkit.fuzz;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A seeded fuzzer for decoders of outside input (peer messages, client requests, commands,
 * snapshot images, backup files, log records).
 *
 * <p>A target is a decoder, a corpus of valid encodings, and the exception types the decoder
 * documents for bad input. Each input is a corpus member run through {@link Mutator} (or, when the
 * target has one, a random structured input, possibly mutated too); the decoder must either return
 * a value (which the target's check may inspect further) or throw one of its documented types with
 * a bounded message. Anything else is a finding: an undocumented exception
 * ({@code ArrayIndexOutOfBoundsException}, {@code NegativeArraySizeException}, a bare
 * {@code NullPointerException}…), an {@code OutOfMemoryError} or a stack overflow, more memory
 * allocated for one input than its limit (a huge length trusted before it was checked), an input
 * that runs longer than the hang limit (an endless loop), a refusal message longer than
 * {@link #MAX_MESSAGE_CHARS} (the input echoed unbounded), or a corpus member that does not decode
 * (a fuzz test that never reaches the decoder proves nothing).
 *
 * <p><b>Seeds.</b> Input {@code i} is generated from its own seed, derived from the run's seed
 * (by default a hash of the target's name, so the default build is reproducible). A finding names
 * that seed and prints the command that replays exactly that input: {@code -Dfuzz.replay=SEED}.
 *
 * <p><b>Budget.</b> By default a target runs the number of inputs its test gives, stopping early
 * after {@link #DEFAULT_CAP_SECONDS} seconds so the default build stays short on a slow machine.
 * {@code -Dfuzz.iterations=N} runs exactly N inputs per target (no time cap);
 * {@code -Dfuzz.seconds=S} runs each target for S seconds (unbounded count unless
 * {@code -Dfuzz.iterations} is given too); {@code -Dfuzz.seed=S} explores another run. Every target
 * prints one line with its count, inputs per second and outcomes, and appends it to
 * {@code target/fuzz-summary.txt}.
 */
public final class Fuzz {

    /** System property: inputs per target, replacing each test's default and the time cap. */
    public static final String ITERATIONS = "fuzz.iterations";
    /** System property: seconds per target (the long run). */
    public static final String SECONDS = "fuzz.seconds";
    /** System property: the run's seed, instead of the hash of each target's name. */
    public static final String SEED = "fuzz.seed";
    /** System property: run only the input with this seed, as a finding printed it. */
    public static final String REPLAY = "fuzz.replay";
    /** Seconds after which a default-build run of one target stops early. */
    public static final double DEFAULT_CAP_SECONDS = 2.0;
    /** Longest refusal message accepted: longer ones echo the input. */
    public static final int MAX_MESSAGE_CHARS = 2048;

    private Fuzz() {
    }

    /** Decodes one input; returns the value or throws. */
    @FunctionalInterface
    public interface Decoder<T> {

        /** Decodes {@code input} (which it may not modify). */
        T decode(byte[] input) throws Throwable;
    }

    /** Checks a decoded value further (for example: it encodes back to an equal value). */
    @FunctionalInterface
    public interface Check<T> {

        /** Throws if {@code value}, decoded from {@code input}, is not acceptable. */
        void check(byte[] input, T value) throws Throwable;
    }

    /** Starts describing a target called {@code name} (it names the target in reports and seeds it). */
    public static <T> Target<T> target(String name, Decoder<T> decoder) {
        return new Target<>(name, decoder);
    }

    /** One decoder under fuzzing; configure, then {@link #run()}. */
    public static final class Target<T> {
        private final String name;
        private final Decoder<T> decoder;
        private final List<byte[]> corpus = new ArrayList<>();
        private final List<Class<? extends Throwable>> refusals = new ArrayList<>();
        private Function<java.util.Random, byte[]> generator;
        private Check<T> check = (input, value) -> { };
        private int iterations = 10_000;
        private long allocationLimit = 32L << 20;
        private double hangSeconds = 10;
        private Function<String, String> properties = System::getProperty;

        private Target(String name, Decoder<T> decoder) {
            this.name = Objects.requireNonNull(name, "name");
            this.decoder = Objects.requireNonNull(decoder, "decoder");
        }

        /** Valid encodings to mutate; each must decode (they are run unmutated first). */
        public Target<T> corpus(List<byte[]> valid) {
            valid.forEach(b -> corpus.add(b.clone()));
            return this;
        }

        /** Random structured inputs (valid-looking, with hostile field values), mixed in with mutants. */
        public Target<T> generator(Function<java.util.Random, byte[]> structured) {
            this.generator = structured;
            return this;
        }

        /** The exception types the decoder documents for bad input (subclasses included). */
        @SafeVarargs
        public final Target<T> refusesWith(Class<? extends Throwable>... types) {
            refusals.addAll(Arrays.asList(types));
            return this;
        }

        /** A further check of every decoded value. */
        public Target<T> accepted(Check<T> check) {
            this.check = Objects.requireNonNull(check, "check");
            return this;
        }

        /** Inputs in the default build. */
        public Target<T> iterations(int n) {
            this.iterations = n;
            return this;
        }

        /** Most bytes one input may make the decoder allocate, beyond 16 times the input's length. */
        public Target<T> allocationLimit(long bytes) {
            this.allocationLimit = bytes;
            return this;
        }

        /** Seconds one input may take before the run reports it as an endless loop. */
        public Target<T> hangSeconds(double seconds) {
            this.hangSeconds = seconds;
            return this;
        }

        /**
         * Where the {@code fuzz.*} settings are read (default: system properties). A test of the
         * fuzzer itself pins them, so a long run's {@code -Dfuzz.seconds} does not change it.
         */
        public Target<T> properties(Function<String, String> source) {
            this.properties = Objects.requireNonNull(source, "source");
            return this;
        }

        /** Runs the target; throws an {@link AssertionError} describing the first finding. */
        public Report run() {
            if (corpus.isEmpty()) {
                throw new IllegalStateException("fuzz target " + name + " has an empty corpus");
            }
            Settings s = Settings.read(name, iterations, properties);
            Runner<T> runner = new Runner<>(this, s, caller());
            Report report = runner.runGuarded();
            System.out.println(report.line());
            appendSummary(report.line());
            return report;
        }
    }

    /**
     * What a run did.
     *
     * @param target   the target's name
     * @param inputs   inputs decoded
     * @param seconds  wall time
     * @param accepted inputs that decoded to a value
     * @param refused  refusals by exception type
     * @param seed     the run's seed
     * @param capped   whether the default-build time cap cut the run short
     */
    public record Report(String target, long inputs, double seconds, long accepted, Map<String, Long> refused,
                         long seed, boolean capped) {

        /** Inputs per second. */
        public double perSecond() {
            return seconds <= 0 ? inputs : inputs / seconds;
        }

        /** One line for the build log and the note. */
        public String line() {
            return String.format(Locale.ROOT, "fuzz %-28s %9d inputs in %6.2f s = %9.0f inputs/s; %d accepted, refused %s;"
                    + " seed %d%s", target, inputs, seconds, perSecond(), accepted, refused, seed,
                    capped ? " (stopped at the " + DEFAULT_CAP_SECONDS + " s default cap)" : "");
        }
    }

    // ------------------------------------------------------------------------------ internals

    private record Settings(long seed, Long replay, long iterations, double seconds, boolean capIsDefault) {

        static Settings read(String name, int defaultIterations, Function<String, String> properties) {
            Long seed = parse(properties.apply(SEED), SEED);
            Long replay = parse(properties.apply(REPLAY), REPLAY);
            Long n = parse(properties.apply(ITERATIONS), ITERATIONS);
            String secs = properties.apply(SECONDS);
            double seconds = secs == null || secs.isBlank() ? -1 : Double.parseDouble(secs.trim());
            long base = seed != null ? seed : name.hashCode() * 0x9E3779B97F4A7C15L;
            if (seconds > 0) {
                return new Settings(base, replay, n != null ? n : Long.MAX_VALUE, seconds, false);
            }
            if (n != null) {
                return new Settings(base, replay, n, Double.MAX_VALUE, false);
            }
            return new Settings(base, replay, defaultIterations, DEFAULT_CAP_SECONDS, true);
        }

        private static Long parse(String text, String what) {
            if (text == null || text.isBlank()) {
                return null;
            }
            try {
                return Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + what + "=" + text + " is not a number", e);
            }
        }
    }

    /** Input {@code i}'s seed (SplitMix64 of the run's seed and {@code i}). */
    static long inputSeed(long base, long i) {
        long z = base + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static final class Runner<T> {
        private final Target<T> t;
        private final Settings s;
        private final com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        private final Map<String, Long> refused = new TreeMap<>();
        private final AtomicReference<String> finding = new AtomicReference<>();
        private volatile long currentSeed;
        private volatile byte[] currentInput;
        private volatile long currentStart;
        private volatile boolean done;
        private long inputs;
        private long accepted;
        private boolean capped;
        private final String caller;

        Runner(Target<T> t, Settings s, String caller) {
            this.t = t;
            this.s = s;
            this.caller = caller;
        }

        /** Runs the loop on its own daemon thread, so an endless decoder is caught and reported. */
        Report runGuarded() {
            long start = System.nanoTime();
            Thread worker = new Thread(this::loop, "fuzz-" + t.name);
            worker.setDaemon(true);
            worker.start();
            long hangNanos = (long) (t.hangSeconds * 1e9);
            while (!done) {
                try {
                    worker.join(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while fuzzing " + t.name, e);
                }
                long begun = currentStart;
                if (!done && begun != 0 && System.nanoTime() - begun > hangNanos) {
                    finding.compareAndSet(null, describe(currentSeed, currentInput,
                            "still decoding after " + t.hangSeconds + " s (an endless loop?); its stack:\n"
                                    + stack(worker)));
                    worker.interrupt();
                    break;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (finding.get() != null) {
                throw new AssertionError(finding.get());
            }
            return new Report(t.name, inputs, seconds, accepted, refused, s.seed, capped);
        }

        private void loop() {
            try {
                long deadline = s.seconds >= Double.MAX_VALUE / 2 ? Long.MAX_VALUE
                        : System.nanoTime() + (long) (s.seconds * 1e9);
                if (s.replay != null) {
                    one(s.replay, generate(s.replay), false);
                    return;
                }
                for (int i = 0; i < t.corpus.size() && finding.get() == null; i++) {
                    one(0, t.corpus.get(i), true);
                }
                for (long i = 0; i < s.iterations && finding.get() == null; i++) {
                    if ((i & 15) == 0 && System.nanoTime() > deadline) {
                        capped = s.capIsDefault;
                        break;
                    }
                    long seed = inputSeed(s.seed, i);
                    one(seed, generate(seed), false);
                }
            } catch (Throwable e) {
                finding.compareAndSet(null, "the fuzzer of " + t.name + " itself failed: " + e);
            } finally {
                currentStart = 0;
                done = true;
            }
        }

        private byte[] generate(long seed) {
            java.util.Random rnd = new java.util.Random(seed);
            if (t.generator != null && rnd.nextInt(4) == 0) {
                byte[] g = t.generator.apply(rnd);
                return rnd.nextBoolean() ? g : Mutator.mutate(rnd, g, t.corpus);
            }
            return Mutator.mutate(rnd, t.corpus.get(rnd.nextInt(t.corpus.size())), t.corpus);
        }

        private void one(long seed, byte[] input, boolean mustDecode) {
            currentSeed = seed;
            currentInput = input;
            byte[] copy = input.clone();
            long allocated = threads.getCurrentThreadAllocatedBytes();
            currentStart = System.nanoTime();
            T value = null;
            Throwable error = null;
            try {
                value = t.decoder.decode(copy);
            } catch (Throwable e) {
                error = e;
            }
            currentStart = 0;
            long used = threads.getCurrentThreadAllocatedBytes() - allocated;
            inputs++;
            long limit = t.allocationLimit + 16L * input.length;
            if (used > limit) {
                report(seed, input, "allocated " + used + " bytes for an input of " + input.length
                        + " bytes (limit " + limit + "): a length trusted before it was checked?", error);
                return;
            }
            if (error == null) {
                accepted++;
                try {
                    t.check.check(input, value);
                } catch (Throwable e) {
                    report(seed, input, "decoded to " + describe(value) + " but the check failed: " + e, e);
                }
                return;
            }
            if (mustDecode) {
                report(seed, input, "a valid corpus input was refused: " + error, error);
                return;
            }
            Throwable thrown = error;
            boolean documented = thrown instanceof Exception
                    && t.refusals.stream().anyMatch(c -> c.isInstance(thrown));
            if (!documented) {
                report(seed, input, "threw " + error.getClass().getName() + ", not one of the documented "
                        + t.refusals.stream().map(Class::getSimpleName).toList(), error);
                return;
            }
            String message = error.getMessage();
            if (message != null && message.length() > MAX_MESSAGE_CHARS) {
                report(seed, input, "refused with a message of " + message.length() + " characters (more than "
                        + MAX_MESSAGE_CHARS + "): it echoes the input unbounded; it starts: "
                        + message.substring(0, 200), error);
                return;
            }
            refused.merge(error.getClass().getSimpleName(), 1L, Long::sum);
        }

        private void report(long seed, byte[] input, String what, Throwable error) {
            String text = describe(seed, input, what);
            if (error != null) {
                java.io.StringWriter trace = new java.io.StringWriter();
                error.printStackTrace(new java.io.PrintWriter(trace));
                String st = trace.toString();
                text += "\n  stack: " + (st.length() > 4000 ? st.substring(0, 4000) + "…" : st);
            }
            finding.compareAndSet(null, text);
        }

        private String describe(long seed, byte[] input, String what) {
            String module = Path.of("").toAbsolutePath().getFileName().toString();
            return "Fuzz target '" + t.name + "': input " + (seed == 0 ? "from the corpus" : "with seed " + seed)
                    + " (" + input.length + " bytes) " + what + "\n"
                    + "  input: " + hex(input, seed == 0 || s.replay != null ? 4096 : 256) + "\n"
                    + (seed == 0 ? "" : "  Replay: mvn -B -ntp -pl " + module + " -am verify -Dtest='" + caller
                    + "' -Dsurefire.failIfNoSpecifiedTests=false -D" + REPLAY + "=" + seed + "\n");
        }

        private static String describe(Object value) {
            String v = String.valueOf(value);
            return v.length() > 300 ? v.substring(0, 300) + "…" : v;
        }

        private static String stack(Thread worker) {
            StringBuilder b = new StringBuilder();
            for (StackTraceElement e : worker.getStackTrace()) {
                b.append("    at ").append(e).append('\n');
                if (b.length() > 3000) {
                    break;
                }
            }
            return b.toString();
        }
    }

    /** Lower-case hex of the first {@code max} bytes. */
    public static String hex(byte[] b, int max) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, max); i++) {
            s.append(Character.forDigit((b[i] >> 4) & 0xF, 16)).append(Character.forDigit(b[i] & 0xF, 16));
        }
        return b.length > max ? s + "…(" + b.length + " bytes)" : s.toString();
    }

    /** The test method that runs a target ({@code Class#method}), for the replay command. */
    private static String caller() {
        return StackWalker.getInstance().walk(frames -> frames
                .filter(f -> !f.getClassName().equals(Fuzz.class.getName())
                        && !f.getClassName().startsWith(Fuzz.class.getName() + "$")
                        && f.getClassName().replaceAll("\\$.*", "").endsWith("Test"))
                .findFirst()
                .map(f -> {
                    String c = f.getClassName();
                    String simple = c.substring(c.lastIndexOf('.') + 1);
                    int nested = simple.indexOf('$');
                    String m = f.getMethodName();
                    if (m.startsWith("lambda$")) {
                        String rest = m.substring("lambda$".length());
                        m = rest.contains("$") ? rest.substring(0, rest.indexOf('$')) : rest;
                    }
                    return (nested < 0 ? simple : simple.substring(0, nested)) + "#" + m;
                })
                .orElse("FuzzTest"));
    }

    private static void appendSummary(String line) {
        try {
            Path target = Path.of("target");
            if (Files.isDirectory(target)) {
                Files.writeString(target.resolve("fuzz-summary.txt"), line + "\n", StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            System.out.println("(could not append to target/fuzz-summary.txt: " + e + ")");
        }
    }
}
