package dev.raftkit.cli;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * The one duration syntax of every {@code raftkit} option: a number (decimals allowed) and a unit,
 * {@code ms}, {@code s}, {@code m} or {@code h}, or several in a row ({@code 1h30m}); a bare number
 * is seconds. {@code 500ms}, {@code 1.5s}, {@code 90s}, {@code 1.5m}, {@code 1h}, {@code 2h30m}, {@code 10}.
 */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

    @Override
    public Duration convert(String value) {
        return parse(value);
    }

    /** Parses {@code value} as described above; a negative or malformed value is refused saying how to write one. */
    public static Duration parse(String value) {
        String t = value.trim().toLowerCase(Locale.ROOT);
        if (t.matches("\\d+(\\.\\d+)?")) {
            return ofNanos(new BigDecimal(t).multiply(BigDecimal.valueOf(1_000_000_000L)), value);
        }
        Matcher m = PART.matcher(t);
        BigDecimal nanos = BigDecimal.ZERO;
        int at = 0;
        while (at < t.length() && m.find(at) && m.start() == at) {
            long unit = switch (m.group(2)) {
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            nanos = nanos.add(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)));
            at = m.end();
        }
        if (at == 0 || at != t.length()) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a duration; write e.g. 500ms, 1.5s, 90s,"
                    + " 10m, 1h or 1h30m (a bare number is seconds)");
        }
        return ofNanos(nanos, value);
    }

    private static Duration ofNanos(BigDecimal nanos, String value) {
        if (nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new CommandLine.TypeConversionException("'" + value + "' is too long a duration");
        }
        return Duration.ofNanos(nanos.longValue());
    }
}
