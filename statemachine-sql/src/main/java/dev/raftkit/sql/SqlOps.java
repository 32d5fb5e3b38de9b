package dev.raftkit.sql;

import dev.raftkit.sql.SqlResult.Column;
import dev.raftkit.sql.SqlResult.Rows;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
     * Bytes of artifact sent in one command, at most: an artifact up to this size is one
     * {@code RESTORE TABLE} command, a larger one is sent in parts of this size. Half the default
     * {@code maxCommandBytes} (8 MiB), leaving room for the request's envelope.
     */
    public static final int RESTORE_PART_BYTES = 4 << 20;

    /**
     * The writes that restore {@code table} from a table artifact (the contents of a {@code .rktable}
     * file that {@code BACKUP TABLE} wrote, on this cluster or another), to submit in order: checked
     * here first (magic, version, checksum, that it is a backup of {@code table}). Each is
     * {@code RESTORE TABLE table FROM 'name'} carrying the plain artifact as a BLOB parameter, so the
     * contents reach every replica through the log and every replica restores the same rows from the
     * same bytes (and checks them again). An artifact of at most {@value #RESTORE_PART_BYTES} bytes is
     * one write; a larger one is sent in parts of that size (each with its number, the count and the
     * artifact's SHA-256), which the replicas keep aside until the last one arrives: that entry
     * checks the whole artifact and switches the table, so readers see the old rows until one log
     * index and the new ones from it, never a mix. A part over the cluster's {@code maxCommandBytes}
     * is refused by the leader with the limit named; use {@link #restoreTable(String, byte[], String,
     * TableArtifactKey, int)} with smaller parts.
     *
     * @param artifact the file's bytes, plain or sealed
     * @param source   what to name in an error (the file's path)
     * @param key      the key a sealed file is opened with (the node's backup key), or null
     * @throws TableArtifactException naming {@code source} if the artifact is damaged, sealed with
     *                                another key, or of another table
     */
    public static List<byte[]> restoreTable(String table, byte[] artifact, String source, TableArtifactKey key)
            throws TableArtifactException {
        return restoreTable(table, artifact, source, key, RESTORE_PART_BYTES);
    }

    /**
     * {@link #restoreTable(String, byte[], String, TableArtifactKey)} with parts of at most
     * {@code partBytes} bytes (for a cluster whose {@code maxCommandBytes} is below the default).
     */
    public static List<byte[]> restoreTable(String table, byte[] artifact, String source, TableArtifactKey key,
            int partBytes) throws TableArtifactException {
        if (partBytes < 1) {
            throw new IllegalArgumentException("partBytes must be positive, got " + partBytes);
        }
        byte[] plain = TableArtifactKey.isSealed(artifact) && key != null ? key.open(artifact, source) : artifact;
        TableArtifact a = TableArtifact.decode(plain, source, key);
        if (!a.table().equalsIgnoreCase(table)) {
            throw new TableArtifactException(source + " holds " + a.describe() + ", not a backup of table " + table
                    + "; restore it into " + a.table() + ", or pick the file of " + table + "'s backup");
        }
        if (!a.name().matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new TableArtifactException(source + " is damaged: its backup name is not one BACKUP TABLE accepts");
        }
        String sql = "RESTORE TABLE " + SqlDigest.quote(table) + " FROM '" + a.name() + "'";
        if (plain.length <= partBytes) {
            return List.of(execute(new SqlStatement(sql, List.of(plain))));
        }
        long parts = (plain.length + (long) partBytes - 1) / partBytes;
        if (parts > TableBackups.MAX_PARTS) {
            throw new TableArtifactException(source + " is " + plain.length + " bytes: more than "
                    + TableBackups.MAX_PARTS + " parts of " + partBytes + " bytes; send larger parts");
        }
        List<byte[]> out = new ArrayList<>();
        for (long i = 0; i < parts; i++) {
            int from = (int) (i * partBytes);
            byte[] part = Arrays.copyOfRange(plain, from, Math.min(plain.length, from + partBytes));
            out.add(execute(new SqlStatement(sql, Arrays.asList(part, i + 1, parts, a.sha256()))));
        }
        return out;
    }

    /**
     * {@link #restoreTable(String, byte[], String, TableArtifactKey)} of the artifact in {@code file}.
     *
     * @throws TableArtifactException naming the file if it is missing, unreadable, damaged or of another table
     */
    public static List<byte[]> restoreTableFromFile(String table, Path file, TableArtifactKey key)
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
