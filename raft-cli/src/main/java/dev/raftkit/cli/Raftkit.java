package dev.raftkit.cli;

import dev.raftkit.cli.bench.BenchCommand;
import dev.raftkit.cli.bench.BenchNodeCommand;
import dev.raftkit.node.RaftNode;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code raftkit} command. Exit codes: 0 success; 1 the operation failed or the run found a
 * problem (a violation, a lost write); 2 bad arguments; 3 the answer is no (a key not found, a
 * compare-and-set whose condition did not hold).
 */
@Command(name = "raftkit", mixinStandardHelpOptions = true, version = "raftkit 0.1.0-SNAPSHOT",
        description = "Raftkit: a Raft consensus library for the JVM.",
        subcommands = {DemoCommand.class, SimCommand.class, ServerCommand.class, KvCommands.class, SqlCommand.class, StatusCommand.class,
                MemberCommands.class, TransferCommand.class, SnapshotCommand.class, EventsCommand.class, BackupCommands.class, RestoreCommand.class, CertsCommand.class,
                BenchCommand.class, BenchNodeCommand.class, JepsenCommand.class, CheckTxnCommand.class, CommandLine.HelpCommand.class})
public final class Raftkit {

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("demo") && !Arrays.asList(args).contains("--verbose")) {
            // Before the logger starts (routing java.util.logging starts it): it reads its levels once.
            DemoCommand.quietLogs();
        }
        // gRPC (clients and servers alike) logs through java.util.logging: one backend, one format.
        RaftNode.routeJulToSlf4j();
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The command line as {@code main} runs it (tests set its output streams). */
    public static CommandLine commandLine() {
        return new CommandLine(new Raftkit()).setParameterExceptionHandler(Raftkit::badArguments);
    }

    /**
     * A bad argument: the error and where to read more, not the whole usage over it (which buries
     * the one line that matters). Exit code 2.
     */
    private static int badArguments(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        java.io.PrintWriter err = cl.getErr();
        err.println(e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("See '" + cl.getCommandSpec().qualifiedName() + " --help' for its options.");
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }
}
