package dev.raftkit.cli;

import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.kv.KvRejectedException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * A command that talks to a running cluster through a {@link RaftClient}. Checks its own
 * arguments first ({@link #check}, exit 2), then connects and {@link #run}s; a call the cluster
 * refuses or that times out prints the client's message (nodes tried, last error) and exits 1.
 */
abstract class ClientCommand implements Callable<Integer> {

    /** The command did what was asked. */
    static final int OK = 0;
    /** The cluster could not do it: unreachable, no leader in time, refused. */
    static final int FAILED = 1;
    /** Bad arguments (picocli's own code for them). */
    static final int USAGE = 2;
    /** The cluster answered, and the answer is no: a key not found, a compare-and-set whose condition failed. */
    static final int NO = 3;

    @Spec
    CommandSpec spec;

    @Mixin
    ClusterOptions cluster;

    /** Node id to client address, known once {@link #run} is called. */
    Map<Long, String> nodes;

    @Override
    public final Integer call() {
        CommandLine cl = spec.commandLine();
        check(cl);
        TlsConfig tls = cluster.tls(cl);
        try {
            nodes = cluster.ids(cl, cluster.parse(cl), tls, this::warn);
        } catch (RaftException e) {
            return fail(e.getMessage());
        }
        try (RaftClient client = cluster.client(nodes, tls)) {
            return run(client);
        } catch (RaftException e) {
            return fail(e.getMessage());
        } catch (KvRejectedException e) {
            return fail("the store refused the request: " + e.getMessage());
        }
    }

    /** Checks the arguments (throw {@link picocli.CommandLine.ParameterException}) before any connection. */
    void check(CommandLine cl) {
    }

    abstract int run(RaftClient client);

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    void print(String line) {
        out().println(line);
        out().flush();
    }

    void warn(String message) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("raftkit " + spec.qualifiedName(" ").replaceFirst("^raftkit ", "") + ": " + message);
        err.flush();
    }

    int fail(String message) {
        warn(message);
        return FAILED;
    }
}
