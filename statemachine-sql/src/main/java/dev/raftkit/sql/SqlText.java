package dev.raftkit.sql;

import dev.raftkit.sql.SqlScript.Kind;
import dev.raftkit.sql.SqlScript.Token;
import java.util.List;
import java.util.Set;

/**
 * What a client tool (a shell, a script runner) needs to know about SQL text before it sends it:
 * where statements end, and whether one is a read or a write. Tokenized the way the store
 * tokenizes (string literals, quoted identifiers, comments and trigger bodies never split a
 * statement), so the tool and the store agree on every statement boundary.
 *
 * <pre>{@code
 * buffer.append(line).append('\n');
 * if (SqlText.complete(buffer)) {
 *     for (String statement : SqlText.split(buffer)) {
 *         byte[] request = SqlText.isRead(statement) ? SqlOps.query(statement) : SqlOps.execute(statement);
 *         …
 *     }
 * }
 * }</pre>
 */
public final class SqlText {

    private static final Set<String> READ_VERBS = Set.of("SELECT", "VALUES", "EXPLAIN", "SHOW");
    private static final Set<String> DML_VERBS = Set.of("INSERT", "UPDATE", "DELETE", "REPLACE");
    private static final Set<String> MAIN_VERBS = Set.of("SELECT", "VALUES", "INSERT", "UPDATE", "DELETE", "REPLACE");

    private SqlText() {
    }

    /**
     * The statements of {@code script}, each without its {@code ;}, in order; empty ones (bare
     * semicolons, comments) are left out.
     *
     * @throws SqlRefusedException if a string literal or quoted identifier is not closed
     */
    public static List<String> split(CharSequence script) {
        return SqlScript.split(script.toString()).stream().map(SqlScript.Statement::text).toList();
    }

    /**
     * Whether {@code script} is ready to run: it holds a statement, no quote is open, and it ends
     * with the {@code ;} of a statement (after which only whitespace and comments may follow). A
     * {@code ;} inside a {@code CREATE TRIGGER … BEGIN … END} body does not end the statement.
     */
    public static boolean complete(CharSequence script) {
        return SqlScript.complete(script.toString());
    }

    /**
     * The statement's main verb, upper-cased: its first keyword ({@code CREATE}, {@code INSERT},
     * {@code BACKUP} …), or for {@code WITH …} the verb after the common table expressions
     * ({@code SELECT}, {@code INSERT} …). Empty if the text holds no keyword first.
     *
     * @throws SqlRefusedException if a quote is not closed
     */
    public static String verb(String statement) {
        List<Token> t = SqlScript.tokenize(statement);
        if (t.isEmpty() || t.get(0).kind() != Kind.WORD) {
            return "";
        }
        if (!t.get(0).isWord("WITH")) {
            return t.get(0).upper();
        }
        int depth = 0;
        for (int i = 1; i < t.size(); i++) {
            Token tok = t.get(i);
            if (tok.isPunct("(")) {
                depth++;
            } else if (tok.isPunct(")")) {
                depth--;
            } else if (depth == 0 && tok.kind() == Kind.WORD && MAIN_VERBS.contains(tok.upper())
                    && !(i + 1 < t.size() && t.get(i + 1).isPunct("("))) {
                return tok.upper(); // replace(…) is a function, not the verb
            }
        }
        return "WITH";
    }

    /**
     * Whether the statement only reads ({@code SELECT}, {@code VALUES}, {@code EXPLAIN},
     * {@code SHOW BACKUPS}, {@code WITH … SELECT}), so it can be sent as a query with any read
     * mode; everything else goes through the log as a write (where the store refuses what it must).
     */
    public static boolean isRead(String statement) {
        return READ_VERBS.contains(verb(statement));
    }

    /**
     * The table and file of {@code RESTORE TABLE t FROM FILE 'path'}, a statement for clients: the
     * file (a table artifact written by {@code BACKUP TABLE}) is on the client's host, so the client
     * reads it and sends its contents ({@link SqlOps#restoreTableFromFile}); the store refuses the
     * statement itself. Null if {@code statement} is not of that form.
     *
     * @param table the table named (unquoted)
     * @param file  the path in the string literal
     */
    public record FileRestore(String table, String file) {
    }

    /** The {@link FileRestore} {@code statement} is, or null. */
    public static FileRestore restoreFromFile(String statement) {
        String[] r = SqlValidator.restoreFromFile(statement);
        return r == null ? null : new FileRestore(r[0], r[1]);
    }

    /** Whether the statement changes rows ({@code INSERT}, {@code UPDATE}, {@code DELETE}, {@code REPLACE}, also after {@code WITH}). */
    public static boolean changesRows(String statement) {
        return DML_VERBS.contains(verb(statement));
    }
}
