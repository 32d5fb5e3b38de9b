package dev.raftkit.jepsen.real;

import java.util.List;

/**
 * The command line that starts a node process for a {@link NodeSpec}. This module cannot depend on
 * the CLI (the CLI depends on it), so the CLI supplies one: {@code java -Xmx256m -cp raftkit.jar …}.
 * The process must print a line with {@code READY} once it serves, and exit non-zero with the
 * reason on stderr if it cannot start (a corrupt log, say).
 */
@FunctionalInterface
public interface NodeCommand {

    List<String> command(NodeSpec spec);
}
