package dev.raftkit.testkit.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The fuzzer finds what it promises to find, and a printed seed replays the same input. */
class FuzzTest {

    /** A length-prefixed string decoder that trusts its length field: the classic bug. */
    static String trusting(byte[] b) {
        int n = ByteBuffer.wrap(b).getInt();
        byte[] s = new byte[n];
        System.arraycopy(b, 4, s, 0, n);
        return new String(s);
    }

    static final byte[] VALID = {0, 0, 0, 3, 'a', 'b', 'c'};

    @Test
    void anUndocumentedExceptionIsReportedWithASeedThatReplaysIt() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.target("trusting", FuzzTest::trusting)
                .corpus(List.of(VALID)).refusesWith(java.nio.BufferUnderflowException.class).properties(k -> null).run());
        String m = e.getMessage();
        assertTrue(m.contains("threw java.lang."), m);
        assertTrue(m.contains("-Dfuzz.replay="), m);
        assertTrue(m.contains("-Dtest='FuzzTest#anUndocumentedExceptionIsReportedWithASeedThatReplaysIt'"), m);
        Matcher seed = Pattern.compile("-Dfuzz.replay=(-?\\d+)").matcher(m);
        assertTrue(seed.find(), m);
        Matcher input = Pattern.compile("input: ([0-9a-f]*)").matcher(m);
        assertTrue(input.find(), m);
        String replay = seed.group(1);
        AssertionError again = assertThrows(AssertionError.class, () -> Fuzz.target("trusting",
                FuzzTest::trusting).corpus(List.of(VALID)).refusesWith(java.nio.BufferUnderflowException.class)
                .properties(k -> k.equals(Fuzz.REPLAY) ? replay : null).run());
        assertTrue(again.getMessage().contains("input: " + input.group(1)), again.getMessage());
    }

    @Test
    void aHugeAllocationIsReported() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.target("allocating", b -> {
            if (b.length < 4) {
                throw new IllegalArgumentException("short");
            }
            int n = ByteBuffer.wrap(b).getInt();
            if (n < 0) {
                throw new IllegalArgumentException("negative");
            }
            return new byte[n].length;
        }).corpus(List.of(VALID)).refusesWith(IllegalArgumentException.class, OutOfMemoryError.class)
                .properties(k -> null).run());
        assertTrue(e.getMessage().contains("allocated") || e.getMessage().contains("OutOfMemoryError"), e.getMessage());
    }

    @Test
    void anEndlessLoopIsReported() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.target("looping", b -> {
            while (b.length > 0 && b[0] == 1) {
                Thread.onSpinWait();
                if (Thread.currentThread().isInterrupted()) {
                    break;
                }
            }
            return b.length;
        }).corpus(List.of(new byte[] {0})).hangSeconds(0.5).properties(k -> null).run());
        assertTrue(e.getMessage().contains("still decoding after 0.5 s"), e.getMessage());
    }

    @Test
    void aCorpusInputThatDoesNotDecodeIsReported() {
        AssertionError e = assertThrows(AssertionError.class, () -> Fuzz.target("refusing", b -> {
            throw new IllegalArgumentException("no");
        }).corpus(List.of(VALID)).refusesWith(IllegalArgumentException.class).properties(k -> null).run());
        assertTrue(e.getMessage().contains("a valid corpus input was refused"), e.getMessage());
    }

    @Test
    void aCheckedDecoderRunsItsBudgetAndReportsCounts() {
        Fuzz.Report r = Fuzz.target("checked", b -> {
            if (b.length < 4) {
                throw new IllegalArgumentException("short");
            }
            int n = ByteBuffer.wrap(b).getInt();
            if (n < 0 || n > b.length - 4) {
                throw new IllegalArgumentException("length " + n + " with " + (b.length - 4) + " left");
            }
            return new String(b, 4, n);
        }).corpus(List.of(VALID)).refusesWith(IllegalArgumentException.class).iterations(2000).properties(k -> null).run();
        assertEquals(2001, r.inputs(), r.line());
        assertTrue(r.accepted() > 1 && r.refused().get("IllegalArgumentException") > 100, r.line());
    }

    @Test
    void mutationsAreDeterministicPerSeed() {
        for (long seed = 0; seed < 200; seed++) {
            assertArrayEquals(Mutator.mutate(new Random(seed), VALID, List.of(VALID)),
                    Mutator.mutate(new Random(seed), VALID, List.of(VALID)));
        }
    }
}
