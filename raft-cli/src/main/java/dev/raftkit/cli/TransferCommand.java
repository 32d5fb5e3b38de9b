package dev.raftkit.cli;

import dev.raftkit.grpc.RaftClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code raftkit transfer --to N}: hand leadership to a caught-up voter (thesis §3.10). */
@Command(name = "transfer", mixinStandardHelpOptions = true,
        description = "Hand leadership to voter N (for example before restarting the leader's machine); returns once N leads.",
        footer = {"", "Exit codes: 0 N leads, 1 the transfer did not happen in time, 2 bad arguments.",
                "--json prints {\"leader\":N} instead.",
                "", "Example:", "  raftkit transfer --to 2 -c 127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003 --cluster-id demo"})
final class TransferCommand extends ScriptableCommand {

    @Option(names = "--to", required = true, paramLabel = "N", description = "The voter to lead.")
    long to;

    @Override
    void check(CommandLine cl) {
        MemberCommands.checkId(cl, to, "--to");
    }

    @Override
    int run(RaftClient client) {
        client.transferLeadership(to);
        print("node " + to + " leads now", Json.object().field("leader", to));
        return OK;
    }
}
