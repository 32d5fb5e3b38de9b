package dev.raftkit.cli;

import picocli.CommandLine.Option;

/**
 * A client command with {@code --json}: its outcome printed as one JSON object on one line (see
 * {@link Json}) instead of the sentence a person reads. The exit code is the same either way;
 * failures still go to stderr as text, and an answer of no (exit 3) also prints its object.
 */
abstract class ScriptableCommand extends ClientCommand {

    @Option(names = "--json", description = "Print the outcome as one JSON object (for scripts); failures still go to"
            + " stderr with exit code 1.")
    boolean json;

    /** Prints {@code object} with {@code --json}, else {@code text}. */
    void print(String text, Json object) {
        print(json ? object.toString() : text);
    }
}
