package dev.raftkit.cli;

import dev.raftkit.grpc.AdminClient;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.proto.SnapshotRequest;
import dev.raftkit.grpc.proto.SnapshotResponse;
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
        SnapshotResponse r;
        try (AdminClient admin = new AdminClient(HostPort.parse(address, "node address"), cluster.tls(spec.commandLine()))) {
            r = admin.stub().snapshot(SnapshotRequest.newBuilder().setClusterId(cluster.clusterId).build())
                    .get(cluster.timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            return fail("node " + id + " (" + address + ") did not take a snapshot: " + MemberCommands.describe(e.getCause()));
        } catch (TimeoutException e) {
            return fail("node " + id + " (" + address + ") did not answer within " + cluster.timeout().toMillis()
                    + " ms (--timeout); it may still take the snapshot");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted while node " + id + " was taking a snapshot (it may still finish)");
        }
        print(json ? Json.object().field("node", r.getNodeId()).field("index", r.getIndex()).field("term", r.getTerm())
                .field("bytes", r.getBytes()).toString()
                : "node " + r.getNodeId() + " took a snapshot at index " + r.getIndex() + " (term " + r.getTerm() + ", "
                + r.getBytes() + " bytes)");
        return OK;
    }
}
