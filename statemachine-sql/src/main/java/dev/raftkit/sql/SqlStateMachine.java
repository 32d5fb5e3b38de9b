package dev.raftkit.sql;

import dev.raftkit.sql.SqlResult.Column;
import dev.raftkit.sql.SqlResult.Rows;
import dev.raftkit.sql.SqlValidator.Checked;
import dev.raftkit.spi.InvalidCommandException;
import dev.raftkit.spi.StateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConnection;

/**
 * Replicated SQL: a SQLite database (through sqlite-jdbc) that every node changes only by
 * applying the same committed entries in the same order. Requests and results are
 * {@link SqlRequest} and {@link SqlResult} bytes; build and read them with {@link SqlOps}.
 *
 * <p><b>Engine and durability.</b> One in-memory SQLite database and one connection per node,
 * owned by the apply thread. The engine never fsyncs: the Raft log is the durable record. After a
 * crash the runtime restores the latest snapshot and replays the committed log after it (see
 * {@link StateMachine}), which rebuilds exactly the database the node had; so writing the
 * database to disk as well would only add an fsync per batch for nothing. A batch of committed
 * entries runs in one SQLite transaction; each entry runs in a savepoint inside it, so a failing
 * entry is undone alone (all or nothing) and answers an {@link SqlResult.Error} on every node.
 * The database must fit in memory (twice, briefly, while a snapshot is captured).
 *
 * <p><b>Determinism.</b> Each entry's statements pass {@link SqlValidator} again at apply time
 * (a client that skipped the check gets the same error result on every node), and run with
 * {@link DeterministicFunctions}: {@code random()} from the entry's index, {@code 'now'} from
 * the time the leader stamped into the entry ({@link Command#timestampMillis()}).
 *
 * <p><b>Backups.</b> {@code BACKUP TABLE t TO 'n'} / {@code RESTORE TABLE t FROM 'n'} /
 * {@code SHOW BACKUPS} are replicated commands (see {@link TableBackups}).
 * {@code BACKUP DATABASE TO 'n'} records the backup in the replicated catalog and, on every node
 * built with a backup directory, writes a file image of the database as of that entry
 * ({@code sqlite3_serialize}; an ordinary SQLite file, {@code <dir>/<n>.sqlite}, written to a
 * temporary file, fsynced and renamed). That image is node-local; for cluster backups with
 * increments, point-in-time restore and verification use the library's
 * {@code dev.raftkit.storage.backup.BackupService}, which works on this state machine's
 * snapshots like on any other.
 *
 * <p><b>Snapshots.</b> {@link #snapshot()} runs on the apply thread between batches (no
 * transaction is open) and copies the database image with {@code sqlite3_serialize}: applying is
 * blocked for that copy (a memory copy of the database, milliseconds for tens of megabytes), and
 * then continues while the snapshot pool writes the copy ({@link SqlImage}: header, image,
 * CRC32C). {@link #restore} reads and verifies the whole image, loads it into a new connection,
 * runs SQLite's {@code integrity_check}, and only then swaps the connections and closes the old
 * one: a bad image leaves the current database untouched.
 *
 * <p><b>Threads.</b> Every method runs on the runtime's apply thread, except
 * {@link Snapshot#writeTo} (snapshot pool; it touches only the captured copy). Not for use from
 * other threads: read through {@code RaftServer.read} (any {@code ReadMode}), which runs
 * {@link #query} on the apply thread.
 */
public final class SqlStateMachine implements StateMachine {

    private static final Logger LOG = LoggerFactory.getLogger(SqlStateMachine.class);
    /** A statement answering more rows than this fails; ask for fewer (LIMIT, paging by key). */
    public static final int MAX_ROWS = 100_000;

    private final Path databaseBackupDir;
    private Connection conn;
    private DeterministicFunctions functions;
    private volatile long lastApplied;

    /** A node without a directory for {@code BACKUP DATABASE} file images (they are only recorded). */
    public SqlStateMachine() {
        this(null);
    }

    /** @param databaseBackupDir where {@code BACKUP DATABASE TO 'n'} writes {@code n.sqlite}; null for none */
    public SqlStateMachine(Path databaseBackupDir) {
        this.databaseBackupDir = databaseBackupDir;
        try {
            conn = open();
            try (Statement s = conn.createStatement()) {
                s.execute(TableBackups.CREATE_CATALOG);
            }
            functions = new DeterministicFunctions(conn);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the in-memory SQLite database (sqlite-jdbc native library"
                    + " missing for this platform?): " + e.getMessage(), e);
        }
    }

    private static Connection open() throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite::memory:");
        try (Statement s = c.createStatement()) {
            // In memory already; said explicitly so no setting can make the engine touch the disk.
            s.execute("PRAGMA journal_mode = MEMORY");
            s.execute("PRAGMA synchronous = OFF");
            s.execute("PRAGMA temp_store = MEMORY");
        }
        return c;
    }

    /**
     * Refuses, before it is proposed, a request that {@link #apply} would answer with an error
     * whatever the database holds: bytes that are not a request, a read sent as a write, and
     * statements {@link SqlValidator} refuses (clock functions, ATTACH, PRAGMA, transaction
     * control, reserved tables, malformed backup statements, …). Errors that depend on the data
     * (a missing table, a constraint) still come from apply. Reads the bytes only: safe on any thread.
     */
    @Override
    public void validate(byte[] command) {
        SqlRequest request;
        try {
            request = SqlRequest.decode(command);
        } catch (SqlCodecException e) {
            throw new InvalidCommandException("not a valid SQL request: " + e.getMessage(), e);
        }
        if (!(request instanceof SqlRequest.Execute execute)) {
            throw new InvalidCommandException("the request is a read (" + request.getClass().getSimpleName()
                    + "); send reads with RaftServer.read, not submit");
        }
        try {
            SqlValidator.check(execute.statements(), true);
        } catch (SqlRefusedException e) {
            throw new InvalidCommandException(e.getMessage(), e);
        }
    }

    @Override
    public List<byte[]> apply(List<Command> commands) {
        List<byte[]> results = new ArrayList<>(commands.size());
        try {
            exec("BEGIN");
            for (Command c : commands) {
                results.add(applyOne(c).encode());
                lastApplied = c.index();
            }
            exec("COMMIT");
        } catch (SQLException e) {
            // The batch's transaction itself failed (out of memory …): replicas could now differ, so
            // the node must stop (an exception from apply is fatal) and recover from snapshot + log.
            throw new IllegalStateException("SQL store: the transaction for entries " + commands.get(0).index() + ".."
                    + commands.get(commands.size() - 1).index() + " failed: " + e.getMessage()
                    + "; the node stops and recovers from its snapshot and log on restart", e);
        }
        return results;
    }

    private SqlResult applyOne(Command c) throws SQLException {
        SqlRequest request;
        try {
            request = SqlRequest.decode(c.payload());
        } catch (SqlCodecException e) {
            return new SqlResult.Error(0, "entry " + c.index() + ": " + e.getMessage());
        }
        if (!(request instanceof SqlRequest.Execute execute)) {
            return new SqlResult.Error(0, "entry " + c.index() + " holds a read (" + request.getClass().getSimpleName()
                    + "); reads go through RaftServer.read, not submit");
        }
        List<Checked> checked;
        try {
            checked = SqlValidator.check(execute.statements(), true);
        } catch (SqlRefusedException e) {
            return new SqlResult.Error(0, e.getMessage());
        }
        functions.setEntry(c.index(), c.timestampMillis());
        String takenAt = DateTimeText.of(c.timestampMillis());
        if (checked.get(0).form() == SqlValidator.Form.BACKUP_DATABASE) {
            backupDatabaseImage(checked.get(0).backupName(), c.index());
        }
        exec("SAVEPOINT entry");
        List<Rows> out = new ArrayList<>(checked.size());
        for (int i = 0; i < checked.size(); i++) {
            try {
                out.add(run(checked.get(i), c.index(), takenAt));
            } catch (SQLException | RowLimitException e) {
                exec("ROLLBACK TO entry");
                exec("RELEASE entry");
                return new SqlResult.Error(i + 1, "statement " + (i + 1) + " ("
                        + SqlScript.excerpt(checked.get(i).statement().text(), 0) + ") failed: " + e.getMessage()
                        + "; nothing of this request was applied");
            }
        }
        exec("RELEASE entry");
        return new SqlResult.Ok(c.index(), out);
    }

    private Rows run(Checked c, long index, String takenAt) throws SQLException {
        return switch (c.form()) {
            case BACKUP_TABLE -> TableBackups.backupTable(conn, c.table(), c.backupName(), index, takenAt);
            case RESTORE_TABLE -> TableBackups.restoreTable(conn, c.table(), c.backupName());
            case BACKUP_DATABASE -> TableBackups.recordDatabase(conn, c.backupName(), index, takenAt);
            case SHOW_BACKUPS -> TableBackups.show(conn);
            case SQL -> runSql(c);
        };
    }

    private Rows runSql(Checked c) throws SQLException {
        try (PreparedStatement p = conn.prepareStatement(c.statement().text())) {
            // The driver throws ArrayIndexOutOfBoundsException for a value past the last
            // placeholder; out of apply that would stop every replica, so it is a statement error.
            int placeholders = p.getParameterMetaData().getParameterCount();
            if (c.params().size() > placeholders) {
                throw new SQLException("the statement has " + placeholders + " parameter placeholder(s) but "
                        + c.params().size() + " values were given; pass one value per '?'");
            }
            for (int i = 0; i < c.params().size(); i++) {
                p.setObject(i + 1, c.params().get(i));
            }
            long totalBefore = ((SQLiteConnection) conn).getDatabase().total_changes();
            if (!p.execute()) {
                // sqlite3_changes() keeps the count of the connection's last INSERT/UPDATE/DELETE
                // across other statements: a CREATE TABLE after an insert of 3 rows would answer 3,
                // and a replica restored from a snapshot (a new connection) would answer 0. A
                // statement that changed no row answers 0 here, the same on every node.
                long total = ((SQLiteConnection) conn).getDatabase().total_changes();
                return new Rows(List.of(), List.of(), total == totalBefore ? 0
                        : ((SQLiteConnection) conn).getDatabase().changes());
            }
            try (ResultSet r = p.getResultSet()) {
                Rows rows = read(r);
                String verb = c.statement().tokens().get(0).upper();
                boolean dml = verb.equals("INSERT") || verb.equals("UPDATE") || verb.equals("DELETE")
                        || verb.equals("REPLACE");
                return dml ? new Rows(rows.columns(), rows.rows(), ((SQLiteConnection) conn).getDatabase().changes())
                        : rows;
            }
        }
    }

    private static Rows read(ResultSet r) throws SQLException {
        ResultSetMetaData md = r.getMetaData();
        int n = md.getColumnCount();
        List<Column> columns = new ArrayList<>(n);
        for (int i = 1; i <= n; i++) {
            String type;
            try {
                type = md.getColumnTypeName(i);
            } catch (SQLException e) {
                type = "";
            }
            columns.add(new Column(md.getColumnLabel(i), type == null ? "" : type));
        }
        List<List<Object>> rows = new ArrayList<>();
        while (r.next()) {
            if (rows.size() == MAX_ROWS) {
                throw new RowLimitException("the result has more than " + MAX_ROWS + " rows; add a LIMIT or page by key");
            }
            Object[] row = new Object[n];
            for (int i = 1; i <= n; i++) {
                Object v = r.getObject(i);
                row[i - 1] = v instanceof Integer x ? Long.valueOf(x) : v;
            }
            rows.add(Arrays.asList(row));
        }
        return new Rows(columns, rows, 0);
    }

    /** Thrown inside a statement's run when its result is too large; becomes an error result. */
    private static final class RowLimitException extends RuntimeException {
        RowLimitException(String message) {
            super(message);
        }
    }

    /**
     * Ends the batch's transaction so the image holds exactly the entries before this one, writes
     * the image (node-local, best effort: a failure is logged, the replicated catalog row is
     * written regardless so replicas agree), and opens a new transaction for the rest of the batch.
     */
    private void backupDatabaseImage(String name, long index) throws SQLException {
        exec("COMMIT");
        try {
            if (databaseBackupDir == null) {
                LOG.info("BACKUP DATABASE '{}' at index {}: recorded; this node has no backup directory, so no"
                        + " file image was written", name, index);
                return;
            }
            byte[] image = ((SQLiteConnection) conn).serialize("main");
            Files.createDirectories(databaseBackupDir);
            Path target = databaseBackupDir.resolve(name + ".sqlite");
            Path tmp = databaseBackupDir.resolve(name + ".sqlite.partial");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap(image));
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            LOG.info("BACKUP DATABASE '{}' at index {}: wrote {} ({} bytes)", name, index, target, image.length);
        } catch (IOException e) {
            LOG.warn("BACKUP DATABASE '{}' at index {}: the file image in {} could not be written ({}); the backup"
                    + " is recorded but this node holds no image of it", name, index, databaseBackupDir, e.toString());
        } finally {
            exec("BEGIN");
        }
    }

    private void exec(String sql) throws SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    public long lastApplied() {
        return lastApplied;
    }

    /**
     * Answers a {@link SqlRequest.Query} (read-only: run with SQLite's {@code query_only} on, so
     * any write fails) or a {@link SqlRequest.Digest}. Time and randomness in reads come from the
     * node's clock: a read changes nothing, so replicas need not agree on it.
     */
    @Override
    public byte[] query(byte[] query) {
        SqlRequest request;
        try {
            request = SqlRequest.decode(query);
        } catch (SqlCodecException e) {
            return new SqlResult.Error(0, "query: " + e.getMessage()).encode();
        }
        try {
            if (request instanceof SqlRequest.Digest) {
                return new SqlResult.Ok(lastApplied, List.of(new Rows(List.of(new Column("digest", "TEXT")),
                        List.of(List.of(SqlDigest.of(conn))), 0))).encode();
            }
            if (!(request instanceof SqlRequest.Query q)) {
                return new SqlResult.Error(0, "query: this request changes the database; submit it with"
                        + " RaftServer.submit (SqlOps.execute), not read").encode();
            }
            return runQuery(q).encode();
        } catch (SQLException e) {
            return new SqlResult.Error(0, "query failed: " + e.getMessage()).encode();
        }
    }

    private SqlResult runQuery(SqlRequest.Query q) throws SQLException {
        List<Checked> checked;
        try {
            checked = SqlValidator.check(q.statements(), false);
        } catch (SqlRefusedException e) {
            return new SqlResult.Error(0, e.getMessage());
        }
        functions.setWallClock();
        exec("PRAGMA query_only = 1");
        try {
            List<Rows> out = new ArrayList<>();
            for (int i = 0; i < checked.size(); i++) {
                try {
                    out.add(run(checked.get(i), lastApplied, DateTimeText.of(functions.nowMillis())));
                } catch (SQLException | RowLimitException e) {
                    String hint = e.getMessage() != null && e.getMessage().contains("readonly")
                            ? "; it writes: submit it with SqlOps.execute instead of reading it" : "";
                    return new SqlResult.Error(i + 1, "statement " + (i + 1) + " ("
                            + SqlScript.excerpt(checked.get(i).statement().text(), 0) + ") failed: " + e.getMessage()
                            + hint);
                }
            }
            return new SqlResult.Ok(lastApplied, out);
        } finally {
            exec("PRAGMA query_only = 0");
        }
    }

    /**
     * {@code sha256:} and the database's logical digest ({@code SqlDigest}: the schema and every
     * table's rows in key order, the replicated backup catalog included, not the page layout), as
     * {@code SqlOps.digest()} answers it. Apply thread only, like every method here; a pass over
     * the whole database.
     */
    @Override
    public java.util.Optional<String> stateDigest() {
        try {
            return java.util.Optional.of("sha256:" + SqlDigest.of(conn));
        } catch (SQLException e) {
            throw new IllegalStateException("SQL store: cannot compute the state digest at index " + lastApplied
                    + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Snapshot snapshot() {
        byte[] image;
        try {
            image = ((SQLiteConnection) conn).serialize("main");
        } catch (SQLException e) {
            throw new IllegalStateException("SQL store: cannot capture the database image for a snapshot at index "
                    + lastApplied + ": " + e.getMessage(), e);
        }
        long index = lastApplied;
        return new Snapshot() {
            @Override
            public long index() {
                return index;
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                SqlImage.write(index, image, out);
            }

            @Override
            public void close() {
                // The copy is garbage once unreferenced.
            }
        };
    }

    /** Longest part of SQLite's integrity report quoted in a refusal. */
    private static final int MAX_VERDICT_CHARS = 500;

    @Override
    public void restore(long index, InputStream in) throws IOException {
        byte[] image = SqlImage.read(index, in);
        Connection fresh = null;
        DeterministicFunctions freshFunctions = null;
        try {
            fresh = DriverManager.getConnection("jdbc:sqlite::memory:");
            ((SQLiteConnection) fresh).deserialize("main", image);
            try (Statement s = fresh.createStatement()) {
                // At most 3 problems, and their text cut: a damaged image can list thousands.
                try (ResultSet r = s.executeQuery("PRAGMA integrity_check(3)")) {
                    String verdict = r.next() ? r.getString(1) : "no answer";
                    if (!"ok".equals(verdict)) {
                        String shown = verdict.length() <= MAX_VERDICT_CHARS ? verdict
                                : verdict.substring(0, MAX_VERDICT_CHARS) + " …";
                        throw new IOException("SQL snapshot at index " + index + " holds a damaged database ("
                                + shown + "); install another snapshot or restore from a backup");
                    }
                }
                s.execute("PRAGMA journal_mode = MEMORY");
                s.execute("PRAGMA synchronous = OFF");
                s.execute("PRAGMA temp_store = MEMORY");
                s.execute(TableBackups.CREATE_CATALOG); // present in every image this code writes; a no-op
            }
            freshFunctions = new DeterministicFunctions(fresh);
        } catch (SQLException | IOException | RuntimeException e) {
            if (freshFunctions != null) {
                freshFunctions.close();
            }
            closeQuietly(fresh);
            if (e instanceof IOException io) {
                throw io;
            }
            throw new IOException("SQL snapshot at index " + index + " is not a usable SQLite database: "
                    + e.getMessage() + "; the current database is kept", e);
        }
        DeterministicFunctions oldFunctions = functions;
        Connection old = conn;
        conn = fresh;
        functions = freshFunctions;
        lastApplied = index;
        oldFunctions.close();
        closeQuietly(old);
    }

    @Override
    public void close() {
        functions.close();
        closeQuietly(conn);
    }

    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException e) {
            LOG.warn("closing a SQLite connection failed: {}", e.toString());
        }
    }
}
