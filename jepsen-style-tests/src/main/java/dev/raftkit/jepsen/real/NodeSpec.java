package dev.raftkit.jepsen.real;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Everything needed to start one node process.
 *
 * @param id           node id
 * @param clusterId    the cluster's name
 * @param dataDir      its own data directory
 * @param peerListen   host:port it listens on for peers
 * @param clientListen host:port it listens on for clients
 * @param peers        for every other node, the host:port to dial (a {@link LinkProxy} of the harness)
 * @param clients      every node's client host:port (for redirects)
 * @param bootstrap    founding voters on first start; empty on restarts and for nodes added later
 */
public record NodeSpec(long id, String clusterId, Path dataDir, String peerListen, String clientListen,
                       Map<Long, String> peers, Map<Long, String> clients, Set<Long> bootstrap) {

    public NodeSpec {
        peers = Map.copyOf(peers);
        clients = Map.copyOf(clients);
        bootstrap = Set.copyOf(bootstrap);
    }

    /** The same node without founding voters (a restart). */
    public NodeSpec restart() {
        return new NodeSpec(id, clusterId, dataDir, peerListen, clientListen, peers, clients, Set.of());
    }
}
