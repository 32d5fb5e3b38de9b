package dev.raftkit.sql;

import static dev.raftkit.sql.SqlDigest.quote;

import dev.raftkit.sql.SqlResult.Column;
import dev.raftkit.sql.SqlResult.Rows;
import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * {@code BACKUP TABLE}, {@code RESTORE TABLE} and {@code SHOW BACKUPS}, run by every replica at
 * the same log index inside the entry's transaction. A table backup is a copy of the table's
 * rows in a table of the same database named {@value #TABLE_PREFIX}{@code <name>}, recorded in
 * the catalog table {@value #CATALOG} with the source table's columns and {@code CREATE}
 * statement; both are ordinary tables, so they are in every snapshot and every digest. Each
 * table backup also yields its artifact bytes ({@link TableArtifact}, recorded by size and SHA-256
 * in {@value #ARTIFACTS}), which {@link SqlStateMachine} writes to a file once the entry holds;
 * {@link #restoreFromArtifact} restores from such bytes sent through the log. A
 * database backup ({@code BACKUP DATABASE}) is only recorded here; its file image is written by
 * {@link SqlStateMachine}.
 */
final class TableBackups {

    static final String CATALOG = SqlValidator.RESERVED_PREFIX + "_backups";
    static final String TABLE_PREFIX = SqlValidator.RESERVED_PREFIX + "_backup_";
    static final String CREATE_CATALOG = "CREATE TABLE IF NOT EXISTS " + CATALOG + " (name TEXT PRIMARY KEY,"
            + " kind TEXT NOT NULL, source TEXT, log_index INTEGER NOT NULL, taken_at TEXT NOT NULL,"
            + " row_count INTEGER, table_sql TEXT, columns TEXT)";
    /**
     * Size and SHA-256 of each table backup's artifact file ({@link TableArtifact}), replicated like
     * the catalog: a table of its own (not columns added to the catalog) so that images written
     * before it existed gain it unchanged, by the same {@code CREATE} as a new database.
     */
    static final String ARTIFACTS = SqlValidator.RESERVED_PREFIX + "_table_artifacts";
    static final String CREATE_ARTIFACTS = "CREATE TABLE IF NOT EXISTS " + ARTIFACTS + " (name TEXT PRIMARY KEY,"
            + " bytes INTEGER NOT NULL, sha256 TEXT NOT NULL)";

    /**
     * Parts of artifacts being restored in several entries, until the last part arrives (then the
     * restore runs and they are deleted). Replicated, so in snapshots: an upload that a client
     * abandons stays until the same backup is sent into the same table again (its first part
     * clears what earlier uploads of it left).
     */
    static final String PARTS = SqlValidator.RESERVED_PREFIX + "_restore_parts";
    static final String CREATE_PARTS = "CREATE TABLE IF NOT EXISTS " + PARTS + " (sha256 TEXT NOT NULL,"
            + " part INTEGER NOT NULL, parts INTEGER NOT NULL, target TEXT NOT NULL, name TEXT NOT NULL, bytes BLOB"
            + " NOT NULL, PRIMARY KEY (sha256, part))";
    /** Most parts one artifact may be sent in. */
    static final int MAX_PARTS = 100_000;

    /** A part stored: either the rows saying how far the upload is, or (with the last part) the whole artifact. */
    record Staged(Rows progress, byte[] whole) {
    }

    /**
     * Stores part {@code part} of {@code parts} of the artifact whose SHA-256 is {@code sha256},
     * restoring {@code table} from backup {@code name}; once every part is there, returns the
     * artifact (in part order) and deletes the parts. A part sent again (a retry) replaces itself.
     */
    static Staged stagePart(Connection conn, String table, String name, byte[] bytes, long part, long parts,
            String sha256) throws SQLException {
        if (parts < 2 || parts > MAX_PARTS || part < 1 || part > parts || !sha256.matches("[0-9a-fA-F]{64}")) {
            throw new SQLException("RESTORE TABLE: part " + part + " of " + parts + " (SHA-256 '"
                    + SqlScript.excerpt(sha256, 0) + "') is not a valid part of an artifact: parts are numbered 1.."
                    + MAX_PARTS + " with the artifact's hex SHA-256");
        }
        String sha = sha256.toLowerCase(Locale.ROOT);
        try (PreparedStatement p = conn.prepareStatement("SELECT DISTINCT parts, target, name FROM " + PARTS
                + " WHERE sha256 = ?")) {
            p.setString(1, sha);
            try (ResultSet r = p.executeQuery()) {
                if (r.next() && (r.getLong(1) != parts || !r.getString(2).equals(table) || !r.getString(3).equals(name))) {
                    throw new SQLException("RESTORE TABLE: part " + part + " of " + parts + " for table " + table
                            + " does not belong with the parts already sent for this artifact (" + r.getLong(1)
                            + " parts, table " + r.getString(2) + ", backup '" + r.getString(3) + "'); send the file"
                            + " again from its first part");
                }
            }
        }
        if (part == 1) {
            // Parts are sent in order, so a first part starts an upload: whatever an earlier, unfinished
            // upload of this backup into this table left (a client that stopped, a damaged part) goes.
            try (PreparedStatement p = conn.prepareStatement("DELETE FROM " + PARTS + " WHERE target = ? AND name = ?")) {
                p.setString(1, table);
                p.setString(2, name);
                p.executeUpdate();
            }
        }
        try (PreparedStatement p = conn.prepareStatement("INSERT OR REPLACE INTO " + PARTS
                + " (sha256, part, parts, target, name, bytes) VALUES (?, ?, ?, ?, ?, ?)")) {
            p.setString(1, sha);
            p.setLong(2, part);
            p.setLong(3, parts);
            p.setString(4, table);
            p.setString(5, name);
            p.setBytes(6, bytes);
            p.executeUpdate();
        }
        long have;
        try (PreparedStatement p = conn.prepareStatement("SELECT count(*) FROM " + PARTS + " WHERE sha256 = ?")) {
            p.setString(1, sha);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                have = r.getLong(1);
            }
        }
        if (have < parts) {
            return new Staged(new Rows(List.of(new Column("backup", "TEXT"), new Column("table", "TEXT"),
                    new Column("parts_received", "INTEGER"), new Column("parts", "INTEGER")),
                    List.of(Arrays.asList(name, table, have, parts)), 0), null);
        }
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        try (PreparedStatement p = conn.prepareStatement("SELECT bytes FROM " + PARTS + " WHERE sha256 = ?"
                + " ORDER BY part")) {
            p.setString(1, sha);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    whole.writeBytes(r.getBytes(1));
                }
            }
        }
        try (PreparedStatement p = conn.prepareStatement("DELETE FROM " + PARTS + " WHERE sha256 = ?")) {
            p.setString(1, sha);
            p.executeUpdate();
        }
        return new Staged(null, whole.toByteArray());
    }

    /** A table backup's result and its plain artifact bytes (written to a file by the caller once the entry holds). */
    record TableBackup(Rows rows, byte[] artifact) {
    }

    private TableBackups() {
    }

    static TableBackup backupTable(Connection conn, String table, String name, long index, long takenMillis,
            String clusterId) throws SQLException {
        String takenAt = DateTimeText.of(takenMillis);
        String[] source = findTable(conn, table);
        if (source == null) {
            throw new SQLException("BACKUP TABLE: no such table: " + table + " (list tables with .tables or"
                    + " SELECT name FROM sqlite_schema WHERE type = 'table')");
        }
        String kind = kindOf(conn, name);
        if ("DATABASE".equals(kind)) {
            throw new SQLException("BACKUP TABLE: the name '" + name + "' is taken by a database backup; pick another");
        }
        List<String> columns = columns(conn, source[0]);
        String cols = String.join(", ", columns.stream().map(SqlDigest::quote).toList());
        String copy = quote(TABLE_PREFIX + name);
        try (Statement s = conn.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + copy);
            s.execute("CREATE TABLE " + copy + " AS SELECT " + cols + " FROM " + quote(source[0]));
        }
        long rows = count(conn, copy);
        try (PreparedStatement p = conn.prepareStatement("INSERT OR REPLACE INTO " + CATALOG
                + " (name, kind, source, log_index, taken_at, row_count, table_sql, columns)"
                + " VALUES (?, 'TABLE', ?, ?, ?, ?, ?, ?)")) {
            p.setString(1, name);
            p.setString(2, source[0]);
            p.setLong(3, index);
            p.setString(4, takenAt);
            p.setLong(5, rows);
            p.setString(6, source[1]);
            p.setString(7, String.join("\n", columns));
            p.executeUpdate();
        }
        byte[] artifact = artifact(conn, clusterId, name, source, index, takenMillis, columns, copy, rows);
        try (PreparedStatement p = conn.prepareStatement("INSERT OR REPLACE INTO " + ARTIFACTS
                + " (name, bytes, sha256) VALUES (?, ?, ?)")) {
            p.setString(1, name);
            p.setLong(2, artifact.length);
            p.setString(3, HexFormat.of().formatHex(artifact, artifact.length - TableArtifact.CHECKSUM_BYTES,
                    artifact.length));
            p.executeUpdate();
        }
        return new TableBackup(new Rows(List.of(new Column("backup", "TEXT"), new Column("table", "TEXT"),
                new Column("rows", "INTEGER"), new Column("log_index", "INTEGER")),
                List.of(Arrays.asList(name, source[0], rows, index)), rows), artifact);
    }

    /**
     * The artifact of the copy just made: the source's schema, the copy's rows in the source's
     * row order (the copy was filled in that order, so its rowids follow it; a WITHOUT ROWID
     * source is read by its key), all from this entry's state, so every replica encodes the same bytes.
     */
    private static byte[] artifact(Connection conn, String clusterId, String name, String[] source, long index,
            long takenMillis, List<String> columns, String copy, long rowCount) throws SQLException {
        List<String> indexes = new ArrayList<>();
        try (PreparedStatement p = conn.prepareStatement("SELECT sql FROM sqlite_schema WHERE type = 'index'"
                + " AND tbl_name = ? AND sql IS NOT NULL ORDER BY name")) {
            p.setString(1, source[0]);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    indexes.add(r.getString(1));
                }
            }
        }
        String cols = String.join(", ", columns.stream().map(SqlDigest::quote).toList());
        List<List<Object>> rows = new ArrayList<>();
        try (Statement s = conn.createStatement();
             ResultSet r = s.executeQuery("SELECT " + cols + " FROM " + quote(source[0]) + " ORDER BY "
                     + SqlDigest.orderBy(conn, source[0]))) {
            int n = columns.size();
            while (r.next()) {
                Object[] row = new Object[n];
                for (int i = 0; i < n; i++) {
                    Object v = r.getObject(i + 1);
                    row[i] = v instanceof Integer x ? Long.valueOf(x) : v;
                }
                rows.add(Arrays.asList(row));
            }
        }
        return TableArtifact.encode(clusterId, name, source[0], index, takenMillis, source[1], indexes, columns, rows,
                rowCount);
    }

    /**
     * Replaces the table's rows with the artifact's, after checking that it is this backup of this
     * table; recreates the table (and its indexes) from the artifact if it does not exist. Runs
     * inside the entry's savepoint: a failure leaves the table as it was.
     */
    static Rows restoreFromArtifact(Connection conn, String table, String name, TableArtifact a) throws SQLException {
        if (!a.name().equals(name)) {
            throw new SQLException("RESTORE TABLE: the artifact holds " + a.describe() + ", not backup '" + name
                    + "'; the table is unchanged");
        }
        if (!a.table().equalsIgnoreCase(table)) {
            throw new SQLException("RESTORE TABLE: the artifact holds " + a.describe() + ", another table than "
                    + table + "; restore it into " + a.table() + " (the table is unchanged)");
        }
        String[] target = findTable(conn, table);
        if (target == null) {
            try (Statement s = conn.createStatement()) {
                s.execute(a.createSql());
                for (String index : a.indexSql()) {
                    s.execute(index);
                }
            }
            target = findTable(conn, table);
            if (target == null) {
                throw new SQLException("RESTORE TABLE: the artifact's CREATE statement did not create table " + table
                        + "; the artifact is not usable");
            }
        }
        List<String> now = columns(conn, target[0]);
        for (String c : a.columns()) {
            if (now.stream().noneMatch(c::equalsIgnoreCase)) {
                throw new SQLException("RESTORE TABLE: table " + target[0] + " has no column " + c + " that "
                        + a.describe() + " holds; its schema changed since the backup — add the column back first");
            }
        }
        String cols = String.join(", ", a.columns().stream().map(SqlDigest::quote).toList());
        String marks = String.join(", ", a.columns().stream().map(c -> "?").toList());
        try (Statement s = conn.createStatement()) {
            s.execute("DELETE FROM " + quote(target[0]));
        }
        long restored = 0;
        try (PreparedStatement p = conn.prepareStatement("INSERT INTO " + quote(target[0]) + " (" + cols + ") VALUES ("
                + marks + ")")) {
            for (List<Object> row : a.rows()) {
                for (int i = 0; i < row.size(); i++) {
                    p.setObject(i + 1, row.get(i));
                }
                restored += p.executeUpdate();
            }
        }
        return new Rows(List.of(new Column("backup", "TEXT"), new Column("table", "TEXT"), new Column("rows", "INTEGER")),
                List.of(Arrays.asList(name, target[0], restored)), restored);
    }

    /** Replaces the table's rows with the backup's; recreates the table from the backup if it was dropped. */
    static Rows restoreTable(Connection conn, String table, String name) throws SQLException {
        String source;
        String tableSql;
        List<String> columns;
        try (PreparedStatement p = conn.prepareStatement("SELECT kind, source, table_sql, columns FROM " + CATALOG
                + " WHERE name = ?")) {
            p.setString(1, name);
            try (ResultSet r = p.executeQuery()) {
                if (!r.next() || !"TABLE".equals(r.getString(1))) {
                    throw new SQLException("RESTORE TABLE: there is no table backup named '" + name
                            + "' in this database (SHOW BACKUPS lists them); if it was taken before this database was"
                            + " restored, or on another cluster, restore from its file: RESTORE TABLE " + table
                            + " FROM FILE '.../" + TableArtifact.fileName(name) + "' in the raftkit sql shell");
                }
                source = r.getString(2);
                tableSql = r.getString(3);
                columns = List.of(r.getString(4).split("\n"));
            }
        }
        String[] target = findTable(conn, table);
        if (target == null) {
            if (!source.equalsIgnoreCase(table)) {
                throw new SQLException("RESTORE TABLE: no such table: " + table + "; create it first, or restore into"
                        + " the backed-up table " + source + " (which is recreated if it was dropped)");
            }
            try (Statement s = conn.createStatement()) {
                s.execute(tableSql);
            }
            target = new String[] {source, tableSql};
        }
        List<String> now = columns(conn, target[0]);
        for (String c : columns) {
            if (now.stream().noneMatch(c::equalsIgnoreCase)) {
                throw new SQLException("RESTORE TABLE: table " + target[0] + " has no column " + c + " that backup '"
                        + name + "' holds; its schema changed since the backup — add the column back first");
            }
        }
        String cols = String.join(", ", columns.stream().map(SqlDigest::quote).toList());
        long restored;
        try (Statement s = conn.createStatement()) {
            s.execute("DELETE FROM " + quote(target[0]));
            restored = s.executeUpdate("INSERT INTO " + quote(target[0]) + " (" + cols + ") SELECT " + cols + " FROM "
                    + quote(TABLE_PREFIX + name) + " ORDER BY rowid");
        }
        return new Rows(List.of(new Column("backup", "TEXT"), new Column("table", "TEXT"), new Column("rows", "INTEGER")),
                List.of(Arrays.asList(name, target[0], restored)), restored);
    }

    /** Records a database backup taken at {@code index} (the file image is node-local). */
    static Rows recordDatabase(Connection conn, String name, long index, String takenAt) throws SQLException {
        if ("TABLE".equals(kindOf(conn, name))) {
            throw new SQLException("BACKUP DATABASE: the name '" + name + "' is taken by a table backup; pick another");
        }
        try (PreparedStatement p = conn.prepareStatement("INSERT OR REPLACE INTO " + CATALOG
                + " (name, kind, source, log_index, taken_at) VALUES (?, 'DATABASE', NULL, ?, ?)")) {
            p.setString(1, name);
            p.setLong(2, index);
            p.setString(3, takenAt);
            p.executeUpdate();
        }
        return new Rows(List.of(new Column("backup", "TEXT"), new Column("kind", "TEXT"), new Column("log_index", "INTEGER")),
                List.of(Arrays.asList(name, "DATABASE", index)), 0);
    }

    static Rows show(Connection conn) throws SQLException {
        List<Column> columns = List.of(new Column("name", "TEXT"), new Column("kind", "TEXT"), new Column("source", "TEXT"),
                new Column("log_index", "INTEGER"), new Column("taken_at", "TEXT"), new Column("rows", "INTEGER"),
                new Column("bytes", "INTEGER"), new Column("sha256", "TEXT"));
        List<List<Object>> rows = new ArrayList<>();
        try (Statement s = conn.createStatement();
             ResultSet r = s.executeQuery("SELECT c.name, c.kind, c.source, c.log_index, c.taken_at, c.row_count,"
                     + " a.bytes, a.sha256 FROM " + CATALOG + " c LEFT JOIN " + ARTIFACTS + " a ON a.name = c.name"
                     + " AND c.kind = 'TABLE' ORDER BY c.name")) {
            while (r.next()) {
                rows.add(Arrays.asList(r.getString(1), r.getString(2), r.getString(3), r.getLong(4), r.getString(5),
                        r.getObject(6) == null ? null : r.getLong(6), r.getObject(7) == null ? null : r.getLong(7),
                        r.getString(8)));
            }
        }
        return new Rows(columns, rows, 0);
    }

    private static String kindOf(Connection conn, String name) throws SQLException {
        try (PreparedStatement p = conn.prepareStatement("SELECT kind FROM " + CATALOG + " WHERE name = ?")) {
            p.setString(1, name);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? r.getString(1) : null;
            }
        }
    }

    /** The table's stored name and CREATE statement, or null. */
    private static String[] findTable(Connection conn, String table) throws SQLException {
        try (PreparedStatement p = conn.prepareStatement("SELECT name, sql FROM sqlite_schema WHERE type = 'table'"
                + " AND name = ? COLLATE NOCASE")) {
            p.setString(1, table);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? new String[] {r.getString(1), r.getString(2)} : null;
            }
        }
    }

    private static List<String> columns(Connection conn, String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement p = conn.prepareStatement("SELECT name FROM pragma_table_info(?) ORDER BY cid")) {
            p.setString(1, table);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    out.add(r.getString(1));
                }
            }
        }
        return out;
    }

    private static long count(Connection conn, String quotedTable) throws SQLException {
        try (Statement s = conn.createStatement(); ResultSet r = s.executeQuery("SELECT count(*) FROM " + quotedTable)) {
            r.next();
            return r.getLong(1);
        }
    }
}
