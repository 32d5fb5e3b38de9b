package dev.raftkit.cli;

import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * A client command that one node carries out through its admin service (a backup, a snapshot):
 * {@code --node} names it, by default the first of {@code --cluster}.
 */
abstract class OneNodeCommand extends ScriptableCommand {

    @Option(names = "--node", paramLabel = "N", description = "The node that does it (default: the first of --cluster).")
    Long node;

    @Override
    void check(CommandLine cl) {
        if (node != null) {
            MemberCommands.checkId(cl, node, "--node");
        }
    }

    /** The node {@code --node} names, with its client address. */
    record Target(long id, String address) {
    }

    /** The node this command acts on; refused if {@code --cluster} does not say where it is. */
    Target target() {
        long id = node != null ? node : nodes.keySet().iterator().next();
        String address = nodes.get(id);
        if (address == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--node " + id + " is not among the nodes of"
                    + " --cluster " + nodes.keySet() + "; add its address there");
        }
        return new Target(id, address);
    }
}
