package dev.raftkit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The core is pure (docs/architecture.md, section The pure core): no I/O, threads, clocks, environment or unseeded randomness
 * anywhere under {@code dev.raftkit.core}. Checked on the compiled classes' constant pools, so
 * nothing the bytecode uses escapes (fully qualified names, method references, types that appear
 * only in signatures). {@code dev.raftkit.spi} is not the core and is not scanned.
 */
class CorePurityTest {

    @Test
    void noClassOfTheCoreUsesIoThreadsClocksOrUnseededRandomness() throws IOException {
        Path core = compiledCore();
        List<Path> classFiles;
        try (Stream<Path> files = Files.walk(core)) {
            classFiles = files.filter(p -> p.toString().endsWith(".class")).sorted().toList();
        }
        // Guard against a vacuous pass: the scan must see the core and its sub-packages.
        assertTrue(classFiles.contains(core.resolve("RaftConfig.class")), "RaftConfig not found under " + core);
        assertTrue(classFiles.contains(core.resolve("log/LogSlice.class")), "core.log not scanned under " + core);

        List<String> violations = new ArrayList<>();
        for (Path classFile : classFiles) {
            try (InputStream in = Files.newInputStream(classFile)) {
                violations.addAll(PurityRules.violations(ClassFileReferences.read(in)));
            }
        }
        if (!violations.isEmpty()) {
            fail("the pure core must not use I/O, threads, clocks, the environment or unseeded randomness "
                    + "(docs/architecture.md, section The pure core); move this to the runtime or pass it in:\n  "
                    + String.join("\n  ", violations));
        }
    }

    @Test
    void scannerFlagsAClockRead() throws IOException {
        assertEquals(List.of("dev.raftkit.core.CorePurityTest$ReadsTheClock calls java.lang.System.nanoTime()J"
                + " — a clock: the core counts time in ticks given to it"), violationsOf(ReadsTheClock.class));
    }

    @Test
    void scannerFlagsAClockReadThroughAMethodReference() throws IOException {
        assertViolation(ClockAsMethodReference.class, "java.lang.System.currentTimeMillis()J");
    }

    @Test
    void scannerFlagsUnseededButNotSeededRandomness() throws IOException {
        assertViolation(UnseededRandom.class, "java.util.Random.<init>()V");
        assertViolation(UnseededSplittableRandom.class, "java.util.SplittableRandom.<init>()V");
        assertViolation(MathRandom.class, "java.lang.Math.random()D");
        assertEquals(List.of(), violationsOf(SeededRandom.class));
    }

    @Test
    void scannerFlagsTypesThatAppearOnlyInASignature() throws IOException {
        assertViolation(TakesAStream.class, "refers to java.io.InputStream");
    }

    @Test
    void scannerFlagsConcurrencyAndThreads() throws IOException {
        assertViolation(CountsAtomically.class, "refers to java.util.concurrent.atomic.AtomicLong");
        assertViolation(NamesItsThread.class, "refers to java.lang.Thread");
    }

    @Test
    void scannerFlagsArraysOfForbiddenTypes() throws IOException {
        assertViolation(HoldsFiles.class, "refers to java.io.File");
    }

    private static void assertViolation(Class<?> fixture, String expected) throws IOException {
        List<String> violations = violationsOf(fixture);
        assertTrue(violations.stream().anyMatch(v -> v.contains(expected)),
                fixture.getSimpleName() + ": expected a violation containing '" + expected + "', got " + violations);
    }

    private static List<String> violationsOf(Class<?> fixture) throws IOException {
        try (InputStream in = fixture.getResourceAsStream("/" + fixture.getName().replace('.', '/') + ".class")) {
            return PurityRules.violations(ClassFileReferences.read(in));
        }
    }

    /** {@code target/classes/dev/raftkit/core}: where the main classes of this module are compiled. */
    private static Path compiledCore() {
        try {
            Path classes = Path.of(RaftConfig.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return classes.resolve("dev/raftkit/core");
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the compiled core", e);
        }
    }

    // Fixtures: test-only classes that break the rules, to show the scanner catches them.

    static final class ReadsTheClock {
        long now() {
            return System.nanoTime();
        }
    }

    static final class ClockAsMethodReference {
        LongSupplier clock() {
            return System::currentTimeMillis;
        }
    }

    static final class UnseededRandom {
        int roll() {
            return new Random().nextInt(6);
        }
    }

    static final class UnseededSplittableRandom {
        int roll() {
            return new SplittableRandom().nextInt(6);
        }
    }

    static final class MathRandom {
        double roll() {
            return Math.random();
        }
    }

    static final class SeededRandom {
        int roll(long seed) {
            return new Random(seed).nextInt(6) + new SplittableRandom(seed).nextInt(6);
        }
    }

    static final class TakesAStream {
        int ignore(InputStream in) {
            return 0;
        }
    }

    static final class CountsAtomically {
        long next(AtomicLong counter) {
            return counter.incrementAndGet();
        }
    }

    static final class NamesItsThread {
        String name() {
            return Thread.currentThread().getName();
        }
    }

    static final class HoldsFiles {
        Object[] files = new java.io.File[0];
    }
}
