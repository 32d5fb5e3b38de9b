package dev.raftkit.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Splits SQL text into statements and each statement into tokens, the way SQLite's tokenizer
 * would: string literals, quoted identifiers ({@code "x"}, {@code `x`}, {@code [x]}) and comments
 * never split or match a keyword. A {@code CREATE TRIGGER}'s body ({@code BEGIN … END}) keeps its
 * inner semicolons. Not a parser: {@link SqlValidator} only needs words, nesting and order.
 */
final class SqlScript {

    enum Kind { WORD, QUOTED_ID, STRING, NUMBER, PARAM, PUNCT }

    /** One token; {@code upper} is the word upper-cased (for keywords), or the unquoted text. */
    record Token(Kind kind, String text, String upper, int start) {

        boolean isWord(String keyword) {
            return kind == Kind.WORD && upper.equals(keyword);
        }

        boolean isPunct(String p) {
            return kind == Kind.PUNCT && text.equals(p);
        }
    }

    /** One statement of a script: its text (without the semicolon), its tokens, its 1-based number. */
    record Statement(int number, String text, List<Token> tokens) {
    }

    private SqlScript() {
    }

    /** The non-empty statements of {@code sql}, in order. */
    static List<Statement> split(String sql) {
        List<Statement> out = new ArrayList<>();
        List<Token> rest = split(sql, tokenize(sql), out);
        flush(sql, rest, out);
        return out;
    }

    /**
     * Whether {@code sql} ends where a statement ends: it holds a statement, no quote is open, and
     * its last token is a {@code ;} that closes a statement (not one inside a trigger body).
     */
    static boolean complete(String sql) {
        List<Token> all;
        try {
            all = tokenize(sql);
        } catch (SqlRefusedException unterminatedQuote) {
            return false;
        }
        return !all.isEmpty() && split(sql, all, new ArrayList<>()).isEmpty();
    }

    /** Adds the statements closed by a {@code ;} to {@code out}; returns the tokens after the last one. */
    private static List<Token> split(String sql, List<Token> all, List<Statement> out) {
        List<Token> current = new ArrayList<>();
        boolean trigger = false;
        boolean inBody = false;
        int caseDepth = 0;
        for (Token t : all) {
            if (t.isPunct(";")) {
                if (trigger && inBody) {
                    current.add(t);
                    continue;
                }
                flush(sql, current, out);
                trigger = false;
                caseDepth = 0;
                continue;
            }
            current.add(t);
            if (current.size() <= 4 && t.isWord("TRIGGER") && current.get(0).isWord("CREATE")) {
                trigger = true;
            } else if (trigger && t.isWord("BEGIN") && !inBody) {
                inBody = true;
            } else if (trigger && inBody && t.isWord("CASE")) {
                caseDepth++;
            } else if (trigger && inBody && t.isWord("END")) {
                if (caseDepth > 0) {
                    caseDepth--;
                } else {
                    inBody = false;
                }
            }
        }
        return current;
    }

    private static void flush(String sql, List<Token> current, List<Statement> out) {
        if (current.isEmpty()) {
            return;
        }
        Token first = current.get(0);
        Token last = current.get(current.size() - 1);
        String text = sql.substring(first.start(), last.start() + last.text().length());
        out.add(new Statement(out.size() + 1, text, List.copyOf(current)));
        current.clear();
    }

    /** Tokens of {@code sql}, comments and whitespace dropped. Unterminated quotes are an error. */
    static List<Token> tokenize(String sql) {
        List<Token> out = new ArrayList<>(Math.max(10, sql.length() / 3)); // about a token per 3 characters
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int eol = sql.indexOf('\n', i);
                i = eol < 0 ? n : eol + 1;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
                char close = c == '[' ? ']' : c;
                int j = i + 1;
                StringBuilder unquoted = new StringBuilder();
                while (true) {
                    if (j >= n) {
                        throw new SqlRefusedException("unterminated " + (c == '\'' ? "string literal" : "quoted identifier")
                                + " starting at character " + (i + 1) + ": " + excerpt(sql, i) + "; close it with " + close);
                    }
                    char d = sql.charAt(j);
                    if (d == close) {
                        if (close != ']' && j + 1 < n && sql.charAt(j + 1) == close) {
                            unquoted.append(d);
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    unquoted.append(d);
                    j++;
                }
                Kind kind = c == '\'' ? Kind.STRING : Kind.QUOTED_ID;
                out.add(new Token(kind, sql.substring(i, j + 1), unquoted.toString(), i));
                i = j + 1;
            } else if (Character.isLetter(c) || c == '_' || c >= 0x80) {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_'
                        || sql.charAt(j) == '$' || sql.charAt(j) >= 0x80)) {
                    j++;
                }
                String w = sql.substring(i, j);
                out.add(new Token(Kind.WORD, w, w.toUpperCase(Locale.ROOT), i));
                i = j;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(sql.charAt(i + 1)))) {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '.'
                        || ((sql.charAt(j) == '+' || sql.charAt(j) == '-')
                        && (sql.charAt(j - 1) == 'e' || sql.charAt(j - 1) == 'E')))) {
                    j++;
                }
                out.add(new Token(Kind.NUMBER, sql.substring(i, j), sql.substring(i, j), i));
                i = j;
            } else if (c == '?' || c == ':' || c == '@' || c == '$') {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
                    j++;
                }
                out.add(new Token(Kind.PARAM, sql.substring(i, j), sql.substring(i, j), i));
                i = j;
            } else {
                out.add(new Token(Kind.PUNCT, String.valueOf(c), String.valueOf(c), i));
                i++;
            }
        }
        return out;
    }

    /** Up to 40 characters of {@code sql} from {@code from}, for error messages. */
    static String excerpt(String sql, int from) {
        String s = sql.substring(from, Math.min(sql.length(), from + 40)).replaceAll("\\s+", " ");
        return "'" + s + (from + 40 < sql.length() ? "…" : "") + "'";
    }
}
