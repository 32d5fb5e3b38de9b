package dev.raftkit.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.sqlite.Function;

/**
 * Replaces SQLite's clock- and randomness-reading functions on one connection with versions that
 * read the current entry: {@code random()} and {@code randomblob(n)} draw from a generator seeded
 * with the entry's log index; {@code datetime}, {@code date}, {@code time}, {@code julianday},
 * {@code unixepoch}, {@code strftime} and {@code timediff} read {@code 'now'} (and their
 * no-argument forms) as the time the leader stamped into the entry. Every replica applying the
 * entry therefore computes the same values, and so does a replica that replays it after a crash.
 *
 * <p>The date functions substitute {@code 'now'} and then call SQLite's own function on a second,
 * private connection that has no overrides, so every other argument and modifier keeps SQLite's
 * exact semantics. The {@code 'localtime'} and {@code 'utc'} modifiers are refused (an error,
 * the same on every node): they read the node's time zone.
 *
 * <p>The overrides are registered non-deterministic (like SQLite's {@code random()}), so SQLite
 * refuses them in CHECK constraints, index expressions and generated columns — where a value
 * computed at one time must equal one computed later. {@code CURRENT_TIMESTAMP} and friends do
 * not go through functions at all; {@link SqlValidator} refuses them.
 *
 * <p>Thread: the apply thread only (it sets the entry and runs the statements).
 */
final class DeterministicFunctions implements AutoCloseable {

    private static final int MAX_RANDOMBLOB = 16 << 20;

    private final Connection builtin;
    private final Map<String, PreparedStatement> calls = new HashMap<>();
    private long nowMillis;
    /** {@link #nowMillis} as SQLite time text; null until a function reads it (most entries never do). */
    private String nowText;
    /** The entry's generator; null until random() or randomblob() asks (most entries never do). */
    private SplittableRandom random;
    private long seed;

    /** Registers the overrides on {@code conn}. */
    DeterministicFunctions(Connection conn) throws SQLException {
        this.builtin = SqlStateMachine.inMemory();
        setEntry(0, 0);
        Function.create(conn, "random", new Function() {
            @Override
            protected void xFunc() throws SQLException {
                result(random().nextLong());
            }
        }, 0, 0);
        Function.create(conn, "randomblob", new Function() {
            @Override
            protected void xFunc() throws SQLException {
                long n = value_type(0) == 5 ? 1 : value_long(0);
                if (n > MAX_RANDOMBLOB) {
                    error("randomblob(" + n + ") is larger than the store's limit of " + MAX_RANDOMBLOB + " bytes");
                    return;
                }
                byte[] b = new byte[(int) Math.max(1, n)];
                random().nextBytes(b);
                result(b);
            }
        }, 1, 0);
        for (String f : new String[] {"datetime", "date", "time", "julianday", "unixepoch"}) {
            Function.create(conn, f, new DateFunction(f, 0, 0), -1, 0);
        }
        Function.create(conn, "strftime", new DateFunction("strftime", 1, 1), -1, 0);
        Function.create(conn, "timediff", new DateFunction("timediff", 0, 2), -1, 0);
    }

    /** Values for the entry about to be applied: randomness from its index, 'now' from its stamp. */
    void setEntry(long index, long timestampMillis) {
        // A fixed mix of the index, so neighbouring entries get unrelated sequences.
        seed = index * 0x9E3779B97F4A7C15L ^ 0x5DEECE66DL;
        random = null;
        nowMillis = timestampMillis;
        nowText = null;
    }

    /** For reads, which need not agree between nodes: the wall clock and fresh randomness. */
    void setWallClock() {
        random = new SplittableRandom();
        nowMillis = System.currentTimeMillis();
        nowText = null;
    }

    private SplittableRandom random() {
        if (random == null) {
            random = new SplittableRandom(seed);
        }
        return random;
    }

    private String nowText() {
        if (nowText == null) {
            nowText = DateTimeText.of(nowMillis);
        }
        return nowText;
    }

    long nowMillis() {
        return nowMillis;
    }

    @Override
    public void close() {
        for (PreparedStatement p : calls.values()) {
            try {
                p.close();
            } catch (SQLException ignored) {
                // closing the connection below releases it anyway
            }
        }
        try {
            builtin.close();
        } catch (SQLException ignored) {
            // nothing was written through it
        }
    }

    /**
     * A date/time function: {@code firstTime} is the position of its first time-value argument,
     * {@code times} how many there are (their default is 'now' when missing).
     */
    private final class DateFunction extends Function {
        private final String name;
        private final int firstTime;
        private final int times;

        DateFunction(String name, int firstTime, int times) {
            this.name = name;
            this.firstTime = firstTime;
            this.times = times;
        }

        @Override
        protected void xFunc() throws SQLException {
            int n = args();
            int total = Math.max(n, firstTime + Math.max(times, 1));
            if (name.equals("timediff") && n != 2) {
                error("wrong number of arguments to function timediff()");
                return;
            }
            Object[] values = new Object[total];
            for (int i = 0; i < total; i++) {
                values[i] = i < n ? value(i) : "now";
                boolean timeArg = i >= firstTime && i < firstTime + Math.max(times, 1);
                if (values[i] instanceof String s) {
                    String t = s.trim();
                    if (timeArg && t.equalsIgnoreCase("now")) {
                        values[i] = nowText();
                    } else if (!timeArg && (t.equalsIgnoreCase("localtime") || t.equalsIgnoreCase("utc"))) {
                        error(name + "(): the '" + t + "' modifier reads the node's time zone, which replicas may"
                                + " not share; keep times in UTC and convert in the client");
                        return;
                    }
                }
            }
            PreparedStatement p = calls.get(name + "/" + total);
            if (p == null) {
                p = builtin.prepareStatement("SELECT " + name + "(" + "?,".repeat(total - 1) + "?)");
                calls.put(name + "/" + total, p);
            }
            for (int i = 0; i < total; i++) {
                p.setObject(i + 1, values[i]);
            }
            try (ResultSet r = p.executeQuery()) {
                r.next();
                Object v = r.getObject(1);
                if (v == null) {
                    result();
                } else if (v instanceof Integer || v instanceof Long) {
                    result(((Number) v).longValue());
                } else if (v instanceof Double d) {
                    result(d);
                } else {
                    result(v.toString());
                }
            }
        }

        private Object value(int i) throws SQLException {
            return switch (value_type(i)) {
                case 1 -> value_long(i);
                case 2 -> value_double(i);
                case 4 -> value_blob(i);
                case 5 -> null;
                default -> value_text(i);
            };
        }
    }
}
