package dev.raftkit.sql;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A SHA-256 over the database's logical content: the schema (every table, index, view and
 * trigger with its SQL, by type and name) and every table's rows — including the store's own
 * backup tables and {@code sqlite_sequence} — in primary-key order (rowid, or the declared key of
 * a WITHOUT ROWID table), each value with its storage class. Two databases with the same digest
 * hold the same data, whatever their page layout.
 */
final class SqlDigest {

    private SqlDigest() {
    }

    static String of(Connection conn) throws SQLException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
        List<String> tables = new ArrayList<>();
        try (Statement s = conn.createStatement();
             ResultSet r = s.executeQuery("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name")) {
            while (r.next()) {
                for (int i = 1; i <= 4; i++) {
                    text(md, r.getString(i));
                }
                if ("table".equals(r.getString(1)) && r.getString(4) != null
                        && !r.getString(4).toUpperCase().startsWith("CREATE VIRTUAL")) {
                    tables.add(r.getString(2));
                }
            }
        }
        for (String table : tables) {
            text(md, "rows of " + table);
            String order = orderBy(conn, table);
            try (Statement s = conn.createStatement();
                 ResultSet r = s.executeQuery("SELECT * FROM " + quote(table) + " ORDER BY " + order)) {
                int n = r.getMetaData().getColumnCount();
                while (r.next()) {
                    md.update((byte) '\n');
                    for (int i = 1; i <= n; i++) {
                        value(md, r.getObject(i));
                    }
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** rowid for an ordinary table; the primary-key columns for a WITHOUT ROWID one. */
    static String orderBy(Connection conn, String table) throws SQLException {
        List<String> pk = new ArrayList<>();
        boolean withoutRowid;
        try (PreparedStatement p = conn.prepareStatement("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?")) {
            p.setString(1, table);
            try (ResultSet r = p.executeQuery()) {
                withoutRowid = r.next() && r.getString(1) != null
                        && r.getString(1).toUpperCase().replaceAll("\\s+", " ").contains("WITHOUT ROWID");
            }
        }
        if (!withoutRowid) {
            return "rowid";
        }
        try (PreparedStatement p = conn.prepareStatement("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk")) {
            p.setString(1, table);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    pk.add(quote(r.getString(1)));
                }
            }
        }
        return String.join(", ", pk);
    }

    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    private static void text(MessageDigest md, String s) {
        if (s == null) {
            md.update((byte) 0);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        md.update((byte) 3);
        md.update(ByteBuffer.allocate(4).putInt(b.length).array());
        md.update(b);
    }

    private static void value(MessageDigest md, Object v) {
        if (v == null) {
            md.update((byte) 0);
        } else if (v instanceof Integer || v instanceof Long) {
            md.update((byte) 1);
            md.update(ByteBuffer.allocate(8).putLong(((Number) v).longValue()).array());
        } else if (v instanceof Double d) {
            md.update((byte) 2);
            md.update(ByteBuffer.allocate(8).putLong(Double.doubleToLongBits(d)).array());
        } else if (v instanceof byte[] b) {
            md.update((byte) 4);
            md.update(ByteBuffer.allocate(4).putInt(b.length).array());
            md.update(b);
        } else {
            text(md, v.toString());
        }
    }
}
