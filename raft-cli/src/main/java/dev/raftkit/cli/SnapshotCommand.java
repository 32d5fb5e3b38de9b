package dev.raftkit.cli;

import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.node.HostPort;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;

/**
 * {@code raftkit snapshot}: one node snapshots its state machine now and compacts its log, as a
 * threshold snapshot would (before a planned restart, say, so that it replays less). Through the
 * node's admin service: a snapshot is the node's own, not the cluster's.
 */
@Command(name = "snapshot", mixinStandardHelpOptions = true,
        description = "Have one node snapshot its state machine now and compact its log; returns once the snapshot"
                + " is durable.",
        footer = {"", "Exit codes: 0 taken, 1 the node could not take one (it names why), 2 bad arguments.",
                "", "Example:", "  raftkit snapshot --node 2 -c 1=127.0.0.1:8001,2=127.0.0.1:8002 --cluster-id demo"})
final class SnapshotCommand extends OneNodeCommand {

    @Override
    int run(RaftClient client) {
        Target t = target();
        long id = t.id();
        String address = t.address();
        AdminClient.SnapshotTaken r;
        try (AdminClient admin = new AdminClient(HostPort.parse(address, "node address"), cluster.tls(spec.commandLine()))) {
            // The call's deadline is the timeout; the margin only guards against an answer never coming.
            r = admin.snapshot(cluster.clusterId, cluster.timeout())
                    .get(cluster.timeout().toMillis() + 5000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RaftException refused && refused.reason() == RaftException.Reason.TIMED_OUT) {
                return timedOut(id, address);
            }
            return fail("node " + id + " (" + address + ") did not take a snapshot: " + MemberCommands.describe(e.getCause()));
        } catch (TimeoutException e) {
            return timedOut(id, address);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted while node " + id + " was taking a snapshot (it may still finish)");
        }
        print(json ? Json.object().field("node", r.node()).field("index", r.index()).field("term", r.term())
                .field("bytes", r.bytes()).toString()
                : "node " + r.node() + " took a snapshot at index " + r.index() + " (term " + r.term() + ", "
                + r.bytes() + " bytes)");
        return OK;
    }

    private int timedOut(long id, String address) {
        return fail("node " + id + " (" + address + ") did not answer within " + cluster.timeout().toMillis()
                + " ms (--timeout); it may still take the snapshot");
    }
}
