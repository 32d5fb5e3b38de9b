package dev.raftkit.cli;

import java.io.PrintWriter;
import java.io.Writer;
import java.time.Duration;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of long work ({@code sim --seeds}, {@code jepsen}, {@code bench}, {@code backup},
 * {@code restore}) on standard error, so standard output stays parseable. On a terminal it draws
 * one line with a bar, done/total, rate and time left, redrawn in place with {@code \r} at most
 * five times a second; elsewhere (a pipe, a log file, {@code --json}) it prints a plain line every
 * five seconds; with {@code --quiet} nothing.
 *
 * <p>Three kinds of work: counted ({@link #counting}: the rate so far gives the time left), timed
 * ({@link #timed}: elapsed against a planned duration), and open-ended ({@link #elapsed}: only the
 * time elapsed). Open-ended work becomes counted once its size is known ({@link #report}: a
 * backup whose node says how many bytes it will copy). Thread-safe: workers may call {@link #advance} concurrently, and
 * {@link #startTicker} redraws from a daemon thread of its own ({@code raftkit-progress}) for work
 * that reports nothing while it runs.
 */
public final class Progress implements AutoCloseable {

    /** How progress is shown. */
    public enum Style {
        /** A bar redrawn in place: standard error is a terminal. */
        BAR,
        /** A plain line every {@link #LINE_INTERVAL}: a pipe or a file reads it line by line. */
        LINES,
        /** Nothing ({@code --quiet}). */
        OFF
    }

    /** Redraws of the bar: often enough to look live, rarely enough to cost nothing. */
    static final Duration BAR_INTERVAL = Duration.ofMillis(200);
    /** Plain lines: a log a person can still read. */
    static final Duration LINE_INTERVAL = Duration.ofSeconds(5);
    static final int BAR_WIDTH = 24;
    /** The unit {@link #report} shows in KiB, MiB or GiB. */
    public static final String BYTES = "bytes";

    private final PrintWriter err;
    private final Style style;
    private final LongSupplier nanoClock;
    private final String label;
    /** Counted work: its unit ("seeds"); null for timed and open-ended work. */
    private String unit;
    /** Counted work: how many in all. */
    private long total;
    /** Timed work: the planned duration; 0 otherwise. */
    private final long plannedNanos;
    private final long startNanos;
    private long done;
    /**
     * Where the rate is measured from: the start, or the first {@link #report} of a size (the
     * time spent before the size was known says nothing about the rate).
     */
    private long rateStartNanos;
    private long rateStartDone;
    private long lastDrawNanos;
    /** Characters of the bar last drawn, to blank what a shorter redraw leaves behind. */
    private int drawnWidth;
    private Thread ticker;
    private boolean closed;

    private Progress(PrintWriter err, Style style, LongSupplier nanoClock, String label, String unit, long total,
                     long plannedNanos) {
        this.err = err;
        this.style = style;
        this.nanoClock = nanoClock;
        this.label = label;
        this.unit = unit;
        this.total = total;
        this.plannedNanos = plannedNanos;
        this.startNanos = nanoClock.getAsLong();
        this.rateStartNanos = startNanos;
        // A bar appears at once; a plain line only once the work has lasted a whole interval, so a
        // short command prints no progress at all.
        this.lastDrawNanos = style == Style.BAR ? startNanos - BAR_INTERVAL.toNanos() : startNanos;
    }

    /**
     * The style for a command: {@code OFF} with {@code quiet}; {@code LINES} with {@code json} or
     * when there is no terminal; else {@code BAR}.
     */
    public static Style style(boolean quiet, boolean json, boolean terminal) {
        return quiet ? Style.OFF : json || !terminal ? Style.LINES : Style.BAR;
    }

    /** {@link #style(boolean, boolean, boolean)} with this JVM's console as the terminal. */
    public static Style styleFor(boolean quiet, boolean json) {
        return style(quiet, json, System.console() != null);
    }

    /** Work of {@code total} {@code unit}s, each reported by {@link #advance}. */
    public static Progress counting(PrintWriter err, Style style, LongSupplier nanoClock, String label, long total,
                             String unit) {
        if (total < 1) {
            throw new IllegalArgumentException("progress of '" + label + "': total must be at least 1, got " + total);
        }
        return new Progress(err, style, nanoClock, label, unit, total, 0);
    }

    /** Work planned to take {@code planned}: the time left is the plan's remainder. */
    public static Progress timed(PrintWriter err, Style style, LongSupplier nanoClock, String label, Duration planned) {
        if (planned.isNegative() || planned.isZero()) {
            throw new IllegalArgumentException("progress of '" + label + "': the planned duration must be positive, got "
                    + planned);
        }
        return new Progress(err, style, nanoClock, label, null, 0, planned.toNanos());
    }

    /** Work of unknown length: the time elapsed only. */
    public static Progress elapsed(PrintWriter err, Style style, LongSupplier nanoClock, String label) {
        return new Progress(err, style, nanoClock, label, null, 0, 0);
    }

    /** Counts {@code n} more units done, and redraws if it is time. */
    public synchronized void advance(long n) {
        done += n;
        draw(false);
    }

    /**
     * Sets how much of how much is done, in {@code unit}s ({@code "bytes"} is shown in KiB, MiB,
     * GiB): open-ended work becomes counted, and the time left is measured from the rate since the
     * first report of this unit. Then redraws if it is time. A {@code total} below 1 is ignored
     * (the size is not known yet).
     */
    public synchronized void report(long done, long total, String unit) {
        if (total < 1) {
            draw(false);
            return;
        }
        if (!unit.equals(this.unit)) {
            rateStartNanos = nanoClock.getAsLong();
            rateStartDone = done;
        }
        this.unit = unit;
        this.total = total;
        this.done = done;
        draw(false);
    }

    /** Redraws if it is time: what the ticker calls. */
    public synchronized void refresh() {
        draw(false);
    }

    /**
     * Blanks the bar so other output can be printed on a clean line (the next draw puts it back);
     * nothing to do for plain lines.
     */
    public synchronized void clear() {
        if (style == Style.BAR && drawnWidth > 0) {
            err.print("\r" + " ".repeat(drawnWidth) + "\r");
            err.flush();
            drawnWidth = 0;
            lastDrawNanos = nanoClock.getAsLong() - BAR_INTERVAL.toNanos();
        }
    }

    /**
     * {@code out}, but every write first blanks the bar ({@link #clear}), so lines that other code
     * prints while the bar is up (on a terminal, standard output and standard error share the
     * screen) start on a clean line; the next redraw puts the bar back below them.
     */
    public PrintWriter aside(PrintWriter out) {
        return new PrintWriter(new Writer() {
            @Override
            public void write(char[] buf, int off, int len) {
                clear();
                out.write(buf, off, len);
            }

            @Override
            public void flush() {
                out.flush();
            }

            @Override
            public void close() {
                out.flush();
            }
        }, true);
    }

    /**
     * Redraws from a daemon thread every {@link #BAR_INTERVAL} until {@link #close}, for work that
     * reports nothing while it runs (a backup, a restore, a timed run); the cadence of plain lines
     * stays {@link #LINE_INTERVAL}. Returns this.
     */
    public synchronized Progress startTicker() {
        if (style == Style.OFF || ticker != null || closed) {
            return this;
        }
        ticker = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(BAR_INTERVAL.toMillis()); // a redraw cadence, not a wait for anything
                    refresh();
                }
            } catch (InterruptedException e) {
                // closed: stop redrawing
            }
        }, "raftkit-progress");
        ticker.setDaemon(true);
        ticker.start();
        return this;
    }

    /** Stops the ticker and blanks the bar: the command's own result follows on a clean line. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            closed = true;
            t = ticker;
            ticker = null;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        clear();
    }

    private void draw(boolean force) {
        if (style == Style.OFF || closed) {
            return;
        }
        long now = nanoClock.getAsLong();
        long interval = (style == Style.BAR ? BAR_INTERVAL : LINE_INTERVAL).toNanos();
        boolean finished = unit != null && done >= total;
        if (!force && now - lastDrawNanos < interval && !(finished && style == Style.BAR)) {
            return;
        }
        lastDrawNanos = now;
        if (style == Style.BAR) {
            String text = bar(now);
            err.print("\r" + text + " ".repeat(Math.max(0, drawnWidth - text.length())));
            drawnWidth = text.length();
        } else {
            err.println(line(now));
        }
        err.flush();
    }

    /** The bar as drawn at {@code now}: label, bar, then {@link #figures}. */
    synchronized String bar(long now) {
        double fraction = fraction(now);
        String figures = figures(now, false);
        if (fraction < 0) {
            return label + "  " + figures;
        }
        int filled = (int) Math.round(fraction * BAR_WIDTH);
        return label + " [" + "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled) + "]  " + figures;
    }

    /** The plain line as printed at {@code now}: {@code label: figures}. */
    synchronized String line(long now) {
        return label + ": " + figures(now, true);
    }

    /** Done/total, percentage, rate and time left, as the kind of work allows. */
    private String figures(long now, boolean plain) {
        long elapsed = Math.max(0, now - startNanos);
        String sep = plain ? ", " : "  ";
        if (unit != null) {
            long shown = Math.min(done, total);
            double secs = Math.max(0, now - rateStartNanos) / 1e9;
            double rate = secs > 0 ? (done - rateStartDone) / secs : 0;
            String eta = rate <= 0 ? "?" : duration(Math.round((total - shown) / rate * 1e9));
            String pct = (shown * 100 / total) + "%";
            return amount(shown) + "/" + amount(total) + " " + shownUnit() + (plain ? " (" + pct + ")" : sep + pct)
                    + sep + rate(rate) + sep + "ETA " + eta;
        }
        if (plannedNanos > 0) {
            String pct = Math.min(100, elapsed * 100 / plannedNanos) + "%";
            String eta = elapsed >= plannedNanos ? "finishing" : "ETA " + duration(plannedNanos - elapsed);
            return duration(elapsed) + " of " + duration(plannedNanos) + (plain ? " (" + pct + ")" : sep + pct)
                    + sep + eta;
        }
        return duration(elapsed) + " elapsed";
    }

    /** Units per second, or per minute below one a second (a simulated run can take most of a minute). */
    private String rate(double perSecond) {
        if (perSecond <= 0) {
            return "0 " + shownUnit() + "/s";
        }
        if (BYTES.equals(unit)) {
            long scale = scaleOf((long) perSecond);
            return String.format(Locale.ROOT, "%.1f %s/s", perSecond / scale, unitOf(scale));
        }
        return perSecond < 1 ? String.format(Locale.ROOT, "%.1f %s/min", perSecond * 60, unit)
                : String.format(Locale.ROOT, "%.1f %s/s", perSecond, unit);
    }

    /** A count as shown: bytes in the unit the total is shown in, one decimal. */
    private String amount(long n) {
        long scale = scaleOf(total);
        return BYTES.equals(unit) && scale > 1
                ? String.format(Locale.ROOT, "%.1f", n / (double) scale) : Long.toString(n);
    }

    private String shownUnit() {
        return BYTES.equals(unit) ? unitOf(scaleOf(total)) : unit;
    }

    /** The largest binary unit (1, KiB, MiB, GiB) that {@code bytes} reaches. */
    private static long scaleOf(long bytes) {
        long scale = 1;
        while (scale < 1L << 30 && bytes >= scale * 1024) {
            scale *= 1024;
        }
        return scale;
    }

    private static String unitOf(long scale) {
        return switch (Long.numberOfTrailingZeros(scale)) {
            case 10 -> "KiB";
            case 20 -> "MiB";
            case 30 -> "GiB";
            default -> "B";
        };
    }

    /** How much is done, in [0, 1]; -1 for open-ended work. */
    private double fraction(long now) {
        if (unit != null) {
            return Math.min(1.0, (double) done / total);
        }
        if (plannedNanos > 0) {
            return Math.min(1.0, (double) Math.max(0, now - startNanos) / plannedNanos);
        }
        return -1;
    }

    /** {@code 42s}, {@code 3m05s}, {@code 1h02m}: short, and exact enough for a time left. */
    static String duration(long nanos) {
        long s = Math.max(0, (nanos + 500_000_000L) / 1_000_000_000L);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }
}
