package dev.raftkit.sql;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * What a request answers: {@link Ok} with one {@link Rows} per statement, or {@link Error} naming
 * the statement that failed (then nothing of the request was applied). Encoded with a versioned
 * header (see {@link SqlWire}); decode with {@link SqlOps#decode}.
 */
public sealed interface SqlResult {

    byte OK = 1;
    byte ERROR = 2;

    /** A result column: its name and declared type (SQLite's; empty for expressions). */
    record Column(String name, String type) {
    }

    /**
     * One statement's outcome: its columns and rows (each value {@code null}, {@link Long},
     * {@link Double}, {@link String} or {@code byte[]}), and how many rows it changed.
     */
    record Rows(List<Column> columns, List<List<Object>> rows, long changes) {
        public Rows {
            columns = List.copyOf(columns);
            rows = rows.stream().map(r -> Collections.unmodifiableList(new ArrayList<>(r))).toList();
        }

        /** The value at {@code row}, {@code column} (0-based). */
        public Object value(int row, int column) {
            return rows.get(row).get(column);
        }
    }

    /**
     * Success.
     *
     * @param index      the log index the request was applied at (a write), or the applied index
     *                   the read saw
     * @param statements one result per statement, in order
     */
    record Ok(long index, List<Rows> statements) implements SqlResult {
        public Ok {
            statements = List.copyOf(statements);
        }

        /** The last statement's result (the usual one to look at). */
        public Rows last() {
            return statements.get(statements.size() - 1);
        }
    }

    /**
     * Failure: nothing of the request changed the database.
     *
     * @param statement the 1-based statement that failed, or 0 for the request as a whole
     * @param message   what went wrong, as SQLite or the store's checks said it
     */
    record Error(int statement, String message) implements SqlResult {
    }

    default byte[] encode() {
        if (this instanceof Error e) {
            return SqlWire.encode(ERROR, out -> {
                out.writeInt(e.statement());
                SqlWire.writeString(out, e.message());
            });
        }
        Ok ok = (Ok) this;
        return SqlWire.encode(OK, out -> {
            out.writeLong(ok.index());
            out.writeInt(ok.statements().size());
            for (Rows r : ok.statements()) {
                out.writeInt(r.columns().size());
                for (Column c : r.columns()) {
                    SqlWire.writeString(out, c.name());
                    SqlWire.writeString(out, c.type());
                }
                out.writeInt(r.rows().size());
                for (List<Object> row : r.rows()) {
                    for (Object v : row) {
                        SqlWire.writeValue(out, v);
                    }
                }
                out.writeLong(r.changes());
            }
        });
    }

    static SqlResult decode(byte[] bytes) {
        ByteBuffer in = SqlWire.open(bytes, "result");
        try {
            byte kind = in.get();
            SqlResult r;
            if (kind == ERROR) {
                r = new Error(in.getInt(), SqlWire.readString(in));
            } else if (kind == OK) {
                long index = in.getLong();
                int n = SqlWire.readCount(in);
                List<Rows> statements = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    int nc = SqlWire.readCount(in);
                    List<Column> columns = new ArrayList<>(nc);
                    for (int c = 0; c < nc; c++) {
                        columns.add(new Column(SqlWire.readString(in), SqlWire.readString(in)));
                    }
                    int nr = SqlWire.readCount(in);
                    List<List<Object>> rows = new ArrayList<>(nr);
                    for (int j = 0; j < nr; j++) {
                        Object[] row = new Object[nc];
                        for (int c = 0; c < nc; c++) {
                            row[c] = SqlWire.readValue(in);
                        }
                        rows.add(Arrays.asList(row));
                    }
                    statements.add(new Rows(columns, rows, in.getLong()));
                }
                r = new Ok(index, statements);
            } else {
                throw new SqlCodecException("unknown SQL result kind " + kind);
            }
            SqlWire.end(in, "result");
            return r;
        } catch (BufferUnderflowException e) {
            throw SqlWire.truncated("result");
        }
    }
}
