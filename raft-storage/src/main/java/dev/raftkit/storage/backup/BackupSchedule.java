package dev.raftkit.storage.backup;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How often a node takes each kind of backup, e.g. {@code full=7d,differential=1d,incremental=1h}
 * ({@code raftkit server --backup-schedule}). A kind left out is never taken by the schedule. A
 * backup counts for every kind below it: a full backup restarts the differential and incremental
 * clocks, a differential the incremental one.
 *
 * @param every the interval of each scheduled kind
 */
public record BackupSchedule(Map<BackupKind, Duration> every) {

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d|w)");

    public BackupSchedule {
        every = Map.copyOf(every);
        if (every.isEmpty()) {
            throw new IllegalArgumentException("a backup schedule names at least one kind");
        }
        every.forEach((k, d) -> {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("backup schedule: " + k.word() + " every " + d + " is not positive");
            }
        });
    }

    /** The interval of {@code kind}, or null if the schedule does not take it. */
    public Duration of(BackupKind kind) {
        return every.get(kind);
    }

    /**
     * Parses {@code kind=duration,...}: kinds {@code full}, {@code differential} (or {@code diff}),
     * {@code incremental} (or {@code incr}); durations like {@code 7d}, {@code 12h}, {@code 1h30m},
     * {@code 90s}, {@code 1w}.
     *
     * @throws IllegalArgumentException saying which part is wrong and what is expected
     */
    public static BackupSchedule parse(String text) {
        Map<BackupKind, Duration> every = new EnumMap<>(BackupKind.class);
        for (String part : text.split(",")) {
            String p = part.trim();
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("backup schedule part '" + p + "' is not kind=duration (for example"
                        + " full=7d,differential=1d,incremental=1h)");
            }
            BackupKind kind = switch (p.substring(0, eq).trim().toLowerCase()) {
                case "full" -> BackupKind.FULL;
                case "differential", "diff" -> BackupKind.DIFFERENTIAL;
                case "incremental", "incr" -> BackupKind.INCREMENTAL;
                default -> throw new IllegalArgumentException("backup schedule part '" + p + "': '" + p.substring(0, eq)
                        + "' is not a backup kind; use full, differential or incremental");
            };
            if (every.put(kind, duration(p.substring(eq + 1).trim(), p)) != null) {
                throw new IllegalArgumentException("backup schedule names " + kind.word() + " twice");
            }
        }
        return new BackupSchedule(every);
    }

    private static Duration duration(String s, String part) {
        Matcher m = PART.matcher(s);
        long nanos = 0;
        int at = 0;
        while (at < s.length() && m.find(at) && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            long unit = switch (m.group(2)) {
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                case "d" -> 86_400_000_000_000L;
                default -> 7 * 86_400_000_000_000L;
            };
            nanos += (long) (n * unit);
            at = m.end();
        }
        if (s.isEmpty() || at != s.length()) {
            throw new IllegalArgumentException("backup schedule part '" + part + "': '" + s + "' is not a duration;"
                    + " write for example 7d, 12h, 1h30m, 90s or 1w");
        }
        return Duration.ofNanos(nanos);
    }

    /** The schedule as it parses back: {@code full=P7D,...} in ISO-8601 durations is not shown; this is. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (BackupKind k : new BackupKind[] {BackupKind.FULL, BackupKind.DIFFERENTIAL, BackupKind.INCREMENTAL}) {
            Duration d = every.get(k);
            if (d != null) {
                b.append(b.length() == 0 ? "" : ",").append(k.word()).append('=').append(show(d));
            }
        }
        return b.toString();
    }

    /** {@code 7d}, {@code 1h30m}, {@code 90s}: a duration in the schedule's own syntax. */
    public static String show(Duration d) {
        long s = d.toSeconds();
        if (s == 0) {
            return d.toMillis() + "ms";
        }
        StringBuilder b = new StringBuilder();
        long[] units = {86_400, 3_600, 60, 1};
        String[] names = {"d", "h", "m", "s"};
        for (int i = 0; i < units.length; i++) {
            if (s >= units[i]) {
                b.append(s / units[i]).append(names[i]);
                s %= units[i];
            }
        }
        return b.toString();
    }
}
