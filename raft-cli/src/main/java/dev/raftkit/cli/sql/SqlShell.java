package dev.raftkit.cli.sql;

import dev.raftkit.core.ReadMode;
import dev.raftkit.sql.SqlOps;
import dev.raftkit.sql.SqlRefusedException;
import dev.raftkit.sql.SqlResult;
import dev.raftkit.sql.SqlStatement;
import dev.raftkit.sql.SqlText;
import dev.raftkit.sql.SqlValidator;
import dev.raftkit.sql.TableArtifact;
import dev.raftkit.sql.TableArtifactException;
import dev.raftkit.sql.TableArtifactKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The {@code raftkit sql} shell: reads statements (ending with {@code ;}, possibly over several
 * lines) and dot-commands (one line each), runs them through a {@link SqlClient} and prints the
 * results like the sqlite3 and psql shells do.
 *
 * <p><b>Interactive</b> (a person at a console): prompts, and after an error goes on with the next
 * statement. <b>Otherwise</b> ({@code -e}, a script, piped input): stops at the first error, so a
 * script never runs statements that depended on one that failed; {@link #finish} then answers 1.
 *
 * <p><b>Transactions.</b> The store runs each request as one transaction and refuses
 * {@code BEGIN}/{@code COMMIT} inside one. The shell gives them their usual meaning on its side:
 * the statements between {@code BEGIN;} and {@code COMMIT;} are checked as they are typed and sent
 * at {@code COMMIT} as one request (one log entry, all or nothing); {@code ROLLBACK;} drops them
 * unsent.
 */
public final class SqlShell {

    /** What the shell asks of the cluster beyond SQL: its status and the library's backups. */
    public interface ClusterAdmin {
        /** Prints every node's status; false if a node did not answer or the nodes disagree on the leader. */
        boolean status(PrintWriter out);

        /**
         * Has a node take a full or incremental backup into {@code dir} on its host; returns a line
         * saying what it took.
         *
         * @throws RuntimeException whose message says why it could not
         */
        String backup(boolean incremental, Path dir);
    }

    /**
     * Where the shell's lines come from: a reader of piped input or a script, or a line editor at
     * a terminal. Called on the shell's thread, one line at a time; may block until a line is typed.
     */
    public interface LineSource {
        /**
         * The next line, without its line terminator, or null at the end of input. {@code prompt}
         * is what to show first, or null for none (not interactive).
         *
         * @throws InterruptedIOException the person typing pressed Ctrl-C: the statement typed so
         *                                far is dropped and the shell asks for a new one
         * @throws IOException            the input cannot be read: the shell stops
         */
        String readLine(String prompt) throws IOException;
    }

    static final String HELP = String.join("\n",
            "Statements end with ';' and may span lines. Reads (SELECT, VALUES, WITH ... SELECT, EXPLAIN,",
            "SHOW BACKUPS) run as queries with the current consistency; anything else goes through the",
            "Raft log and is applied on every node. BEGIN; ... COMMIT; sends the statements between as one",
            "transaction (one log entry, all or nothing); ROLLBACK; drops them unsent.",
            "",
            ".tables                  the tables",
            ".dump                    the schema and every row as SQL (read consistently), which",
            "                         raftkit sql ... < dump.sql runs back into an empty database",
            ".schema [TABLE]          the CREATE statements (of TABLE and its indexes)",
            ".consistency [MODE]      show or set how queries read: linearizable (default), lease, stale",
            ".status                  every node's role, term, leader, commit and applied index",
            ".backup full DIR         a full backup of the cluster (snapshot + manifest), taken by the first",
            "                         node of -c into DIR under its --backup-root; raftkit restore brings it back",
            ".backup incremental DIR  the entries committed since the newest backup in DIR",
            ".backup database NAME    BACKUP DATABASE TO 'NAME': every node writes a SQLite file image,",
            "                         <its --data>/sql-backups/NAME.sqlite",
            ".restore TABLE NAME      RESTORE TABLE TABLE FROM 'NAME' (a BACKUP TABLE ... TO 'NAME')",
            ".restore TABLE FROM FILE PATH",
            "                         RESTORE TABLE TABLE FROM FILE 'PATH': this shell reads the table artifact",
            "                         PATH (NAME.rktable, kept by every node: <--backup-root>/sql-tables/), checks",
            "                         it and sends its rows through the log; works on any cluster",
            ".restore                 the backups the database holds, and how to restore a whole cluster",
            ".help                    this text",
            ".quit                    leave (also .exit, or end of input)",
            "");

    private static final String TABLES = "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view')"
            + " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_raftkit%' ESCAPE '\\' ORDER BY name";
    private static final String SCHEMA = "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL"
            + " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_raftkit%' ESCAPE '\\'";
    private static final String SCHEMA_ORDER = " ORDER BY tbl_name, type DESC, name";
    private static final Pattern BEGIN = Pattern.compile("(?i)BEGIN(\\s+(DEFERRED|IMMEDIATE|EXCLUSIVE))?(\\s+TRANSACTION)?");
    private static final Pattern COMMIT = Pattern.compile("(?i)(COMMIT|END)(\\s+TRANSACTION)?");
    private static final Pattern ROLLBACK = Pattern.compile("(?i)ROLLBACK(\\s+TRANSACTION)?");

    private final SqlClient sql;
    private final ClusterAdmin admin;
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean interactive;
    private final StringBuilder buffer = new StringBuilder();
    /** Statements since BEGIN, or null when no transaction is open. */
    private List<String> transaction;
    private boolean failed;
    private boolean quit;
    private TableArtifactKey artifactKey;

    /**
     * @param interactive prompt, and go on after errors (a person at a console)
     */
    public SqlShell(SqlClient sql, ClusterAdmin admin, PrintWriter out, PrintWriter err, boolean interactive) {
        this.sql = Objects.requireNonNull(sql, "sql");
        this.admin = Objects.requireNonNull(admin, "admin");
        this.out = out;
        this.err = err;
        this.interactive = interactive;
    }

    /** The key that opens encrypted table artifacts ({@code raftkit sql --backup-key FILE}); null for none. */
    public void artifactKey(TableArtifactKey key) {
        this.artifactKey = key;
    }

    /** Runs what {@code in} holds, line by line, until its end, {@code .quit} or (not interactive) an error. */
    public void run(BufferedReader in) throws IOException {
        run(prompt -> {
            if (prompt != null) {
                out.print(prompt);
                out.flush();
            }
            return in.readLine();
        });
    }

    /**
     * Runs the lines {@code in} gives, until its end, {@code .quit} or (not interactive) an
     * error; prompts through it when interactive.
     */
    public void run(LineSource in) throws IOException {
        while (!stopped()) {
            String line;
            try {
                line = in.readLine(prompt());
            } catch (InterruptedIOException e) {
                buffer.setLength(0); // Ctrl-C: forget the unfinished statement, as sqlite3 and psql do
                continue;
            }
            if (line == null) {
                break;
            }
            line(line);
        }
        if (interactive && !quit) {
            out.println();
        }
        endOfInput();
    }

    /** Runs one script given as text (one {@code -e}): its statements and dot-commands, in order. */
    public void run(String script) {
        for (String line : script.split("\\R", -1)) {
            if (stopped()) {
                break;
            }
            line(line);
        }
        endOfInput();
    }

    /**
     * Ends the session: a transaction still open is dropped (an error). Returns the exit code: 1 if
     * a non-interactive session met an error, else 0.
     */
    public int finish() {
        if (transaction != null) {
            error("the transaction begun with BEGIN was never committed: its " + transaction.size()
                    + " statement(s) were not sent; end it with COMMIT;");
            transaction = null;
        }
        out.flush();
        err.flush();
        return failed && !interactive ? 1 : 0;
    }

    /** Whether an error has happened. */
    public boolean failed() {
        return failed;
    }

    private boolean stopped() {
        return quit || (failed && !interactive);
    }

    /** What to prompt with now, or null when not interactive. */
    private String prompt() {
        if (interactive && !quit) {
            return buffer.length() > 0 ? "   ...> " : transaction != null ? "sql*> " : "sql> ";
        }
        return null;
    }

    private void line(String line) {
        if (buffer.length() == 0 && line.strip().startsWith(".")) {
            dot(line.strip());
            return;
        }
        if (buffer.length() == 0 && line.isBlank()) {
            return;
        }
        buffer.append(line).append('\n');
        if (SqlText.complete(buffer)) {
            runBuffer();
        }
    }

    /** The end of one input: what is left without a final ';' runs too, like sqlite3 does. */
    private void endOfInput() {
        if (!stopped() && !buffer.toString().isBlank()) {
            runBuffer();
        }
        buffer.setLength(0);
        out.flush();
        err.flush();
    }

    private void runBuffer() {
        String text = buffer.toString();
        buffer.setLength(0);
        List<String> statements;
        try {
            statements = SqlText.split(text);
        } catch (SqlRefusedException e) {
            error(e.getMessage());
            return;
        }
        for (String s : statements) {
            if (stopped()) {
                return;
            }
            statement(s);
        }
    }

    private void statement(String s) {
        String flat = s.strip().replaceAll("\\s+", " ");
        if (BEGIN.matcher(flat).matches()) {
            if (transaction != null) {
                error("a transaction is already open; COMMIT; or ROLLBACK; it first");
            } else {
                transaction = new ArrayList<>();
            }
        } else if (COMMIT.matcher(flat).matches()) {
            commit();
        } else if (ROLLBACK.matcher(flat).matches()) {
            if (transaction == null) {
                error("no transaction is open: ROLLBACK; drops the statements typed since BEGIN;");
            } else {
                print("rolled back: " + transaction.size() + " statement(s) dropped, nothing was sent\n");
                transaction = null;
            }
        } else if (SqlText.restoreFromFile(s) != null) {
            if (transaction != null) {
                error("RESTORE TABLE ... FROM FILE runs alone, not inside BEGIN; ... COMMIT; (not added to the open"
                        + " transaction)");
            } else {
                SqlText.FileRestore r = SqlText.restoreFromFile(s);
                restoreFromFile(r.table(), r.file());
            }
        } else if (transaction != null) {
            try {
                SqlValidator.checkWrite(s);
                transaction.add(s);
            } catch (SqlRefusedException e) {
                error(e.getMessage() + " (not added to the open transaction)");
            }
        } else {
            try {
                print(SqlFormat.result(s, sql.run(s).last()));
            } catch (RuntimeException e) {
                error(e);
            }
        }
    }

    private void commit() {
        if (transaction == null) {
            error("no transaction is open: COMMIT; ends one begun with BEGIN;");
            return;
        }
        List<String> statements = transaction;
        transaction = null;
        if (statements.isEmpty()) {
            return;
        }
        try {
            SqlResult.Ok ok = sql.write(statements.stream().map(t -> new SqlStatement(t, List.of())).toList());
            for (int i = 0; i < statements.size(); i++) {
                print(SqlFormat.result(statements.get(i), ok.statements().get(i)));
            }
            print("committed: " + statements.size() + " statement(s) as one transaction at log index " + ok.index()
                    + "\n");
        } catch (RuntimeException e) {
            error(e);
        }
    }

    // ------------------------------------------------------------------ dot-commands

    private void dot(String line) {
        String[] w = line.split("\\s+");
        String command = w[0].toLowerCase(Locale.ROOT);
        try {
            switch (command) {
                case ".help" -> print(HELP);
                case ".quit", ".exit" -> quit = true;
                case ".tables" -> tables(w);
                case ".dump" -> {
                    if (w.length != 1) {
                        throw new UsageException(".dump takes no arguments: it dumps the whole database");
                    }
                    print(SqlDump.dump(sql));
                }
                case ".schema" -> schema(w);
                case ".consistency" -> consistency(w);
                case ".status" -> {
                    if (!admin.status(out)) {
                        error("not every node answered, or the nodes do not agree on a leader (see above)");
                    }
                }
                case ".backup" -> backup(w);
                case ".restore" -> restore(w);
                default -> error("unknown command " + w[0] + "; .help lists the commands");
            }
        } catch (RuntimeException e) {
            error(e);
        }
        out.flush();
    }

    private void tables(String[] w) {
        if (w.length != 1) {
            throw new UsageException(".tables takes no arguments");
        }
        for (List<Object> row : sql.query(new SqlStatement(TABLES, List.of())).last().rows()) {
            out.println(row.get(0));
        }
    }

    private void schema(String[] w) {
        if (w.length > 2) {
            throw new UsageException("usage: .schema [TABLE]");
        }
        SqlStatement q = w.length == 1 ? new SqlStatement(SCHEMA + SCHEMA_ORDER, List.of())
                : SqlStatement.of(SCHEMA + " AND tbl_name = ? COLLATE NOCASE" + SCHEMA_ORDER, w[1]);
        List<List<Object>> rows = sql.query(q).last().rows();
        if (rows.isEmpty() && w.length == 2) {
            throw new UsageException("no table named " + w[1] + " (.tables lists them)");
        }
        for (List<Object> row : rows) {
            out.println(row.get(0) + ";");
        }
    }

    private void consistency(String[] w) {
        if (w.length == 1) {
            print("consistency: " + modeName(sql.readMode()) + "\n");
            return;
        }
        if (w.length != 2) {
            throw new UsageException("usage: .consistency linearizable|lease|stale");
        }
        ReadMode mode;
        try {
            mode = ReadMode.valueOf(w[1].toUpperCase(Locale.ROOT)); // the words are the modes' names
        } catch (IllegalArgumentException e) {
            throw new UsageException("unknown consistency '" + w[1] + "'; use linearizable (ReadIndex,"
                    + " §6.4), lease (the leader's lease, §6.4.1) or stale (one node's applied state)");
        }
        sql.readMode(mode);
        print("consistency: " + modeName(mode) + "\n");
    }

    static String modeName(ReadMode mode) {
        return mode.name().toLowerCase(Locale.ROOT);
    }

    private void backup(String[] w) {
        String usage = "usage: .backup full DIR | .backup incremental DIR | .backup database NAME";
        if (w.length != 3) {
            throw new UsageException(usage);
        }
        switch (w[1].toLowerCase(Locale.ROOT)) {
            case "full" -> print(admin.backup(false, Path.of(w[2])) + "\n");
            case "incremental" -> print(admin.backup(true, Path.of(w[2])) + "\n");
            case "database" -> {
                String statement = "BACKUP DATABASE TO " + quoteString(w[2]);
                print(SqlFormat.result(statement, sql.run(statement).last()));
                print("every node wrote <its --data>/sql-backups/" + w[2] + ".sqlite (a SQLite file image)\n");
            }
            default -> throw new UsageException(usage);
        }
    }

    private void restore(String[] w) {
        if (w.length == 1) {
            print(SqlFormat.result("SHOW BACKUPS", sql.query(new SqlStatement("SHOW BACKUPS", List.of())).last()));
            print(String.join("\n",
                    "A table comes back from a BACKUP TABLE with: .restore TABLE NAME (RESTORE TABLE ... FROM 'NAME'),",
                    "or, on any cluster, from its file: .restore TABLE FROM FILE PATH (every node keeps NAME.rktable",
                    "under <--backup-root>/sql-tables/).",
                    "A whole cluster comes back offline from a .backup full/incremental directory: stop the",
                    "servers, run raftkit restore --from DIR --data NEW_DIR once per node, and start the",
                    "servers on the new directories without --bootstrap (see the README).", ""));
            return;
        }
        if (w.length >= 5 && w[2].equalsIgnoreCase("FROM") && w[3].equalsIgnoreCase("FILE")) {
            // The path is the rest of the line as typed (it may hold spaces), quotes around it dropped.
            String path = String.join(" ", Arrays.asList(w).subList(4, w.length));
            if (path.length() >= 2 && (path.startsWith("'") && path.endsWith("'")
                    || path.startsWith("\"") && path.endsWith("\""))) {
                path = path.substring(1, path.length() - 1);
            }
            restoreFromFile(w[1], path);
            return;
        }
        if (w.length != 3) {
            throw new UsageException("usage: .restore TABLE NAME | .restore TABLE FROM FILE PATH   (or .restore alone"
                    + " to list the backups)");
        }
        String statement = "RESTORE TABLE " + quoteIdentifier(w[1]) + " FROM " + quoteString(w[2]);
        print(SqlFormat.result(statement, sql.run(statement).last()));
    }

    /**
     * Reads the table artifact {@code file} here, checks it (refused by name if damaged, sealed
     * with another key, or of another table: nothing is sent), and sends it with {@code RESTORE
     * TABLE}, in one command or in parts (see {@link SqlOps#restoreTable}), which every replica
     * applies from the same bytes.
     */
    private void restoreFromFile(String table, String file) {
        Path path = Path.of(file);
        List<byte[]> requests;
        TableArtifact artifact;
        try {
            requests = SqlOps.restoreTableFromFile(table, path, artifactKey);
            artifact = TableArtifact.read(path, artifactKey);
        } catch (TableArtifactException e) {
            error(e.getMessage());
            return;
        }
        SqlResult.Ok ok = null;
        for (int i = 0; i < requests.size(); i++) {
            try {
                ok = sql.submit(requests.get(i));
            } catch (RuntimeException e) {
                String what = requests.size() == 1 ? "sent as one command of " + requests.get(i).length + " bytes"
                        : "part " + (i + 1) + " of " + requests.size() + ", " + requests.get(i).length + " bytes; the"
                                + " table is unchanged until the last part is applied";
                error("RESTORE TABLE " + table + " FROM FILE " + path + " (" + what + "): "
                        + (e.getMessage() != null ? e.getMessage() : e.toString()));
                return;
            }
        }
        print(SqlFormat.result("RESTORE TABLE", ok.last()));
        print("restored from " + path + ": " + artifact.describe() + ", " + artifact.rows().size() + " rows, sha256 "
                + artifact.sha256().substring(0, 16) + "…, at log index " + ok.index()
                + (requests.size() == 1 ? "" : " (sent in " + requests.size() + " parts)") + "\n");
    }

    private static String quoteString(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    private static String quoteIdentifier(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    // ------------------------------------------------------------------ output

    private void print(String text) {
        out.print(text);
        out.flush();
    }

    private void error(RuntimeException e) {
        error(e.getMessage() != null ? e.getMessage() : e.toString());
    }

    private void error(String message) {
        failed = true;
        out.flush();
        err.println("error: " + message);
        err.flush();
    }

    /** A dot-command used wrongly. */
    private static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
