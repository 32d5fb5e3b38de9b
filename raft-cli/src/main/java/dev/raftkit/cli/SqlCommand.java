package dev.raftkit.cli;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.cli.sql.LineEditor;
import dev.raftkit.cli.sql.SqlClient;
import dev.raftkit.cli.sql.SqlShell;
import dev.raftkit.core.ReadMode;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.sql.TableArtifactKey;
import dev.raftkit.storage.backup.BackupKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine;

/**
 * {@code raftkit sql}: the SQL shell of a cluster whose servers run {@code --sm sql}, interactive
 * on a console, or non-interactive with {@code -e} and script files (see {@link SqlShell}).
 */
@Command(name = "sql", mixinStandardHelpOptions = true,
        description = {"The SQL shell of a cluster run with raftkit server --sm sql: type statements ending with ';'"
                + " and dot-commands (.help lists them); queries print aligned tables. Without -e or SCRIPT it reads"
                + " standard input: at a terminal with line editing (arrow keys, Ctrl-R) and a history file, otherwise"
                + " as plain lines. .dump prints the database as SQL that this shell runs back."},
        footer = {"", "Writes go through the Raft log (exactly once, all or nothing per statement, or per",
                "BEGIN; ... COMMIT; block); reads run with --read (or .consistency) as the consistency.",
                "", "Exit codes: 0 done, 1 an error (a refused statement, a SQL error, no leader in time:",
                "with -e, a script or piped input the shell stops at the first one), 2 bad arguments.",
                "An interactive shell goes on after errors and exits 0.",
                "", "Examples:",
                "  raftkit sql -c 127.0.0.1:8001,127.0.0.1:8002 --cluster-id demo",
                "  raftkit sql -c 127.0.0.1:8001 --cluster-id demo -e \"SELECT * FROM example;\"",
                "  raftkit sql -c 127.0.0.1:8001 --cluster-id demo -e \"CREATE TABLE t (a INT); INSERT INTO t VALUES (1);\"",
                "  raftkit sql -c 127.0.0.1:8001 --cluster-id demo schema.sql",
                "  raftkit sql -c 127.0.0.1:8001 --cluster-id demo -e \"RESTORE TABLE example FROM FILE 'example_backup.rktable';\"",
                "  raftkit sql -c 127.0.0.1:8001 --cluster-id demo -e .dump > dump.sql   # and back: ... < dump.sql"})
final class SqlCommand extends ClientCommand {

    @Option(names = {"-e", "--execute"}, paramLabel = "SQL",
            description = "Run these statements and dot-commands, then exit (repeatable; one string may hold several"
                    + " statements, each ending with ';').")
    List<String> execute = new ArrayList<>();

    @Parameters(index = "0", arity = "0..1", paramLabel = "SCRIPT",
            description = "A file of statements and dot-commands to run (after any -e), then exit; '-' reads standard"
                    + " input without prompting.")
    Path script;

    @Option(names = "--read", paramLabel = "MODE", defaultValue = "linearizable",
            description = "How queries read: linearizable (default: ReadIndex, §6.4), lease (leader lease) or stale"
                    + " (one node's applied state, never older than this shell's own writes).")
    String read;

    @Option(names = "--history", paramLabel = "FILE",
            description = "Where an interactive shell keeps the lines typed, across sessions (default:"
                    + " ~/.raftkit_sql_history).")
    Path history;

    @Option(names = "--no-history", description = "Keep no history file (up-arrow still recalls this session's lines).")
    boolean noHistory;

    @Option(names = "--backup-key", paramLabel = "FILE",
            description = "The servers' --backup-key file: opens the encrypted table artifacts that RESTORE TABLE ... FROM"
                    + " FILE reads (a node with a backup key encrypts them).")
    Path backupKey;

    private final InputStream stdin;
    private final boolean console;
    /** Whether a console is the process's own terminal, which JLine edits on (not a test's stream). */
    private final boolean terminal;
    private ReadMode mode;
    private TableArtifactKey artifactKey;

    /** The command as {@code raftkit} runs it: standard input, interactive (and line-edited) if it is a console. */
    SqlCommand() {
        this(System.in, System.console() != null, System.console() != null);
    }

    /** For tests: {@code stdin} as standard input, {@code console} whether it counts as a person typing. */
    SqlCommand(InputStream stdin, boolean console) {
        this(stdin, console, false);
    }

    private SqlCommand(InputStream stdin, boolean console, boolean terminal) {
        this.stdin = stdin;
        this.console = console;
        this.terminal = terminal;
    }

    @Override
    void check(CommandLine cl) {
        mode = KvCommands.readMode(cl, read);
        if (noHistory && history != null) {
            throw new ParameterException(cl, "--history and --no-history contradict each other; give one");
        }
        if (history != null && Files.isDirectory(history)) {
            throw new ParameterException(cl, "--history: " + history.toAbsolutePath() + " is a directory; name the"
                    + " file to keep the history in");
        }
        if (backupKey != null) {
            try {
                artifactKey = StateMachineKind.tableArtifactKey(BackupKey.load(backupKey));
            } catch (IOException e) {
                throw new ParameterException(cl, "--backup-key: " + e.getMessage());
            }
        }
        if (script != null && !script.toString().equals("-") && !Files.isReadable(script)) {
            throw new ParameterException(cl, "SCRIPT: " + script.toAbsolutePath() + " is not a readable file");
        }
    }

    @Override
    int run(RaftClient client) {
        boolean dash = script != null && script.toString().equals("-");
        boolean fromStdin = dash || (execute.isEmpty() && script == null);
        boolean interactive = fromStdin && !dash && console;
        PrintWriter out = out();
        SqlShell shell = new SqlShell(new SqlClient(client, mode), new Admin(), out, spec.commandLine().getErr(),
                interactive);
        shell.artifactKey(artifactKey);
        if (interactive) {
            out.println("raftkit sql: cluster '" + cluster.clusterId + "', nodes " + nodes.keySet() + ", reads "
                    + mode.name().toLowerCase(Locale.ROOT) + ". Statements end with ';'; .help for more,"
                    + " .quit to leave.");
        }
        try {
            for (String e : execute) {
                if (shell.failed()) {
                    break;
                }
                shell.run(e);
            }
            if (!shell.failed() && interactive && terminal) {
                runEditing(shell);
            } else if (!shell.failed() && fromStdin) {
                shell.run(new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8)));
            } else if (!shell.failed() && script != null) {
                try (BufferedReader in = Files.newBufferedReader(script, StandardCharsets.UTF_8)) {
                    shell.run(in);
                }
            }
        } catch (IOException e) {
            warn("cannot read " + (fromStdin ? "standard input" : script) + ": "
                    + e.getMessage());
            shell.finish();
            return FAILED;
        }
        return shell.finish();
    }

    /**
     * A person at the terminal: lines edited with JLine and kept in the history file; a terminal
     * JLine cannot edit on (dumb) reads plain lines, as piped input does.
     */
    private void runEditing(SqlShell shell) throws IOException {
        Path file = noHistory ? null : history != null ? history
                : Path.of(System.getProperty("user.home"), ".raftkit_sql_history");
        try (LineEditor editor = LineEditor.open(file)) {
            if (editor.canEdit()) {
                shell.run(editor);
                return;
            }
        }
        shell.run(new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8)));
    }

    /** .status and .backup full|incremental, as raftkit status and raftkit backup do them. */
    private final class Admin implements SqlShell.ClusterAdmin {
        @Override
        public boolean status(PrintWriter out) {
            List<ClusterOptions.Address> addresses = new ArrayList<>();
            for (Map.Entry<Long, String> e : nodes.entrySet()) {
                addresses.add(new ClusterOptions.Address(e.getKey(), e.getValue()));
            }
            return StatusCommand.report(out, cluster.probe(addresses, cluster.tls(spec.commandLine())),
                    StatusCommand.DEFAULT_LAGGING);
        }

        @Override
        public String backup(boolean incremental, Path dir) {
            Map.Entry<Long, String> taker = nodes.entrySet().iterator().next();
            long start = System.nanoTime();
            AdminClient.BackupTaken r;
            try (Progress progress = Progress.elapsed(spec.commandLine().getErr(), Progress.styleFor(false, false),
                    System::nanoTime, "backup: node " + taker.getKey() + " taking the "
                            + (incremental ? "incremental" : "full") + " backup")) {
                r = BackupCommands.take(taker.getValue(), cluster.tls(spec.commandLine()), cluster.clusterId,
                        incremental, dir.toString(), taker.getKey(), progress);
            } catch (ExecutionException e) {
                throw new IllegalStateException("node " + taker.getKey() + " (" + taker.getValue() + ") did not take"
                        + " the backup: " + MemberCommands.describe(e.getCause()), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while node " + taker.getKey() + " was taking the backup");
            }
            String line = BackupCommands.describe(r, System.nanoTime() - start);
            return r.fallbackReason() == null ? line
                    : line + "\n(a full backup instead of an incremental one: " + r.fallbackReason() + ")";
        }
    }
}
