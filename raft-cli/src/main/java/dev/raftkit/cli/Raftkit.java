package dev.raftkit.cli;

import dev.raftkit.cli.bench.BenchCommand;
import dev.raftkit.cli.bench.BenchNodeCommand;
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
                MemberCommands.class, TransferCommand.class, BackupCommands.class, RestoreCommand.class, CertsCommand.class,
                BenchCommand.class, BenchNodeCommand.class, JepsenCommand.class, CommandLine.HelpCommand.class})
public final class Raftkit {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int run(String... args) {
        return new CommandLine(new Raftkit()).execute(args);
    }
}
