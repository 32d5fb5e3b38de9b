package dev.raftkit.cli;

import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.node.HostPort;
import dev.raftkit.runtime.ProtocolEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code raftkit events}: follows one running node's protocol events — votes granted and refused
 * with their reasons, role changes, step-downs, disk stalls — through its admin service's
 * {@code Events} stream, one line per event, until Ctrl-C or {@code --count}.
 */
@Command(name = "events", mixinStandardHelpOptions = true,
        description = "Follow one node's protocol events live (votes and why they were refused, role changes,"
                + " leaders stepping down, disk stalls), one line per event, until Ctrl-C or --count. An admin call.",
        footer = {"", "Each line: TIME node N term T KIND: DETAIL (term left out when the node did not know it yet).",
                "With --json, the JSON line of the simulator's trace schema, {\"t\":…,\"node\":…,\"term\":…,\"ev\":…,"
                        + "\"detail\":…} (t in microseconds since the epoch). A line 'events-dropped' marks a gap:"
                        + " the node dropped events this reader was too slow for.",
                "", "Exit codes: 0 ended by --count (or the node ended the stream), 1 the node could not be followed"
                + " (unreachable, stopped, not an admin, this reader too slow; it names why), 2 bad arguments.",
                "", "Examples:", "  raftkit events --node 2 -c 1=127.0.0.1:8001,2=127.0.0.1:8002 --cluster-id demo",
                "  raftkit events --node 1 -c 127.0.0.1:8001 --cluster-id demo --since 5m --json --count 100"})
final class EventsCommand extends OneNodeCommand {

    @Option(names = "--count", paramLabel = "N", description = "Stop after N events (default: follow until Ctrl-C).")
    Long count;

    @Option(names = "--since", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "First print the events the node still keeps (its most recent few hundred) from this long"
                    + " ago, e.g. 30s or 5m (default: only new events).")
    Duration since;

    @Override
    void check(CommandLine cl) {
        super.check(cl);
        if (count != null && count < 1) {
            throw new CommandLine.ParameterException(cl, "--count " + count + " must be at least 1; leave it out"
                    + " to follow until Ctrl-C");
        }
        if (since != null && (since.isNegative() || since.isZero())) {
            throw new CommandLine.ParameterException(cl, "--since " + since.toMillis() + "ms must be positive, e.g."
                    + " 30s; leave it out for new events only");
        }
    }

    @Override
    int run(RaftClient client) {
        Target t = target();
        long sinceMicros = since == null ? 0 : (System.currentTimeMillis() - since.toMillis()) * 1000;
        CompletableFuture<Void> enough = new CompletableFuture<>();
        AtomicLong printed = new AtomicLong();
        try (AdminClient admin = new AdminClient(HostPort.parse(t.address(), "node address"),
                cluster.tls(spec.commandLine()));
             AdminClient.EventStream stream = admin.events(cluster.clusterId, sinceMicros, e -> {
                 // One thread calls this, in order; past --count nothing more is printed.
                 if (count != null && printed.get() >= count) {
                     return;
                 }
                 print(json ? e.toJson() : line(e));
                 if (count != null && printed.incrementAndGet() >= count) {
                     enough.complete(null);
                 }
             })) {
            CompletableFuture.anyOf(stream.done(), enough).get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            // A RaftException already names the node's address and why; anything else (the printing) is ours.
            return fail(c instanceof RaftException ? "node " + t.id() + ": " + c.getMessage()
                    : "stopped following the events of node " + t.id() + ": " + MemberCommands.describe(c));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted while following the events of node " + t.id());
        }
        return OK;
    }

    /** An event as a person reads it: {@code 2026-11-21T18:11:24.695Z node 2 term 5 role: leader in term 5}. */
    static String line(ProtocolEvent e) {
        return Instant.ofEpochMilli(e.timeMillis()) + " node " + e.node()
                + (e.term() == ProtocolEvent.NO_TERM ? "" : " term " + e.term()) + " " + e.kind() + ": " + e.detail();
    }
}
