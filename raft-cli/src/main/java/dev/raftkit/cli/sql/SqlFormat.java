package dev.raftkit.cli.sql;

import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlText;

/** How the SQL shell and the demo print one statement's result. */
public final class SqlFormat {

    private SqlFormat() {
    }

    /**
     * Rows as an aligned table (header, {@code |} between columns, numbers right-aligned, then a
     * {@code (N rows)} line); a statement that changes rows and returns none as
     * {@code N rows changed}; any other (DDL) as {@code ok}. Ends with a newline.
     */
    public static String result(String statement, SqlResult.Rows rows) {
        if (!rows.columns().isEmpty()) {
            return SqlOps.table(rows);
        }
        if (rows.changes() > 0 || SqlText.changesRows(statement)) {
            return rows.changes() + (rows.changes() == 1 ? " row changed" : " rows changed") + "\n";
        }
        return "ok\n";
    }
}
