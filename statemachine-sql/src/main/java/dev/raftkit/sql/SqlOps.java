package dev.raftkit.sql;

import dev.raftkit.sql.SqlResult.Column;
import dev.raftkit.sql.SqlResult.Rows;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Client helpers: build requests (checked by {@link SqlValidator} first, so a statement that
 * cannot be made deterministic is refused before it reaches the log) and read results.
 *
 * <pre>{@code
 * session.submit(SqlOps.execute("CREATE TABLE example (id INT PRIMARY KEY, name VARCHAR(255), age INT)"));
 * SqlResult.Ok ok = SqlOps.ok(session.submit(SqlOps.execute(
 *         SqlStatement.of("INSERT INTO example VALUES (?, ?, ?)", 1, "ada", 36))).get());
 * SqlResult.Rows rows = SqlOps.ok(server.read(SqlOps.query("SELECT * FROM example"), ReadMode.LINEARIZABLE).get()).last();
 * System.out.print(SqlOps.table(rows));
 * }</pre>
 */
public final class SqlOps {

    private SqlOps() {
    }

    /**
     * A write: the statements of {@code script} (separated by semicolons) as one transaction.
     *
     * @throws SqlRefusedException if a statement cannot run on the replicated store
     */
    public static byte[] execute(String script) {
        return execute(new SqlStatement(script, List.of()));
    }

    /** A write: these statements (with their parameters) as one transaction. */
    public static byte[] execute(SqlStatement... statements) {
        List<SqlStatement> list = List.of(statements);
        SqlValidator.check(list, true);
        return new SqlRequest.Execute(list).encode();
    }

    /**
     * A write restoring {@code table} from a table artifact (the contents of a {@code .rktable}
     * file that {@code BACKUP TABLE} wrote, on this cluster or another): checked here (magic,
     * version, checksum, that it is a backup of {@code table}), then sent whole through the log as
     * {@code RESTORE TABLE table FROM 'name'} with the plain artifact as its one BLOB parameter, so
     * every replica restores the same rows from the same bytes (and checks them again). The request
     * is one command: above the cluster's {@code maxCommandBytes} (default 8 MiB) the leader refuses
     * it with the limit named, and nothing changes.
     *
     * @param artifact the file's bytes, plain or sealed
     * @param source   what to name in an error (the file's path)
     * @param key      the key a sealed file is opened with (the node's backup key), or null
     * @throws TableArtifactException naming {@code source} if the artifact is damaged, sealed with
     *                                another key, or of another table
     */
    public static byte[] restoreTable(String table, byte[] artifact, String source, TableArtifactKey key)
            throws TableArtifactException {
        byte[] plain = TableArtifactKey.isSealed(artifact) && key != null ? key.open(artifact, source) : artifact;
        TableArtifact a = TableArtifact.decode(plain, source, key);
        if (!a.table().equalsIgnoreCase(table)) {
            throw new TableArtifactException(source + " holds " + a.describe() + ", not a backup of table " + table
                    + "; restore it into " + a.table() + ", or pick the file of " + table + "'s backup");
        }
        if (!a.name().matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new TableArtifactException(source + " is damaged: its backup name is not one BACKUP TABLE accepts");
        }
        return execute(new SqlStatement("RESTORE TABLE " + SqlDigest.quote(table) + " FROM '" + a.name() + "'",
                List.of(plain)));
    }

    /**
     * {@link #restoreTable(String, byte[], String, TableArtifactKey)} of the artifact in {@code file}.
     *
     * @throws TableArtifactException naming the file if it is missing, unreadable, damaged or of another table
     */
    public static byte[] restoreTableFromFile(String table, Path file, TableArtifactKey key)
            throws TableArtifactException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TableArtifactException("table artifact " + file + " does not exist; a node keeps the artifact of"
                    + " BACKUP TABLE … TO 'name' as name" + TableArtifact.EXTENSION + " in its artifact directory");
        } catch (IOException e) {
            throw new TableArtifactException("table artifact " + file + " cannot be read: " + e);
        }
        return restoreTable(table, bytes, "table artifact " + file, key);
    }

    /** A read of the statements of {@code script}. */
    public static byte[] query(String script) {
        return query(new SqlStatement(script, List.of()));
    }

    /** A read of these statements. */
    public static byte[] query(SqlStatement... statements) {
        List<SqlStatement> list = List.of(statements);
        SqlValidator.check(list, false);
        return new SqlRequest.Query(list).encode();
    }

    /** A read of the database's full-content digest (see {@link #digestOf}). */
    public static byte[] digest() {
        return new SqlRequest.Digest().encode();
    }

    public static SqlResult decode(byte[] result) {
        return SqlResult.decode(result);
    }

    /** The result as {@link SqlResult.Ok}, or {@link SqlFailedException} with the error's message. */
    public static SqlResult.Ok ok(byte[] result) {
        SqlResult r = decode(result);
        if (r instanceof SqlResult.Error e) {
            throw new SqlFailedException(e);
        }
        return (SqlResult.Ok) r;
    }

    /** The hex digest answered by a {@link #digest()} read. */
    public static String digestOf(byte[] result) {
        return (String) ok(result).last().value(0, 0);
    }

    /** The rows as an aligned text table with a header, like the sqlite3 shell's box-less mode. */
    public static String table(Rows rows) {
        if (rows.columns().isEmpty()) {
            return "(" + rows.changes() + " row" + (rows.changes() == 1 ? "" : "s") + " changed)\n";
        }
        int n = rows.columns().size();
        List<String[]> cells = new ArrayList<>();
        cells.add(rows.columns().stream().map(Column::name).toArray(String[]::new));
        for (List<Object> row : rows.rows()) {
            String[] line = new String[n];
            for (int i = 0; i < n; i++) {
                line[i] = text(row.get(i));
            }
            cells.add(line);
        }
        int[] width = new int[n];
        for (String[] line : cells) {
            for (int i = 0; i < n; i++) {
                width[i] = Math.max(width[i], line[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (int l = 0; l < cells.size(); l++) {
            String[] line = cells.get(l);
            for (int i = 0; i < n; i++) {
                boolean number = l > 0 && rows.rows().get(l - 1).get(i) instanceof Number;
                String pad = " ".repeat(width[i] - line[i].length());
                out.append(i == 0 ? "" : " | ").append(number ? pad + line[i] : line[i] + (i == n - 1 ? "" : pad));
            }
            out.append('\n');
            if (l == 0) {
                for (int i = 0; i < n; i++) {
                    out.append(i == 0 ? "" : "-+-").append("-".repeat(width[i]));
                }
                out.append('\n');
            }
        }
        out.append("(").append(rows.rows().size()).append(rows.rows().size() == 1 ? " row)" : " rows)").append('\n');
        return out.toString();
    }

    private static String text(Object v) {
        if (v == null) {
            return "NULL";
        }
        if (v instanceof byte[] b) {
            return "x'" + HexFormat.of().formatHex(b) + "'";
        }
        return v.toString();
    }

    /** A failed SQL request, with the statement number and message of its {@link SqlResult.Error}. */
    public static final class SqlFailedException extends RuntimeException {
        private final SqlResult.Error error;

        public SqlFailedException(SqlResult.Error error) {
            super(error.message());
            this.error = error;
        }

        public SqlResult.Error error() {
            return error;
        }
    }
}
