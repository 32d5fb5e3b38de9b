package dev.raftkit.sql;

import dev.raftkit.sql.SqlScript.Kind;
import dev.raftkit.sql.SqlScript.Statement;
import dev.raftkit.sql.SqlScript.Token;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Decides which statements may run. Called by the client before a statement is submitted (so a
 * bad one never reaches the log) and again by {@link SqlStateMachine} when the entry is applied
 * (so an entry written by another client is refused alike on every node, as an error result).
 * The check is a pure function of the text: same answer on every node.
 *
 * <p>Refused in writes, because the result could differ between replicas or after a snapshot
 * restore: {@code CURRENT_TIMESTAMP}/{@code CURRENT_DATE}/{@code CURRENT_TIME} (SQLite reads the
 * clock for them directly, past the per-connection overrides; {@code datetime('now')} is the
 * deterministic spelling); {@code UPDATE}/{@code DELETE … LIMIT} without {@code ORDER BY};
 * {@code ATTACH}/{@code DETACH}; {@code PRAGMA}; {@code VACUUM}; temporary tables, views and
 * triggers and the {@code temp} schema (not part of snapshots); transaction control ({@code BEGIN},
 * {@code COMMIT}, {@code SAVEPOINT} … and {@code ROLLBACK} conflict clauses: an entry is already
 * one transaction, and a rollback would undo other entries of the same apply batch — batches
 * differ between nodes); {@code load_extension()}, connection-scoped counters
 * ({@code changes()}, {@code total_changes()}, {@code last_insert_rowid()}: use
 * {@code RETURNING}); names starting with {@value #RESERVED_PREFIX} (the store's own tables).
 */
public final class SqlValidator {

    /** Tables the store keeps for itself (backup catalog, table backups) start with this. */
    public static final String RESERVED_PREFIX = "__raftkit";
    private static final Pattern BACKUP_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    /** What a checked statement does. */
    enum Form { SQL, BACKUP_TABLE, RESTORE_TABLE, BACKUP_DATABASE, SHOW_BACKUPS }

    /** A statement that passed: its form, and for the backup forms the table and backup name. */
    record Checked(Statement statement, List<Object> params, Form form, String table, String backupName) {
    }

    private static final Set<String> CLOCK_KEYWORDS = Set.of("CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME");
    private static final Set<String> CONNECTION_FUNCTIONS = Set.of("CHANGES", "TOTAL_CHANGES", "LAST_INSERT_ROWID");
    private static final Set<String> TRANSACTION_CONTROL = Set.of("BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT",
            "RELEASE");
    /** Words after which UPDATE/DELETE name a trigger event or conflict clause, not a statement. */
    private static final Set<String> NOT_A_VERB_AFTER = Set.of("ON", "AFTER", "BEFORE", "OF", "OR", "INSTEAD");

    private SqlValidator() {
    }

    /** Checks a script to be submitted as one write entry (one transaction). */
    public static void checkWrite(String script) {
        check(List.of(new SqlStatement(script, List.of())), true);
    }

    /** Checks a script to be run as a read. */
    public static void checkRead(String script) {
        check(List.of(new SqlStatement(script, List.of())), false);
    }

    /**
     * Checks the statements of one request and splits any multi-statement text into single
     * statements (a statement with parameters must be exactly one statement).
     */
    static List<Checked> check(List<SqlStatement> request, boolean write) {
        return check(request, write, null);
    }

    /**
     * {@link #check(List, boolean)}, taking each text's statements from {@code cache} when it
     * holds them (the check of a text is a pure function of it, so a cached answer is the same
     * answer) and keeping there the texts that passed.
     */
    static List<Checked> check(List<SqlStatement> request, boolean write, Cache cache) {
        List<Checked> out = new ArrayList<>();
        int number = 0;
        for (SqlStatement st : request) {
            List<Checked> parts = cache == null ? null : cache.get(st.sql(), write);
            if (parts == null) {
                parts = checkText(st, write, number);
                if (cache != null) {
                    cache.put(st.sql(), write, parts);
                }
            } else {
                requireOneStatementIfParams(st, parts.size());
            }
            for (Checked part : parts) {
                int n = ++number;
                Statement s = part.statement().number() == n ? part.statement()
                        : new Statement(n, part.statement().text(), part.statement().tokens());
                if (part.form() != Form.SQL) {
                    checkBackupParams(s, part.form(), st.params());
                }
                out.add(new Checked(s, st.params(), part.form(), part.table(), part.backupName()));
            }
        }
        if (out.isEmpty()) {
            throw new SqlRefusedException("the request holds no SQL statement");
        }
        for (Checked c : out) {
            if (c.form() == Form.BACKUP_DATABASE && out.size() > 1) {
                throw refuse(c.statement(), "BACKUP DATABASE must be submitted alone, not inside a multi-statement"
                        + " transaction (the image is taken between transactions)");
            }
        }
        return out;
    }

    /** The statements of one request's text, numbered from {@code before + 1}, each checked; its parameters not yet. */
    private static List<Checked> checkText(SqlStatement st, boolean write, int before) {
        List<Statement> parts = SqlScript.split(st.sql());
        requireOneStatementIfParams(st, parts.size());
        List<Checked> out = new ArrayList<>(parts.size());
        for (Statement part : parts) {
            out.add(checkOne(new Statement(before + out.size() + 1, part.text(), part.tokens()), write));
        }
        return List.copyOf(out);
    }

    private static void requireOneStatementIfParams(SqlStatement st, int statements) {
        if (statements != 1 && !st.params().isEmpty()) {
            throw new SqlRefusedException("a statement with parameters must be exactly one statement; "
                    + SqlScript.excerpt(st.sql(), 0) + " holds " + statements);
        }
    }

    /**
     * The checked statements of recent texts. The same few statement texts come again and again
     * with new parameters, and splitting and checking each again cost a third of a SQL insert's
     * apply time, and as much again on the thread that submits it. Safe on any thread (the apply
     * thread and the submitting threads share one). Refused texts and texts longer than
     * {@value #MAX_CACHED_CHARS} characters are never kept; once {@value #MAX_TEXTS} texts are
     * kept it starts again empty, so a workload of ever-new texts costs one wasted lookup each.
     */
    static final class Cache {
        static final int MAX_TEXTS = 256;
        static final int MAX_CACHED_CHARS = 4096;

        private final Map<String, List<Checked>> writes = new ConcurrentHashMap<>();
        private final Map<String, List<Checked>> reads = new ConcurrentHashMap<>();

        List<Checked> get(String sql, boolean write) {
            return (write ? writes : reads).get(sql);
        }

        void put(String sql, boolean write, List<Checked> checked) {
            if (sql.length() > MAX_CACHED_CHARS) {
                return;
            }
            Map<String, List<Checked>> texts = write ? writes : reads;
            if (texts.size() >= MAX_TEXTS) {
                texts.clear();
            }
            texts.put(sql, checked);
        }

        int size() {
            return writes.size() + reads.size();
        }
    }

    private static Checked checkOne(Statement s, boolean write) {
        List<Token> t = s.tokens();
        Token first = t.get(0);
        if (first.isWord("BACKUP") || first.isWord("RESTORE") || first.isWord("SHOW")) {
            Checked special = special(s);
            if (write || special.form() == Form.SHOW_BACKUPS) {
                return special;
            }
            throw refuse(s, first.upper() + " changes the database; submit it as a write, not a read");
        }
        if (first.kind() == Kind.WORD) {
            switch (first.upper()) {
                case "ATTACH", "DETACH" -> throw refuse(s, first.upper() + " would reach another database file that"
                        + " is not replicated; keep all data in the replicated database");
                case "PRAGMA" -> throw refuse(s, "PRAGMA changes or reads per-connection settings that are not"
                        + " replicated; the store sets what it needs itself (for schema details query"
                        + " sqlite_schema or pragma_table_info('t') in a SELECT)");
                case "VACUUM" -> throw refuse(s, "VACUUM cannot run inside the store's transactions; the store compacts"
                        + " its database in snapshots (use BACKUP DATABASE TO 'name' for a file image)");
                default -> {
                    if (TRANSACTION_CONTROL.contains(first.upper())) {
                        throw refuse(s, first.upper() + ": every request already runs as one transaction (all or"
                                + " nothing); submit the statements together in one request instead");
                    }
                }
            }
        }
        if (first.isWord("CREATE") && t.size() > 1 && (t.get(1).isWord("TEMP") || t.get(1).isWord("TEMPORARY"))) {
            throw refuse(s, "temporary tables, views and triggers live outside the replicated database (not in"
                    + " snapshots, not on other nodes); create a regular one");
        }
        for (int i = 0; i < t.size(); i++) {
            Token tok = t.get(i);
            boolean call = i + 1 < t.size() && t.get(i + 1).isPunct("(");
            if (tok.kind() == Kind.WORD && call && tok.upper().equals("LOAD_EXTENSION")) {
                throw refuse(s, "load_extension() loads native code on one node; extensions are not available");
            }
            if (!write) {
                continue;
            }
            if (tok.kind() == Kind.WORD && CLOCK_KEYWORDS.contains(tok.upper())) {
                throw refuse(s, tok.upper() + " reads the node's own clock, so replicas would store different"
                        + " values; use datetime('now') / date('now') / time('now'), which read the time the"
                        + " leader stamped into the entry");
            }
            if (tok.kind() == Kind.WORD && call && CONNECTION_FUNCTIONS.contains(tok.upper())) {
                throw refuse(s, tok.text() + "() depends on the connection's history, which differs between a"
                        + " replica that restored a snapshot and one that did not; use a RETURNING clause");
            }
            if (tok.isWord("ROLLBACK")) {
                throw refuse(s, "a ROLLBACK conflict resolution (OR ROLLBACK / ON CONFLICT ROLLBACK /"
                        + " RAISE(ROLLBACK)) would undo other entries of the same apply batch; use ABORT or FAIL,"
                        + " which undo only this request");
            }
            if (tok.isWord("TEMP") && i + 1 < t.size() && t.get(i + 1).isPunct(".")) {
                throw refuse(s, "the temp schema is not replicated; use the main database");
            }
            if ((tok.kind() == Kind.WORD || tok.kind() == Kind.QUOTED_ID)
                    && tok.upper().toLowerCase(Locale.ROOT).startsWith(RESERVED_PREFIX)) {
                throw refuse(s, "names starting with " + RESERVED_PREFIX + " belong to the store (backups); use"
                        + " BACKUP TABLE / RESTORE TABLE / SHOW BACKUPS instead of changing them directly");
            }
        }
        if (write) {
            checkLimits(s);
        }
        return new Checked(s, List.of(), Form.SQL, null, null);
    }

    /**
     * {@code UPDATE/DELETE … LIMIT n} without {@code ORDER BY} picks "some" rows: which ones
     * depends on the query plan, so it is refused. Checked per nesting level, so a subquery's
     * LIMIT is its own business and a trigger body's statements are checked one by one.
     */
    private static void checkLimits(Statement s) {
        record Level(String verb, boolean ordered) {
        }
        Deque<Level> stack = new ArrayDeque<>();
        Level level = new Level(null, false);
        Token previous = null;
        List<Token> t = s.tokens();
        for (int i = 0; i < t.size(); i++) {
            Token tok = t.get(i);
            if (tok.isPunct("(")) {
                stack.push(level);
                level = new Level(null, false);
            } else if (tok.isPunct(")")) {
                level = stack.isEmpty() ? new Level(null, false) : stack.pop();
            } else if (tok.kind() == Kind.WORD) {
                switch (tok.upper()) {
                    case "UPDATE", "DELETE" -> {
                        if (previous == null || !(previous.kind() == Kind.WORD
                                && NOT_A_VERB_AFTER.contains(previous.upper()))) {
                            level = new Level(tok.upper(), false);
                        }
                    }
                    case "SELECT", "INSERT", "REPLACE", "VALUES" -> {
                        if (!(tok.upper().equals("REPLACE") && previous != null && previous.isWord("OR"))) {
                            level = new Level(tok.upper(), false);
                        }
                    }
                    case "ORDER" -> {
                        if (i + 1 < t.size() && t.get(i + 1).isWord("BY")) {
                            level = new Level(level.verb(), true);
                        }
                    }
                    case "LIMIT" -> {
                        if (("UPDATE".equals(level.verb()) || "DELETE".equals(level.verb())) && !level.ordered()) {
                            throw refuse(s, level.verb() + " … LIMIT without ORDER BY changes whichever rows the"
                                    + " query plan meets first; add ORDER BY on a unique key so every replica"
                                    + " changes the same rows");
                        }
                    }
                    default -> { }
                }
            } else if (tok.isPunct(";")) {
                level = new Level(null, false);
            }
            previous = tok;
        }
    }

    /**
     * The backup forms take no parameters, except that {@code RESTORE TABLE t FROM 'n'} may carry
     * one BLOB: the bytes of a table artifact ({@link TableArtifact}), which every replica then
     * restores from instead of the catalog (the file's contents reach every node through the log).
     */
    private static void checkBackupParams(Statement s, Form form, List<Object> params) {
        if (params.isEmpty()) {
            return;
        }
        if (form == Form.RESTORE_TABLE && params.size() == 1 && params.get(0) instanceof byte[]) {
            return;
        }
        if (form == Form.RESTORE_TABLE && params.size() == 4 && params.get(0) instanceof byte[]
                && params.get(1) instanceof Long && params.get(2) instanceof Long && params.get(3) instanceof String) {
            return; // one part of an artifact sent in several entries
        }
        throw refuse(s, form == Form.RESTORE_TABLE
                ? "RESTORE TABLE takes no parameter, the bytes of a table artifact file as one BLOB, or one part of"
                        + " them (BLOB, part, parts, SHA-256; see SqlOps.restoreTable); got " + params.size() + " value(s)"
                : "backup statements take no parameters; got " + params.size() + " value(s)");
    }

    /**
     * The table and file of a {@code RESTORE TABLE t FROM FILE 'path'} statement, which a client
     * reads (the file is on the client's host); null if {@code statement} is not of that form.
     */
    static String[] restoreFromFile(String statement) {
        List<Token> t = SqlScript.tokenize(statement);
        if (t.size() == 6 && t.get(0).isWord("RESTORE") && t.get(1).isWord("TABLE") && isName(t.get(2))
                && t.get(3).isWord("FROM") && t.get(4).isWord("FILE") && t.get(5).kind() == Kind.STRING) {
            String table = t.get(2).kind() == Kind.WORD ? t.get(2).text() : t.get(2).upper();
            return new String[] {table, t.get(5).upper()};
        }
        return null;
    }

    /** BACKUP TABLE t TO 'n' | RESTORE TABLE t FROM 'n' | BACKUP DATABASE TO 'n' | SHOW BACKUPS. */
    private static Checked special(Statement s) {
        List<Token> t = s.tokens();
        String usage = "the forms are: BACKUP TABLE <table> TO '<name>'; RESTORE TABLE <table> FROM '<name>';"
                + " RESTORE TABLE <table> FROM FILE '<path>' (in a client); BACKUP DATABASE TO '<name>'; SHOW BACKUPS";
        if (t.size() == 2 && t.get(0).isWord("SHOW") && t.get(1).isWord("BACKUPS")) {
            return new Checked(s, List.of(), Form.SHOW_BACKUPS, null, null);
        }
        if (t.size() == 4 && t.get(0).isWord("BACKUP") && t.get(1).isWord("DATABASE") && t.get(2).isWord("TO")) {
            return new Checked(s, List.of(), Form.BACKUP_DATABASE, null, backupName(s, t.get(3)));
        }
        if (t.size() == 5 && t.get(1).isWord("TABLE") && isName(t.get(2))) {
            if (t.get(0).isWord("BACKUP") && t.get(3).isWord("TO")) {
                return new Checked(s, List.of(), Form.BACKUP_TABLE, tableName(s, t.get(2)), backupName(s, t.get(4)));
            }
            if (t.get(0).isWord("RESTORE") && t.get(3).isWord("FROM")) {
                return new Checked(s, List.of(), Form.RESTORE_TABLE, tableName(s, t.get(2)), backupName(s, t.get(4)));
            }
        }
        if (restoreFromFile(s.text()) != null) {
            throw refuse(s, "RESTORE TABLE … FROM FILE names a file on the client's host, which the client reads and"
                    + " sends: run it in the raftkit sql shell, or use SqlOps.restoreTableFromFile in code");
        }
        throw refuse(s, "not a backup statement the store knows; " + usage);
    }

    private static boolean isName(Token t) {
        return t.kind() == Kind.WORD || t.kind() == Kind.QUOTED_ID;
    }

    private static String tableName(Statement s, Token t) {
        String name = t.kind() == Kind.WORD ? t.text() : t.upper();
        if (name.toLowerCase(Locale.ROOT).startsWith(RESERVED_PREFIX)) {
            throw refuse(s, "table " + name + " belongs to the store; back up your own tables");
        }
        return name;
    }

    private static String backupName(Statement s, Token t) {
        if (t.kind() != Kind.STRING || !BACKUP_NAME.matcher(t.upper()).matches()) {
            throw refuse(s, "a backup name is a quoted string of 1-64 letters, digits, '_', '.' or '-', like"
                    + " 'example_backup'; got " + t.text());
        }
        return t.upper();
    }

    private static SqlRefusedException refuse(Statement s, String why) {
        return new SqlRefusedException("statement " + s.number() + " (" + SqlScript.excerpt(s.text(), 0) + ") is refused: "
                + why);
    }
}
