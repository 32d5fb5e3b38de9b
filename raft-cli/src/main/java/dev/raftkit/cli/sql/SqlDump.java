package dev.raftkit.cli.sql;

import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStatement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The shell's {@code .dump}: the schema and rows of the whole database as SQL text that
 * {@code raftkit sql} runs back ({@code raftkit sql … < dump.sql}), like the sqlite3 and rqlite
 * shells' {@code .dump}.
 *
 * <p><b>Consistent.</b> The rows of every table come from one query request: the store runs
 * all its statements on the apply thread between two apply batches, so they see one applied
 * index, with the shell's read mode (linearizable by default). The list of tables is read first;
 * the same request reads the schema again, and if a table was created, dropped or altered in
 * between, the dump is read again (a few times, then it gives up saying so).
 *
 * <p><b>Order.</b> Each table's {@code CREATE TABLE} and then one {@code INSERT} per row; views,
 * indexes and triggers after all the rows, so triggers do not fire while the rows are inserted
 * and indexes are built once. Values keep their SQLite type: {@code NULL}, integers, reals
 * (shortest text that reads back to the same double), text quoted with {@code ''} doubled, blobs
 * as {@code X'…'}. Not dumped: the store's own tables ({@code __raftkit…}: table backups) and
 * SQLite's ({@code sqlite_sequence}: an {@code AUTOINCREMENT} counter restarts after the highest
 * key, as SQLite does when the table has no counter yet).
 *
 * <p>The whole database travels in one answer, so it is bounded by the client port's message
 * limit; a bigger database is backed up with {@code .backup full} instead.
 */
final class SqlDump {

    private static final String OWN = " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_raftkit%' ESCAPE '\\'";
    /** Tables first (their rows follow each), then what depends on them. */
    static final SqlStatement SCHEMA = new SqlStatement("SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL"
            + OWN + " ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 WHEN 'index' THEN 2 ELSE 3 END, name",
            List.of());
    private static final int ATTEMPTS = 5;

    private SqlDump() {
    }

    /** The dump of the database {@code sql} reads, as statements each ending with {@code ;} and a newline. */
    static String dump(SqlClient sql) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            List<List<Object>> schema = sql.query(List.of(SCHEMA)).last().rows();
            List<String> tables = new ArrayList<>();
            for (List<Object> row : schema) {
                if ("table".equals(row.get(0))) {
                    tables.add((String) row.get(1));
                }
            }
            List<SqlStatement> request = new ArrayList<>();
            request.add(SCHEMA);
            for (String t : tables) {
                request.add(new SqlStatement("SELECT * FROM " + identifier(t), List.of()));
            }
            List<SqlResult.Rows> answer = sql.query(request).statements();
            if (!Objects.equals(answer.get(0).rows(), schema)) {
                continue; // the schema changed between the two reads: read again
            }
            StringBuilder out = new StringBuilder();
            int table = 0;
            for (List<Object> row : schema) {
                out.append(row.get(2)).append(";\n");
                if ("table".equals(row.get(0))) {
                    SqlResult.Rows rows = answer.get(++table);
                    String insert = "INSERT INTO " + identifier((String) row.get(1)) + " VALUES(";
                    for (List<Object> values : rows.rows()) {
                        out.append(insert);
                        for (int i = 0; i < values.size(); i++) {
                            out.append(i == 0 ? "" : ",").append(literal(values.get(i)));
                        }
                        out.append(");\n");
                    }
                }
            }
            return out.toString();
        }
        throw new IllegalStateException("the schema changed during each of " + ATTEMPTS + " attempts to read the dump;"
                + " run .dump again when no tables are being created or dropped");
    }

    /** {@code v} as a SQL literal that reads back as the same value of the same type. */
    static String literal(Object v) {
        if (v == null) {
            return "NULL";
        }
        if (v instanceof Long || v instanceof Integer) {
            return v.toString();
        }
        if (v instanceof Double d) {
            if (d.isInfinite()) {
                return d > 0 ? "1e999" : "-1e999"; // SQLite reads an overflowing literal as infinity
            }
            return d.toString(); // the shortest decimal that reads back to d; always has '.' or 'E': a real
        }
        if (v instanceof byte[] b) {
            return "X'" + HexFormat.of().withUpperCase().formatHex(b) + "'";
        }
        if (v instanceof String s) {
            return "'" + s.replace("'", "''") + "'";
        }
        throw new IllegalArgumentException("a value of type " + v.getClass().getName() + " has no SQL literal");
    }

    static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
