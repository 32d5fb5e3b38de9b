package dev.raftkit.cli;

import dev.raftkit.cli.demo.Demo;
import dev.raftkit.cli.node.StateMachineKind;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code raftkit demo}: the guided tour of a replicated store surviving failures, on the key-value
 * state machine (default) or on SQL ({@code --sm sql}).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run a 3-node cluster in this process over real gRPC on loopback with fsync'd logs, and narrate.",
                "--sm kv (default): election, writes, the leader killed and replaced, full and incremental backups "
                        + "taken while serving, a node that lost its disk replaced by a new one seeded from the backups, "
                        + "the whole cluster crashed and restarted — checking after each step that no acknowledged write "
                        + "was lost.",
                "--sm sql: CREATE TABLE, INSERTs, SELECT, BACKUP TABLE, changes, the leader killed while rows are "
                        + "inserted, RESTORE TABLE, SELECT — checking that no acknowledged row was lost, that the restore "
                        + "brought back the backed-up rows, and that every node (the killed one restarted) holds the same "
                        + "database.",
                "--tour backups: every kind of backup and restore, run as the raftkit commands a user types, on a "
                        + "key-value cluster with backup roots while a client writes: full, incremental and differential "
                        + "backups, verify --deep and a damaged copy refused, a hot rollback (restore --live), cold "
                        + "restores by index and by time; then BACKUP TABLE on one SQL cluster and RESTORE TABLE FROM "
                        + "FILE on another, and a damaged table file refused. Every step is checked."},
        footer = {"", "Exit codes: 0 the tour succeeded, 1 it found a problem (\"demo FAILED: ...\"), 2 bad arguments.",
                "", "Examples:", "  raftkit demo", "  raftkit demo --sm sql", "  raftkit demo --tour backups",
                "  raftkit demo --data /tmp/raftkit-demo --writes 2000"})
final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Where to keep the nodes' data and the backups (default: a new temporary directory, removed afterwards). Must be empty or absent.")
    Path data;

    @Option(names = "--writes", defaultValue = "1000",
            description = "Writes per batch of the key-value tour and of the backup tour (between its backups); rows"
                    + " inserted while the leader is killed in the SQL tour (default 1000).")
    int writes;

    @Option(names = "--sm", paramLabel = "KIND", defaultValue = "kv",
            description = "The state machine of the tour: kv (default) or sql.")
    String stateMachine;

    @Option(names = "--tour", paramLabel = "NAME",
            description = "Another tour instead of the failure tour: backups (see above).")
    String tour;

    @Option(names = "--verbose", description = "Also show the library's warnings (peers unreachable while nodes are killed, …).")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        if (!verbose) {
            quietLogs();
        }
        StateMachineKind kind;
        try {
            kind = StateMachineKind.parse(stateMachine);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--sm: " + e.getMessage());
        }
        if (writes < 10 || writes > 1_000_000) {
            throw new ParameterException(spec.commandLine(), "--writes must be between 10 and 1000000, got " + writes);
        }
        boolean backups = tour != null;
        if (backups && !tour.equals("backups")) {
            throw new ParameterException(spec.commandLine(), "--tour: unknown tour '" + tour + "'; use backups (or"
                    + " leave --tour out for the failure tour)");
        }
        if (backups && spec.commandLine().getParseResult().hasMatchedOption("--sm")) {
            throw new ParameterException(spec.commandLine(), "--sm does not go with --tour backups: that tour runs a"
                    + " key-value cluster and two SQL clusters; leave --sm out");
        }
        boolean temporary = data == null;
        Path dir = temporary ? Files.createTempDirectory("raftkit-demo-") : data;
        if (!temporary && Files.exists(dir)) {
            try (var entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new ParameterException(spec.commandLine(), "--data " + dir
                            + " is not empty; give a new or empty directory (the demo writes three nodes' data there)");
                }
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        try {
            out.println(backups ? Demo.backupTour(out, dir, writes) : Demo.run(out, dir, kind, writes));
            return 0;
        } catch (RuntimeException e) {
            out.println("demo FAILED: " + e.getMessage());
            out.println("data kept in " + dir + " for inspection");
            out.flush();
            temporary = false;
            return 1;
        } finally {
            out.flush();
            if (temporary) {
                deleteQuietly(dir);
            }
        }
    }

    /**
     * Only the library's errors are logged: the tour kills nodes on purpose, and the survivors'
     * warnings about it would drown the story. The logger reads these properties once, when it
     * first starts, so {@link Raftkit#main} calls this before anything logs.
     */
    static void quietLogs() {
        System.setProperty("org.slf4j.simpleLogger.log.dev.raftkit", "error");
        System.setProperty("org.slf4j.simpleLogger.log.io.grpc", "error");
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // Best effort: it is a temporary directory.
        }
    }
}
