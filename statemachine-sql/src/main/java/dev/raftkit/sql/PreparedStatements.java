package dev.raftkit.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One connection's prepared statements that are kept and run again, by SQL text: the store's own
 * control statements ({@code SAVEPOINT entry}, {@code RELEASE entry}, {@code BEGIN}, …, several
 * per entry) and the requests' writes that answer no rows. Preparing is SQLite's parse and plan;
 * the same few texts come with every entry, so preparing each once saves most of an insert's
 * work in the engine. Callers offer only statements without result columns: the store's own, and
 * writes ({@code INSERT}, {@code UPDATE}, {@code DELETE}, {@code REPLACE}) without {@code RETURNING}.
 *
 * <p><b>Why only statements without result columns.</b> SQLite re-prepares a kept statement by
 * itself when the schema changed since it was prepared ({@code sqlite3_prepare_v2}), so a kept
 * statement runs exactly as a fresh one would on a replica that just restarted. What a driver
 * remembers from the prepare is about the result's columns (sqlite-jdbc reads their count once,
 * when it prepares), and a statement with no result columns has none to remember; the ones that
 * answer rows (reads, {@code RETURNING}) are prepared afresh, as before. {@code SqlApplyCachesTest}
 * holds kept and fresh answers equal byte for byte across failures, schema changes and missing
 * values.
 *
 * <p>A statement that failed is dropped (the driver may have finalized it). At most
 * {@value #MAX_STATEMENTS} are kept, the least recently run closed first. Thread: the apply
 * thread only, like the connection.
 */
final class PreparedStatements implements AutoCloseable {

    static final int MAX_STATEMENTS = 128;

    private final Connection conn;
    private final Map<String, PreparedStatement> byText = new LinkedHashMap<>(32, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
            if (size() <= MAX_STATEMENTS) {
                return false;
            }
            closeQuietly(eldest.getValue());
            return true;
        }
    };

    PreparedStatements(Connection conn) {
        this.conn = conn;
    }

    /** What runs on a kept statement. */
    interface Use<T> {
        T on(PreparedStatement p) throws SQLException;
    }

    /**
     * Runs {@code use} on the statement kept for {@code sql} (one without result columns),
     * prepared now if none is, parameters cleared; keeps it if {@code use} returns, drops and
     * closes it if {@code use} throws.
     */
    <T> T run(String sql, Use<T> use) throws SQLException {
        PreparedStatement p = byText.remove(sql);
        if (p == null) {
            p = conn.prepareStatement(sql);
        } else {
            p.clearParameters();
        }
        T result;
        try {
            result = use.on(p);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(p);
            throw e;
        }
        byText.put(sql, p);
        return result;
    }

    /** Runs {@code sql}, a statement without parameters or result rows, prepared once and kept. */
    void execute(String sql) throws SQLException {
        run(sql, PreparedStatement::execute);
    }

    int size() {
        return byText.size();
    }

    /** Closes every kept statement; before the connection closes or is replaced. */
    @Override
    public void close() {
        for (PreparedStatement p : byText.values()) {
            closeQuietly(p);
        }
        byText.clear();
    }

    private static void closeQuietly(PreparedStatement p) {
        try {
            p.close();
        } catch (SQLException ignored) {
            // Finalizing a prepared statement cannot fail in a way that matters: the connection stays usable.
        }
    }
}
