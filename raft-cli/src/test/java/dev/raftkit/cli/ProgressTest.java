package dev.raftkit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link Progress} on a fake clock: the bar, the arithmetic of the time left, the cadence of plain lines, quiet. */
class ProgressTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000_000L);
    private final StringWriter text = new StringWriter();
    private final PrintWriter err = new PrintWriter(text, true);

    private void advanceSeconds(double s) {
        now.addAndGet((long) (s * 1e9));
    }

    @Test
    void theBarShowsDoneTotalPercentRateAndTimeLeft() {
        Progress p = Progress.counting(err, Progress.Style.BAR, now::get, "sim", 2000, "seeds");
        advanceSeconds(10);
        p.advance(500);
        // 500 seeds in 10 s: 50 seeds/s, 1500 left, 30 s.
        assertEquals("sim [######------------------]  500/2000 seeds  25%  50.0 seeds/s  ETA 30s", p.bar(now.get()));
        assertEquals("\rsim [######------------------]  500/2000 seeds  25%  50.0 seeds/s  ETA 30s", text.toString());
    }

    @Test
    void theTimeLeftComesFromTheRateSoFar() {
        Progress p = Progress.counting(err, Progress.Style.LINES, now::get, "sim", 10_000, "seeds");
        advanceSeconds(100);
        p.advance(1_000);
        // 10 seeds/s, 9,000 left: 900 s = 15m00s.
        assertEquals("sim: 1000/10000 seeds (10%), 10.0 seeds/s, ETA 15m00s", p.line(now.get()));
        advanceSeconds(50);
        // No seed for 50 s more: the rate falls to 1000/150 s, so 9,000 take 1350 s.
        assertEquals("sim: 1000/10000 seeds (10%), 6.7 seeds/s, ETA 22m30s", p.line(now.get()));
        Progress none = Progress.counting(err, Progress.Style.LINES, now::get, "sim", 10, "seeds");
        advanceSeconds(3);
        assertEquals("sim: 0/10 seeds (0%), 0 seeds/s, ETA ?", none.line(now.get()), "nothing done: no estimate");
    }

    @Test
    void slowWorkIsCountedPerMinute() {
        Progress p = Progress.counting(err, Progress.Style.LINES, now::get, "sim", 3, "seeds");
        advanceSeconds(48);
        p.advance(1);
        // One seed in 48 s: 1.25 a minute, two left take 96 s.
        assertEquals("sim: 1/3 seeds (33%), 1.3 seeds/min, ETA 1m36s", p.line(now.get()));
    }

    @Test
    void timedWorkCountsDownThePlannedDuration() {
        Progress p = Progress.timed(err, Progress.Style.BAR, now::get, "jepsen", Duration.ofMinutes(3));
        advanceSeconds(45);
        assertEquals("jepsen [######------------------]  45s of 3m00s  25%  ETA 2m15s", p.bar(now.get()));
        advanceSeconds(180);
        assertEquals("jepsen: 3m45s of 3m00s (100%), finishing", p.line(now.get()), "past the plan: checking");
    }

    @Test
    void openEndedWorkShowsTheTimeElapsedOnly() {
        Progress p = Progress.elapsed(err, Progress.Style.BAR, now::get, "backup: node 1 taking a full backup");
        advanceSeconds(3725);
        assertEquals("backup: node 1 taking a full backup  1h02m elapsed", p.bar(now.get()));
        assertEquals("backup: node 1 taking a full backup: 1h02m elapsed", p.line(now.get()));
    }

    @Test
    void openEndedWorkBecomesCountedOnceItsSizeIsReportedAndTheRateStartsThen() {
        Progress p = Progress.elapsed(err, Progress.Style.LINES, now::get, "backup");
        advanceSeconds(30); // the node takes its snapshot: no size yet
        p.report(0, 0, Progress.BYTES);
        assertEquals("backup: 30s elapsed", p.line(now.get()), "a total of 0 is not a size");
        p.report(0, 300L << 20, Progress.BYTES);
        advanceSeconds(10);
        p.report(100L << 20, 300L << 20, Progress.BYTES);
        // 100 MiB in the 10 s since the size was known (not in 40 s): 200 MiB more take 20 s.
        assertEquals("backup: 100.0/300.0 MiB (33%), 10.0 MiB/s, ETA 20s", p.line(now.get()));
        p.report(2_000, 5_000, "entries");
        advanceSeconds(4);
        p.report(3_000, 5_000, "entries");
        // A new unit measures its own rate: 1,000 entries in 4 s, 2,000 left.
        assertEquals("backup: 3000/5000 entries (60%), 250.0 entries/s, ETA 8s", p.line(now.get()));
    }

    @Test
    void bytesAreShownInTheLargestUnitTheTotalReaches() {
        Progress small = Progress.elapsed(err, Progress.Style.LINES, now::get, "restore");
        small.report(0, 900, Progress.BYTES);
        advanceSeconds(1);
        small.report(300, 900, Progress.BYTES);
        assertEquals("restore: 300/900 B (33%), 300.0 B/s, ETA 2s", small.line(now.get()));
        Progress large = Progress.elapsed(err, Progress.Style.LINES, now::get, "restore");
        large.report(0, 3L << 30, Progress.BYTES);
        advanceSeconds(2);
        large.report(1L << 30, 3L << 30, Progress.BYTES);
        // The rate in its own unit: 512 MiB a second.
        assertEquals("restore: 1.0/3.0 GiB (33%), 512.0 MiB/s, ETA 4s", large.line(now.get()));
    }

    @Test
    void plainLinesComeEveryFiveSecondsAndNotBefore() {
        Progress p = Progress.counting(err, Progress.Style.LINES, now::get, "sim", 100, "seeds");
        for (int s = 1; s <= 12; s++) {
            advanceSeconds(1);
            p.advance(1);
        }
        // Updates at 1..12 s: lines at 5 s and 10 s only.
        assertEquals("sim: 5/100 seeds (5%), 1.0 seeds/s, ETA 1m35s" + System.lineSeparator()
                + "sim: 10/100 seeds (10%), 1.0 seeds/s, ETA 1m30s" + System.lineSeparator(), text.toString());
        assertTrue(!text.toString().contains("\r"), "no carriage returns in a log");
    }

    @Test
    void theBarRedrawsAtMostFiveTimesASecondInPlaceAndBlanksWhatAShorterOneLeaves() {
        Progress p = Progress.elapsed(err, Progress.Style.BAR, now::get, "restore");
        p.refresh();
        for (int i = 0; i < 10; i++) {
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(50));
            p.refresh();
        }
        // Drawn at 0 ms, then at 200 and 400 ms of 500 ms: three draws.
        assertEquals(3, text.toString().chars().filter(c -> c == '\r').count(), text.toString());
        p.close();
        String all = text.toString();
        assertTrue(all.endsWith("\r" + " ".repeat("restore  0s elapsed".length()) + "\r"),
                "closing blanks the bar so the result prints on a clean line: [" + all + "]");
    }

    @Test
    void theFinalCountIsDrawnAtOnceOnATerminal() {
        Progress p = Progress.counting(err, Progress.Style.BAR, now::get, "sim", 3, "seeds");
        p.advance(1);
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(50));
        p.advance(1);
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(50));
        p.advance(1);
        // Drawn at the first seed and at the last, 100 ms later, not at the second.
        assertEquals("\rsim [########----------------]  1/3 seeds  33%  0 seeds/s  ETA ?"
                + "\rsim [########################]  3/3 seeds  100%  30.0 seeds/s  ETA 0s", text.toString(),
                "the last update shows everything done, even within the redraw interval");
    }

    @Test
    void quietPrintsNothing() {
        Progress p = Progress.counting(err, Progress.Style.OFF, now::get, "sim", 10, "seeds");
        for (int i = 0; i < 10; i++) {
            advanceSeconds(10);
            p.advance(1);
        }
        p.startTicker();
        p.close();
        assertEquals("", text.toString());
    }

    @Test
    void theStyleFollowsQuietJsonAndTheTerminal() {
        assertEquals(Progress.Style.OFF, Progress.style(true, false, true));
        assertEquals(Progress.Style.OFF, Progress.style(true, true, false));
        assertEquals(Progress.Style.LINES, Progress.style(false, true, true), "--json: no bar, even on a terminal");
        assertEquals(Progress.Style.LINES, Progress.style(false, false, false));
        assertEquals(Progress.Style.BAR, Progress.style(false, false, true));
    }

    @Test
    void durationsAreShort() {
        assertEquals("0s", Progress.duration(0));
        assertEquals("59s", Progress.duration(TimeUnit.SECONDS.toNanos(59)));
        assertEquals("1m00s", Progress.duration(TimeUnit.SECONDS.toNanos(60)));
        assertEquals("59m59s", Progress.duration(TimeUnit.SECONDS.toNanos(3599)));
        assertEquals("2h00m", Progress.duration(TimeUnit.SECONDS.toNanos(7200)));
    }

    @Test
    void badTotalsAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Progress.counting(err, Progress.Style.BAR, now::get, "sim", 0, "seeds"));
        assertTrue(e.getMessage().contains("'sim'") && e.getMessage().contains("0"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Progress.timed(err, Progress.Style.BAR, now::get, "jepsen", Duration.ZERO));
    }
}
