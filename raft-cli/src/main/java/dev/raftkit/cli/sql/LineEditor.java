package dev.raftkit.cli.sql;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The shell's lines at a terminal, read with JLine 3: arrow keys and the usual editing keys,
 * Ctrl-R to search the history, and a history kept across sessions in a file (one line per
 * entry, appended as each line is entered). Each line of a multi-line statement is one history
 * entry, so up-arrow walks back through them line by line. Used only when standard input is a
 * terminal; piped input and scripts are read as plain lines ({@link SqlShell#run(java.io.BufferedReader)}).
 *
 * <p>Called on the shell's thread only. {@link #readLine} blocks until a line is entered.
 */
public final class LineEditor implements SqlShell.LineSource, Closeable {

    private final Terminal terminal;
    private final LineReader reader;

    private LineEditor(Terminal terminal, LineReader reader) {
        this.terminal = terminal;
        this.reader = reader;
    }

    /**
     * Opens the process's terminal. {@code history} is the file that keeps the history (read now,
     * appended to line by line), or null to keep it for this session only.
     *
     * @throws IOException the terminal cannot be opened
     */
    public static LineEditor open(Path history) throws IOException {
        Terminal terminal = TerminalBuilder.builder().system(true).build();
        DefaultParser parser = new DefaultParser();
        // The shell splits statements itself (quotes, comments, ';'); JLine must hand lines over as typed.
        parser.setEscapeChars(new char[0]);
        LineReaderBuilder b = LineReaderBuilder.builder().terminal(terminal).appName("raftkit sql").parser(parser)
                // '!' is SQL (!=), not a history reference
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                // the continued lines of a statement are often indented: keep them in the history too
                .option(LineReader.Option.HISTORY_IGNORE_SPACE, false);
        if (history != null) {
            b.variable(LineReader.HISTORY_FILE, history);
        }
        return new LineEditor(terminal, b.build());
    }

    /** Whether the terminal JLine found can edit lines (a "dumb" one cannot: the shell then reads plain lines). */
    public boolean canEdit() {
        return !Terminal.TYPE_DUMB.equals(terminal.getType()) && !Terminal.TYPE_DUMB_COLOR.equals(terminal.getType());
    }

    @Override
    public String readLine(String prompt) throws IOException {
        try {
            return reader.readLine(prompt == null ? "" : prompt);
        } catch (UserInterruptException e) {
            throw new InterruptedIOException("Ctrl-C");
        } catch (EndOfFileException e) {
            return null;
        }
    }

    /** Saves the history and gives the terminal back. */
    @Override
    public void close() throws IOException {
        try {
            reader.getHistory().save();
        } finally {
            terminal.close();
        }
    }
}
