package dev.raftkit.sql;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * A table backup as a file: what {@code BACKUP TABLE t TO 'name'} writes to {@code name}{@value #EXTENSION}
 * on every replica, and what {@code RESTORE TABLE t FROM FILE '…'} reads back — on the same
 * cluster, on a cluster restored from an older backup, or on another cluster (docs/storage-format.md,
 * "SQL table artifacts").
 *
 * <p>Format (version {@value #VERSION}, big-endian; a string is an {@code int} length and UTF-8;
 * a value is SQL's wire value: a storage-class byte, 0 NULL, 1 INTEGER {@code long}, 2 REAL
 * {@code double}, 3 TEXT string, 4 BLOB {@code int} length and bytes): the 8 bytes
 * {@code RKSQLTBL}, {@code int} version, cluster id, backup name, table name, {@code long} log
 * index the backup was taken at, {@code long} the entry's time (the leader's stamp, ms since the
 * epoch), the table's {@code CREATE TABLE} statement, {@code int n} and n {@code CREATE INDEX}
 * statements (by index name), {@code int c} and c column names, {@code long r} and r rows of c
 * values in rowid order (primary-key order for a {@code WITHOUT ROWID} table), then the SHA-256 of
 * every byte before it. Nothing in it depends on the node that wrote it (no local clock, no
 * node id, no unordered collection), so every replica writes the same bytes.
 *
 * <p>An artifact may be sealed with a {@link TableArtifactKey} (see {@link #seal}); the SHA-256
 * and size recorded for it (in {@code SHOW BACKUPS}) are always those of the plain bytes.
 *
 * <p>Immutable and thread-safe.
 *
 * @param clusterId   the cluster it was taken on ("" if the node did not know it)
 * @param name        the backup name of the statement
 * @param table       the table's name as stored
 * @param logIndex    the log index of the {@code BACKUP TABLE} entry
 * @param takenMillis the entry's time, stamped by the leader
 * @param createSql   the table's {@code CREATE TABLE} statement
 * @param indexSql    the table's {@code CREATE INDEX} statements (automatic ones left out)
 * @param columns     the column names, in declaration order
 * @param rows        the rows, each one value per column
 * @param sha256      hex SHA-256 of the plain artifact's bytes before the checksum
 * @param bytes       size of the plain artifact in bytes
 */
public record TableArtifact(String clusterId, String name, String table, long logIndex, long takenMillis,
        String createSql, List<String> indexSql, List<String> columns, List<List<Object>> rows, String sha256,
        long bytes) {

    /** The file name extension of a table artifact. */
    public static final String EXTENSION = ".rktable";
    /** The format version written and read. */
    public static final int VERSION = 1;
    static final byte[] MAGIC = "RKSQLTBL".getBytes(StandardCharsets.US_ASCII);
    static final int CHECKSUM_BYTES = 32;

    public TableArtifact {
        indexSql = List.copyOf(indexSql);
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
    }

    /** The file name an artifact of backup {@code name} has: {@code name.rktable}. */
    public static String fileName(String name) {
        return name + EXTENSION;
    }

    /**
     * The plain artifact bytes of these fields, checksum included (what every replica writes).
     * Row values are {@code null}, {@code Long}/{@code Integer}, {@code Double}, {@code String} or {@code byte[]}.
     */
    static byte[] encode(String clusterId, String name, String table, long logIndex, long takenMillis, String createSql,
            List<String> indexSql, List<String> columns, Iterable<List<Object>> rows, long rowCount) {
        SqlWire.Writer out = new SqlWire.Writer(1024);
        out.write(MAGIC);
        out.writeInt(VERSION);
        SqlWire.writeString(out, clusterId);
        SqlWire.writeString(out, name);
        SqlWire.writeString(out, table);
        out.writeLong(logIndex);
        out.writeLong(takenMillis);
        SqlWire.writeString(out, createSql);
        out.writeInt(indexSql.size());
        for (String s : indexSql) {
            SqlWire.writeString(out, s);
        }
        out.writeInt(columns.size());
        for (String c : columns) {
            SqlWire.writeString(out, c);
        }
        out.writeLong(rowCount);
        long written = 0;
        for (List<Object> row : rows) {
            for (Object v : row) {
                SqlWire.writeValue(out, v);
            }
            written++;
        }
        if (written != rowCount) {
            throw new IllegalStateException("table artifact: " + written + " rows written, " + rowCount + " counted");
        }
        MessageDigest sha256 = newSha256();
        out.update(sha256);
        out.write(sha256.digest());
        return out.toByteArray();
    }

    /**
     * Reads and checks a plain or sealed artifact: magic, version, checksum, every length, no
     * trailing bytes.
     *
     * @param bytes  the file's contents
     * @param source what to name in an error (the file's path, or {@code backup 'name'})
     * @param key    the key to open a sealed artifact with, or null
     * @throws TableArtifactException naming {@code source} and saying what is wrong and what to do
     */
    public static TableArtifact decode(byte[] bytes, String source, TableArtifactKey key) throws TableArtifactException {
        if (TableArtifactKey.isSealed(bytes)) {
            if (key == null) {
                throw new TableArtifactException(source + " is an encrypted table artifact (written by a node with"
                        + " --backup-key); give the same key file to read it (raftkit sql --backup-key FILE)");
            }
            bytes = key.open(bytes, source);
        }
        if (bytes.length < MAGIC.length || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
            throw new TableArtifactException(source + " is not a table backup artifact: it does not start with the"
                    + " magic bytes RKSQLTBL (a " + EXTENSION + " file written by BACKUP TABLE … TO 'name')");
        }
        if (bytes.length < MAGIC.length + 4 + CHECKSUM_BYTES) {
            throw new TableArtifactException(source + " is truncated: " + bytes.length + " bytes, shorter than any"
                    + " table artifact; copy the file again from a node's backups");
        }
        int body = bytes.length - CHECKSUM_BYTES;
        byte[] expected = Arrays.copyOfRange(bytes, body, bytes.length);
        MessageDigest md = newSha256();
        md.update(bytes, 0, body);
        byte[] actual = md.digest();
        ByteBuffer in = ByteBuffer.wrap(bytes, MAGIC.length, body - MAGIC.length);
        try {
            int version = in.getInt();
            if (version != VERSION) {
                throw new TableArtifactException(source + " is a table artifact of format version " + version
                        + "; this Raftkit reads version " + VERSION + " (restore it with the version that wrote it)");
            }
            if (!MessageDigest.isEqual(expected, actual)) {
                throw new TableArtifactException(source + " is damaged: its SHA-256 checksum does not match its"
                        + " contents (the file was changed or truncated); copy it again from another node's backups");
            }
            String clusterId = SqlWire.readString(in);
            String name = SqlWire.readString(in);
            String table = SqlWire.readString(in);
            long logIndex = in.getLong();
            long taken = in.getLong();
            String createSql = SqlWire.readString(in);
            int n = SqlWire.readCount(in);
            List<String> indexes = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                indexes.add(SqlWire.readString(in));
            }
            int c = SqlWire.readCount(in);
            if (c == 0) {
                throw new SqlCodecException("no columns");
            }
            List<String> columns = new ArrayList<>(c);
            for (int i = 0; i < c; i++) {
                columns.add(SqlWire.readString(in));
            }
            long r = in.getLong();
            if (r < 0 || r > in.remaining()) {
                throw new SqlCodecException("row count " + r + " is out of range");
            }
            List<List<Object>> rows = new ArrayList<>((int) r);
            for (long i = 0; i < r; i++) {
                Object[] row = new Object[c];
                for (int j = 0; j < c; j++) {
                    row[j] = SqlWire.readValue(in);
                }
                rows.add(Arrays.asList(row));
            }
            if (in.hasRemaining()) {
                throw new SqlCodecException(in.remaining() + " bytes after the last row");
            }
            return new TableArtifact(clusterId, name, table, logIndex, taken, createSql, indexes, columns, rows,
                    HexFormat.of().formatHex(actual), bytes.length);
        } catch (BufferUnderflowException e) {
            throw new TableArtifactException(source + " is truncated: it ends before its last row; copy the file again"
                    + " from a node's backups");
        } catch (SqlCodecException e) {
            throw new TableArtifactException(source + " is damaged: " + e.getMessage() + "; copy it again from another"
                    + " node's backups");
        }
    }

    /**
     * Reads the artifact in {@code file} and checks it as {@link #decode} does.
     *
     * @throws TableArtifactException naming the file if it is missing, unreadable or not a good artifact
     */
    public static TableArtifact read(Path file, TableArtifactKey key) throws TableArtifactException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TableArtifactException("table artifact " + file + " does not exist; a node keeps those of"
                    + " BACKUP TABLE … TO 'name' as name" + EXTENSION + " (SHOW BACKUPS lists them)");
        } catch (IOException e) {
            throw new TableArtifactException("table artifact " + file + " cannot be read: " + e);
        }
        return decode(bytes, "table artifact " + file, key);
    }

    /** Where the artifact came from, for messages: backup, table, index, cluster. */
    public String describe() {
        return "backup '" + name + "' of table " + table + " at index " + logIndex
                + (clusterId.isEmpty() ? "" : " of cluster '" + clusterId + "'");
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }
}
