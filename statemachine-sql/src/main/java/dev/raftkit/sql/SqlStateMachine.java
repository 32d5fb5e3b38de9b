package dev.raftkit.sql;

import dev.raftkit.sql.SqlResult.Column;
import dev.raftkit.sql.SqlResult.Rows;
import dev.raftkit.sql.SqlValidator.Checked;
import dev.raftkit.spi.InvalidCommandException;
import dev.raftkit.spi.StateMachine;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteConnection;
import org.sqlite.SQLiteErrorCode;

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
 * The database must fit in memory (twice, briefly, while a snapshot is captured). The apply
 * thread keeps what entries repeat: the prepared statements of its own transaction control and of
 * writes without result rows ({@link PreparedStatements}), and the checks of recent statement
 * texts ({@link SqlValidator.Cache}); neither changes an answer.
 *
 * <p><b>Determinism.</b> Each entry's statements pass {@link SqlValidator} again at apply time
 * (a client that skipped the check gets the same error result on every node), and run with
 * {@link DeterministicFunctions}: {@code random()} from the entry's index, {@code 'now'} from
 * the time the leader stamped into the entry ({@link Command#timestampMillis()}).
 *
 * <p><b>Backups.</b> {@code BACKUP TABLE t TO 'n'} / {@code RESTORE TABLE t FROM 'n'} /
 * {@code SHOW BACKUPS} are replicated commands (see {@link TableBackups}). {@code BACKUP TABLE}
 * also writes, on every node built with a {@link TableArtifactStore}, the table artifact
 * {@code n.rktable} ({@link TableArtifact}: the same bytes on every node, fsynced and renamed
 * before {@link #apply} returns); {@code RESTORE TABLE t FROM 'n'} carrying an artifact's bytes as
 * its parameter ({@link SqlOps#restoreTableFromFile}) restores from those bytes, on any cluster.
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
    private final TableArtifactStore artifacts;
    /** Artifacts of the entry being applied, written once it holds (never for an entry rolled back). */
    private final List<TableBackups.TableBackup> pendingArtifacts = new ArrayList<>();
    /** TESTING ONLY: the planted isolation bug of {@link #testingOnlySplitTransactions} is on. */
    private final boolean testingSplitTransactions;
    private Connection conn;
    private DeterministicFunctions functions;
    /** {@link #conn}'s kept prepared statements; replaced with it. */
    private PreparedStatements statements;
    /** Statement texts already checked, by validate (any thread) and apply. */
    private final SqlValidator.Cache checkedTexts = new SqlValidator.Cache();
    private volatile long lastApplied;

    /**
     * A node without a directory for {@code BACKUP DATABASE} file images and table artifacts (the
     * backups are only recorded, in the replicated catalog).
     */
    public SqlStateMachine() {
        this(null);
    }

    /**
     * @param databaseBackupDir where {@code BACKUP DATABASE TO 'n'} writes {@code n.sqlite} and
     *                          {@code BACKUP TABLE t TO 'n'} writes {@code n.rktable} (plain, no
     *                          cluster id recorded); null for none
     */
    public SqlStateMachine(Path databaseBackupDir) {
        this(databaseBackupDir, databaseBackupDir == null ? null : new TableArtifactStore(databaseBackupDir, "", null));
    }

    /**
     * @param databaseBackupDir where {@code BACKUP DATABASE TO 'n'} writes {@code n.sqlite}; null for none
     * @param artifacts         where and how {@code BACKUP TABLE t TO 'n'} writes {@code n.rktable}; null for none
     */
    public SqlStateMachine(Path databaseBackupDir, TableArtifactStore artifacts) {
        this(databaseBackupDir, artifacts, false);
    }

    /**
     * <b>TESTING ONLY — a planted isolation bug; never store data with it.</b> A state machine
     * that splits transactions: when a request of two or more statements ends with a write
     * ({@code INSERT}, {@code UPDATE}, {@code DELETE}, {@code REPLACE}), that last write is not
     * run with the others but held back (in the replicated table {@value #TESTING_DEFERRED}) and
     * run at the end of the next request applied, after that request's own statements; the
     * request is answered as if it had run (one row changed). So another transaction runs
     * between a transaction's writes and sees only part of them, or writes in between: what a
     * store that commits a transaction's last write with the next batch would do. The split is
     * decided by the log alone (every replica holds back the same write and runs it at the same
     * entry, and snapshots carry what is held back), so replicas stay identical: only a
     * transactional checker over the clients' history can see the bug. Proves that the
     * list-append checker names it ({@code raftkit sim --plant split-sql-transactions}, and the
     * real-process node's testing flag).
     *
     * @param databaseBackupDir as for {@link #SqlStateMachine(Path, TableArtifactStore)}; null for none
     * @param artifacts         as for {@link #SqlStateMachine(Path, TableArtifactStore)}; null for none
     */
    public static SqlStateMachine testingOnlySplitTransactions(Path databaseBackupDir, TableArtifactStore artifacts) {
        LOG.warn("TESTING ONLY: this SQL state machine splits transactions (the planted isolation bug); it breaks"
                + " serializability on purpose and must never hold real data");
        return new SqlStateMachine(databaseBackupDir, artifacts, true);
    }

    /** The replicated table where {@link #testingOnlySplitTransactions} keeps the writes it holds back. */
    static final String TESTING_DEFERRED = SqlValidator.RESERVED_PREFIX + "_testing_deferred";

    private SqlStateMachine(Path databaseBackupDir, TableArtifactStore artifacts, boolean testingSplitTransactions) {
        this.testingSplitTransactions = testingSplitTransactions;
        this.databaseBackupDir = databaseBackupDir;
        this.artifacts = artifacts;
        if (artifacts != null) {
            removePartialArtifacts(artifacts.directory());
        }
        try {
            conn = open();
            try (Statement s = conn.createStatement()) {
                s.execute(TableBackups.CREATE_CATALOG);
                s.execute(TableBackups.CREATE_ARTIFACTS);
                s.execute(TableBackups.CREATE_PARTS);
            }
            functions = new DeterministicFunctions(conn);
            statements = new PreparedStatements(conn);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the in-memory SQLite database (sqlite-jdbc native library"
                    + " missing for this platform?): " + e.getMessage(), e);
        }
    }

    private static Connection open() throws SQLException {
        Connection c = inMemory();
        try (Statement s = c.createStatement()) {
            // In memory already; said explicitly so no setting can make the engine touch the disk.
            s.execute("PRAGMA journal_mode = MEMORY");
            s.execute("PRAGMA synchronous = OFF");
            s.execute("PRAGMA temp_store = MEMORY");
        }
        return c;
    }

    /**
     * A new, empty in-memory database. The driver's generated keys are off: with them on, it runs
     * a second query ({@code SELECT last_insert_rowid()}) after every INSERT, for a result nobody
     * here reads (a statement that wants the new row's key says {@code RETURNING}).
     */
    static Connection inMemory() throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setGetGeneratedKeys(false);
        return config.createConnection("jdbc:sqlite::memory:");
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
            SqlValidator.check(execute.statements(), true, checkedTexts);
        } catch (SqlRefusedException e) {
            throw new InvalidCommandException(e.getMessage(), e);
        }
    }

    @Override
    public List<byte[]> apply(List<Command> commands) {
        try {
            List<byte[]> results = testingSplitTransactions ? null : applyWithoutSavepoints(commands);
            return results != null ? results : applyEntryByEntry(commands);
        } catch (SQLException e) {
            // The batch's transaction itself failed (out of memory …): replicas could now differ, so
            // the node must stop (an exception from apply is fatal) and recover from snapshot + log.
            throw new IllegalStateException("SQL store: the transaction for entries " + commands.get(0).index() + ".."
                    + commands.get(commands.size() - 1).index() + " failed: " + e.getMessage()
                    + "; the node stops and recovers from its snapshot and log on restart", e);
        }
    }

    /**
     * The batch as one transaction with no savepoint per entry, or null, with nothing of it applied,
     * if an entry needs one. Every request is all or nothing, which {@link #applyEntryByEntry}
     * keeps with a savepoint around each entry; but most batches have no failing statement, and a
     * savepoint and its release cost the apply thread more than a one-row INSERT (two statements
     * through the driver and SQLite's savepoint bookkeeping). So a batch runs here first, and if a
     * statement fails (its own changes may be partly kept: FAIL conflict resolution, a trigger) or
     * an entry is a backup form (they write files, and BACKUP DATABASE commits mid-batch), the
     * whole batch is rolled back and runs again entry by entry. A savepoint released without a
     * rollback changes nothing, so both ways reach the same database and the same results on
     * every replica, whichever way each replica took; a batch of failing requests costs two runs.
     */
    private List<byte[]> applyWithoutSavepoints(List<Command> commands) throws SQLException {
        List<byte[]> results = new ArrayList<>(commands.size());
        exec("BEGIN");
        try {
            for (Command c : commands) {
                SqlResult r = applyOne(c, false);
                if (r == null) {
                    rollBack();
                    return null;
                }
                results.add(r.encode());
            }
        } catch (SQLException | RowLimitException e) {
            rollBack();
            return null;
        }
        exec("COMMIT");
        lastApplied = commands.get(commands.size() - 1).index();
        return results;
    }

    /**
     * Undoes {@link #applyWithoutSavepoints}'s transaction. Some errors (a full memory, an I/O
     * error) make SQLite roll the transaction back itself, and then ROLLBACK fails for want of one;
     * if a transaction is left anyway, the entry-by-entry run's BEGIN fails and stops the node.
     */
    private void rollBack() {
        try {
            exec("ROLLBACK");
        } catch (SQLException alreadyRolledBack) {
            LOG.debug("ROLLBACK after a failed statement: {}", alreadyRolledBack.getMessage());
        }
    }

    /** The batch as one transaction, each entry in a savepoint that undoes it if a statement fails. */
    List<byte[]> applyEntryByEntry(List<Command> commands) throws SQLException {
        List<byte[]> results = new ArrayList<>(commands.size());
        exec("BEGIN");
        for (Command c : commands) {
            results.add(applyOne(c, true).encode());
        }
        exec("COMMIT");
        lastApplied = commands.get(commands.size() - 1).index();
        return results;
    }

    /**
     * Entry {@code c}'s result. Without {@code savepoint}, a failing statement throws and an entry
     * of a backup form answers null (both for {@link #applyWithoutSavepoints} to fall back on).
     */
    private SqlResult applyOne(Command c, boolean savepoint) throws SQLException {
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
            checked = SqlValidator.check(execute.statements(), true, checkedTexts);
        } catch (SqlRefusedException e) {
            return new SqlResult.Error(0, e.getMessage());
        }
        functions.setEntry(c.index(), c.timestampMillis());
        if (!savepoint) {
            List<Rows> out = new ArrayList<>(checked.size());
            for (Checked statement : checked) {
                if (statement.form() != SqlValidator.Form.SQL) {
                    return null;
                }
                out.add(runSql(statement));
            }
            return new SqlResult.Ok(c.index(), out);
        }
        if (checked.get(0).form() == SqlValidator.Form.BACKUP_DATABASE) {
            backupDatabaseImage(checked.get(0).backupName(), c.index());
        }
        exec("SAVEPOINT entry");
        pendingArtifacts.clear();
        List<Rows> out = new ArrayList<>(checked.size());
        for (int i = 0; i < checked.size(); i++) {
            try {
                if (testingSplitTransactions && i == checked.size() - 1 && i > 0 && isWrite(checked.get(i))) {
                    out.add(testingHoldBack(checked.get(i), c.index()));
                } else {
                    out.add(run(checked.get(i), c.index(), c.timestampMillis()));
                }
            } catch (SQLException | RowLimitException e) {
                pendingArtifacts.clear();
                exec("ROLLBACK TO entry");
                exec("RELEASE entry");
                return new SqlResult.Error(i + 1, "statement " + (i + 1) + " ("
                        + SqlScript.excerpt(checked.get(i).statement().text(), 0) + ") failed: " + e.getMessage()
                        + "; nothing of this request was applied");
            }
        }
        if (testingSplitTransactions) {
            testingRunHeldBack(c.index(), c.timestampMillis());
        }
        exec("RELEASE entry");
        // Written before apply returns, so before the client hears the result: the file is durable
        // (fsync, rename) when BACKUP TABLE is acknowledged, unless writing it failed (logged).
        for (TableBackups.TableBackup b : pendingArtifacts) {
            writeArtifact(b, c.index());
        }
        pendingArtifacts.clear();
        return new SqlResult.Ok(c.index(), out);
    }

    private static boolean returnsRows(Checked c) {
        for (SqlScript.Token t : c.statement().tokens()) {
            if (t.isWord("RETURNING")) {
                return true;
            }
        }
        return false;
    }

    /** An INSERT, UPDATE, DELETE or REPLACE statement (not a backup form, not a WITH … clause first). */
    private static boolean isWrite(Checked c) {
        if (c.form() != SqlValidator.Form.SQL) {
            return false;
        }
        String verb = c.statement().tokens().get(0).upper();
        return verb.equals("INSERT") || verb.equals("UPDATE") || verb.equals("DELETE") || verb.equals("REPLACE");
    }

    /**
     * TESTING ONLY ({@link #testingOnlySplitTransactions}): keeps {@code c} in the replicated
     * table of held-back writes instead of running it, and answers as if it had changed one row.
     */
    private Rows testingHoldBack(Checked c, long index) throws SQLException {
        exec("CREATE TABLE IF NOT EXISTS " + TESTING_DEFERRED + " (entry INTEGER NOT NULL, statement BLOB NOT NULL)");
        byte[] statement = new SqlRequest.Execute(List.of(new SqlStatement(c.statement().text(), c.params()))).encode();
        try (PreparedStatement p = conn.prepareStatement("INSERT INTO " + TESTING_DEFERRED + " VALUES (?, ?)")) {
            p.setLong(1, index);
            p.setBytes(2, statement);
            p.executeUpdate();
        }
        return new Rows(List.of(), List.of(), 1);
    }

    /**
     * TESTING ONLY ({@link #testingOnlySplitTransactions}): runs the writes held back by earlier
     * entries, after entry {@code index}'s own statements, each alone (one that fails now is
     * dropped: the bug loses it, as such a store would), and forgets them.
     */
    private void testingRunHeldBack(long index, long millis) throws SQLException {
        List<byte[]> held = new ArrayList<>();
        try (Statement s = conn.createStatement()) {
            try (ResultSet r = s.executeQuery("SELECT count(*) FROM sqlite_master WHERE name = '" + TESTING_DEFERRED
                    + "'")) {
                if (!r.next() || r.getLong(1) == 0) {
                    return;
                }
            }
            try (ResultSet r = s.executeQuery("SELECT statement FROM " + TESTING_DEFERRED + " WHERE entry < " + index
                    + " ORDER BY entry")) {
                while (r.next()) {
                    held.add(r.getBytes(1));
                }
            }
            s.execute("DELETE FROM " + TESTING_DEFERRED + " WHERE entry < " + index);
        }
        for (byte[] bytes : held) {
            SqlRequest.Execute e = (SqlRequest.Execute) SqlRequest.decode(bytes);
            exec("SAVEPOINT held");
            try {
                run(SqlValidator.check(e.statements(), true).get(0), index, millis);
            } catch (SQLException | RowLimitException | SqlRefusedException ex) {
                exec("ROLLBACK TO held");
            }
            exec("RELEASE held");
        }
    }

    private Rows run(Checked c, long index, long millis) throws SQLException {
        return switch (c.form()) {
            case BACKUP_TABLE -> {
                TableBackups.TableBackup b = TableBackups.backupTable(conn, c.table(), c.backupName(), index, millis,
                        artifacts == null ? "" : artifacts.clusterId());
                pendingArtifacts.add(b);
                yield b.rows();
            }
            case RESTORE_TABLE -> restoreTable(c);
            case BACKUP_DATABASE -> TableBackups.recordDatabase(conn, c.backupName(), index, DateTimeText.of(millis));
            case SHOW_BACKUPS -> TableBackups.show(conn);
            case SQL -> runSql(c);
        };
    }

    /**
     * Runs one statement of a request. A write that answers no rows (no RETURNING) keeps its
     * prepared statement for the next entry with the same text ({@link PreparedStatements});
     * every other statement is prepared each time.
     */
    private Rows runSql(Checked c) throws SQLException {
        String text = c.statement().text();
        if (isWrite(c) && !returnsRows(c)) {
            return statements.run(text, p -> runPrepared(p, c));
        }
        try (PreparedStatement p = conn.prepareStatement(text)) {
            return runPrepared(p, c);
        }
    }

    private Rows runPrepared(PreparedStatement p, Checked c) throws SQLException {
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
            return isWrite(c)
                    ? new Rows(rows.columns(), rows.rows(), ((SQLiteConnection) conn).getDatabase().changes())
                    : rows;
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

    /**
     * {@code RESTORE TABLE t FROM 'n'}: from the catalog's copy (no parameter), from a whole
     * artifact (one BLOB), or from one part of an artifact sent in several entries (BLOB, part,
     * parts, SHA-256: see {@link TableBackups#stagePart}), the restore running with the last part.
     */
    private Rows restoreTable(Checked c) throws SQLException {
        List<Object> p = c.params();
        if (p.isEmpty()) {
            return TableBackups.restoreTable(conn, c.table(), c.backupName());
        }
        if (p.size() == 1) {
            return TableBackups.restoreFromArtifact(conn, c.table(), c.backupName(), sentArtifact((byte[]) p.get(0),
                    c.backupName()));
        }
        TableBackups.Staged staged = TableBackups.stagePart(conn, c.table(), c.backupName(), (byte[]) p.get(0),
                ((Number) p.get(1)).longValue(), ((Number) p.get(2)).longValue(), (String) p.get(3));
        if (staged.whole() == null) {
            return staged.progress();
        }
        String sha = (String) p.get(3);
        byte[] whole = staged.whole();
        if (whole.length < TableArtifact.CHECKSUM_BYTES || !HexFormat.of().formatHex(whole,
                whole.length - TableArtifact.CHECKSUM_BYTES, whole.length).equalsIgnoreCase(sha)) {
            throw new SQLException("RESTORE TABLE: the parts sent for backup '" + c.backupName() + "' do not end with"
                    + " the SHA-256 " + sha + " announced with them; send the file again (the table is unchanged)");
        }
        return TableBackups.restoreFromArtifact(conn, c.table(), c.backupName(), sentArtifact(whole, c.backupName()));
    }

    /**
     * The artifact a client sent with {@code RESTORE TABLE … FROM 'name'}, checked as the client
     * checked it (every replica decides the same from the same bytes; never with this node's key,
     * which other nodes may not share: a client sends the plain artifact). Its schema statements
     * pass the same checks as a client's statements, since the file's contents are the client's.
     */
    private static TableArtifact sentArtifact(byte[] bytes, String name) throws SQLException {
        TableArtifact a;
        try {
            a = TableArtifact.decode(bytes, "the artifact sent for backup '" + name + "'", null);
        } catch (TableArtifactException e) {
            throw new SQLException("RESTORE TABLE: " + e.getMessage() + "; the table is unchanged", e);
        }
        checkSchemaStatement(a.createSql(), "TABLE", a);
        for (String index : a.indexSql()) {
            checkSchemaStatement(index, "INDEX", a);
        }
        return a;
    }

    private static void checkSchemaStatement(String sql, String what, TableArtifact a) throws SQLException {
        List<Checked> checked;
        try {
            checked = SqlValidator.check(List.of(new SqlStatement(sql, List.of())), true);
        } catch (SqlRefusedException e) {
            throw new SQLException("RESTORE TABLE: the schema in " + a.describe() + " is refused: " + e.getMessage(), e);
        }
        List<SqlScript.Token> t = checked.size() == 1 ? checked.get(0).statement().tokens() : List.of();
        boolean ok = checked.size() == 1 && checked.get(0).form() == SqlValidator.Form.SQL && t.size() > 2
                && t.get(0).isWord("CREATE") && (t.get(1).isWord(what) || what.equals("INDEX")
                && t.get(1).isWord("UNIQUE") && t.get(2).isWord("INDEX"));
        if (!ok) {
            throw new SQLException("RESTORE TABLE: " + a.describe() + " holds a schema statement that is not one CREATE "
                    + what + " (" + SqlScript.excerpt(sql, 0) + "); the artifact is not usable, the table is unchanged");
        }
    }

    /**
     * Writes a table artifact to {@code <store>/<name>.rktable}: sealed if the node has a key, to a
     * {@code .partial} file first, fsynced, renamed over the old one, the directory fsynced. Node-local
     * and best effort like a database image: a failure is logged, and the replicated catalog (which
     * SHOW BACKUPS lists) is the same on every node regardless.
     */
    private void writeArtifact(TableBackups.TableBackup b, long index) {
        String name = (String) b.rows().value(0, 0);
        if (artifacts == null) {
            LOG.info("BACKUP TABLE '{}' at index {}: recorded; this node has no artifact directory, so no file was"
                    + " written", name, index);
            return;
        }
        Path dir = artifacts.directory();
        Path target = artifacts.file(name);
        Path tmp = dir.resolve(TableArtifact.fileName(name) + PARTIAL);
        byte[] bytes = artifacts.key() == null ? b.artifact() : artifacts.key().seal(b.artifact());
        try {
            createPrivateDirectories(dir);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                restrictToOwner(tmp, "rw-------");
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true); // the rename itself survives a crash
            } catch (IOException | UnsupportedOperationException e) {
                // Some platforms cannot open a directory; the rename is then as durable as they make it.
            }
            LOG.info("BACKUP TABLE '{}' at index {}: wrote {} ({} bytes{})", name, index, target, bytes.length,
                    artifacts.key() == null ? "" : ", encrypted");
        } catch (IOException e) {
            LOG.warn("BACKUP TABLE '{}' at index {}: the artifact {} could not be written ({}); the backup is recorded"
                    + " but this node holds no file of it: copy one from another node", name, index, target, e.toString());
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // Removed at the next start.
            }
        }
    }

    /** Suffix of an artifact being written; one left by a crash is removed when the node starts. */
    static final String PARTIAL = ".partial";

    private static void removePartialArtifacts(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.newDirectoryStream(dir, "*" + TableArtifact.EXTENSION + PARTIAL)) {
            for (Path f : files) {
                Files.deleteIfExists(f);
                LOG.info("removed {}, a table artifact left half-written by a crash", f);
            }
        } catch (IOException e) {
            LOG.warn("cannot clean half-written table artifacts in {}: {}", dir, e.toString());
        }
    }

    private static void createPrivateDirectories(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            restrictToOwner(dir, "rwx------");
        }
    }

    private static void restrictToOwner(Path p, String perms) throws IOException {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: its own access rules apply.
        }
    }

    private void exec(String sql) throws SQLException {
        statements.execute(sql);
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
            checked = SqlValidator.check(q.statements(), false, checkedTexts);
        } catch (SqlRefusedException e) {
            return new SqlResult.Error(0, e.getMessage());
        }
        functions.setWallClock();
        exec("PRAGMA query_only = 1");
        try {
            List<Rows> out = new ArrayList<>();
            for (int i = 0; i < checked.size(); i++) {
                try {
                    out.add(run(checked.get(i), lastApplied, functions.nowMillis()));
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
            fresh = inMemory();
            load((SQLiteConnection) fresh, image, index);
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
                s.execute(TableBackups.CREATE_ARTIFACTS); // absent only from images written before artifacts
                s.execute(TableBackups.CREATE_PARTS);
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
        statements.close();
        conn = fresh;
        functions = freshFunctions;
        statements = new PreparedStatements(fresh);
        lastApplied = index;
        oldFunctions.close();
        closeQuietly(old);
    }

    /**
     * Loads a database file's bytes into {@code target}, a new in-memory database, through
     * SQLite's backup API from a private temporary file (deleted at once). Not
     * {@code sqlite3_deserialize}: that makes the connection's database SQLite's {@code memdb},
     * which stops growing at about 2 GiB (SQLITE_FULL at the next commit, measured), where a
     * database the connection made itself grows while memory lasts, and a restored replica must
     * hold all that the others hold.
     */
    private static void load(SQLiteConnection target, byte[] image, long index) throws SQLException, IOException {
        Path file = null;
        try {
            try {
                file = Files.createTempFile("raftkit-sql-restore-", ".sqlite");
                Files.write(file, image);
            } catch (IOException e) {
                throw stagingFailed(index, image, e);
            }
            int rc = target.getDatabase().restore("main", file.toString(), null);
            if (rc != SQLiteErrorCode.SQLITE_OK.code) {
                throw new SQLException("SQLite could not read it (" + SQLiteErrorCode.getErrorCode(rc) + ")");
            }
        } finally {
            if (file != null) {
                Files.deleteIfExists(file);
            }
        }
    }

    private static IOException stagingFailed(long index, byte[] image, IOException e) {
        return new IOException("cannot stage the SQL snapshot image at index " + index + " (" + image.length
                + " bytes) in the temporary directory " + System.getProperty("java.io.tmpdir") + ": " + e
                + "; free space there or point -Djava.io.tmpdir elsewhere; the current database is kept", e);
    }

    @Override
    public void close() {
        statements.close();
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
