package dev.raftkit.cli;

import dev.raftkit.core.RaftException;
import dev.raftkit.grpc.NodeStatus;
import dev.raftkit.grpc.RaftClient;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.node.HostPort;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine;

/**
 * How a client command reaches the cluster: {@code --cluster} (client addresses, with or without
 * node ids), {@code --cluster-id}, {@code --timeout} and the TLS files. Addresses given without an
 * id are asked for it (one status call each) before the command runs.
 */
final class ClusterOptions {

    /** Where {@code --cluster} and {@code --cluster-id} come from when not given (as etcdctl's ETCDCTL_ENDPOINTS). */
    static final String ENDPOINTS_ENV = "RAFTKIT_ENDPOINTS";
    static final String CLUSTER_ID_ENV = "RAFTKIT_CLUSTER_ID";

    @Option(names = {"-c", "--cluster"}, paramLabel = "ADDRS", split = ",", defaultValue = "${env:" + ENDPOINTS_ENV + "}",
            description = "Client addresses of the nodes, comma-separated: HOST:PORT (the id is asked for) or"
                    + " ID=HOST:PORT (default: $" + ENDPOINTS_ENV + ").")
    List<String> addresses;

    @Option(names = "--cluster-id", paramLabel = "NAME", defaultValue = "${env:" + CLUSTER_ID_ENV + "}",
            description = "The cluster's name, as given to raftkit server (default: $" + CLUSTER_ID_ENV + ").")
    String clusterId;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
            description = "Give up after this long, retries and leader changes included: 500ms, 30s, 2m; a bare"
                    + " number is seconds (default 10s).")
    Duration timeout;

    @Mixin
    TlsOptions tlsOptions;

    /** One address of {@code --cluster}; {@code id} 0 if not given. */
    record Address(long id, String hostPort) {
    }

    /** A node's answer to a status call, or why it gave none. */
    record Probe(Address address, NodeStatus status, String error) {
        boolean answered() {
            return status != null;
        }
    }

    List<Address> parse(CommandLine cl) {
        if (timeout.isZero() || timeout.compareTo(Duration.ofDays(1)) > 0) {
            throw new ParameterException(cl, "--timeout must be more than 0 and at most a day, got " + timeout);
        }
        if (addresses == null || addresses.isEmpty()) {
            throw new ParameterException(cl, "no cluster to talk to: give --cluster HOST:PORT,… (the nodes' client"
                    + " addresses) or set " + ENDPOINTS_ENV);
        }
        if (clusterId == null) {
            throw new ParameterException(cl, "no cluster id: give --cluster-id NAME (as given to raftkit server) or set "
                    + CLUSTER_ID_ENV);
        }
        if (clusterId.isBlank()) {
            throw new ParameterException(cl, "--cluster-id must not be empty");
        }
        List<Address> out = new ArrayList<>();
        for (String raw : addresses) {
            String item = raw.trim();
            long id = 0;
            String hostPort = item;
            int eq = item.indexOf('=');
            if (eq >= 0) {
                try {
                    id = Long.parseLong(item.substring(0, eq));
                } catch (NumberFormatException e) {
                    id = -1;
                }
                if (id <= 0) {
                    throw new ParameterException(cl, "--cluster: '" + item + "': the node id before '=' must be a"
                            + " positive number (or leave out ID=)");
                }
                hostPort = item.substring(eq + 1);
            }
            try {
                hostPort = HostPort.format(HostPort.parse(hostPort, "--cluster: address"));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(cl, e.getMessage());
            }
            out.add(new Address(id, hostPort));
        }
        return out;
    }

    Duration timeout() {
        return timeout;
    }

    TlsConfig tls(CommandLine cl) {
        return tlsOptions.config(cl);
    }

    /** Asks every address for its status, in parallel, each for at most {@code --timeout}. */
    List<Probe> probe(List<Address> nodes, TlsConfig tls) {
        // Each address is asked as an address (statusAt), since its id may not be known yet; the
        // builder still wants nodes, so it gets the addresses under ids 1..n it never uses. One
        // attempt may take the whole timeout: a cold JVM on a busy machine can need seconds just
        // to connect, and a node that is down answers at once (connection refused) anyway.
        RaftClient.Builder b = RaftClient.builder(clusterId).timeout(timeout()).attemptTimeout(timeout()).tls(tls);
        for (int i = 0; i < nodes.size(); i++) {
            b.node(i + 1, nodes.get(i).hostPort());
        }
        // One thread per node: the common pool may have a single thread on a small machine.
        ExecutorService pool = Executors.newFixedThreadPool(nodes.size(), r -> {
            Thread t = new Thread(r, "raftkit-probe");
            t.setDaemon(true);
            return t;
        });
        try (RaftClient probe = b.build()) {
            List<CompletableFuture<Probe>> calls = new ArrayList<>();
            for (Address a : nodes) {
                calls.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return new Probe(a, probe.statusAt(a.hostPort()), null);
                    } catch (RaftException e) {
                        return new Probe(a, null, e.getMessage());
                    }
                }, pool));
            }
            return calls.stream().map(CompletableFuture::join).toList();
        } finally {
            pool.shutdownNow();
        }
    }

    /** A client of the cluster over {@code ids} (from {@link #ids}). */
    RaftClient client(Map<Long, String> ids, TlsConfig tls) {
        // Half the timeout per attempt: enough for a slow first connection, and still time to try
        // another node when one hangs.
        RaftClient.Builder b = RaftClient.builder(clusterId).timeout(timeout()).attemptTimeout(timeout().dividedBy(2))
                .tls(tls);
        ids.forEach(b::node);
        return b.build();
    }

    /**
     * Node id to client address, for every address that has an id or told it; an address without
     * an id that does not answer is reported to {@code warn} and left out.
     *
     * @throws RaftException if no node is left
     */
    Map<Long, String> ids(CommandLine cl, List<Address> nodes, TlsConfig tls, Consumer<String> warn) {
        Map<Long, String> ids = new LinkedHashMap<>();
        List<Address> unknown = new ArrayList<>();
        for (Address a : nodes) {
            if (a.id() == 0) {
                unknown.add(a);
            } else if (ids.put(a.id(), a.hostPort()) != null) {
                throw new ParameterException(cl, "--cluster names node " + a.id() + " twice");
            }
        }
        if (unknown.isEmpty()) {
            return ids;
        }
        List<String> errors = new ArrayList<>();
        for (Probe p : probe(unknown, tls)) {
            if (!p.answered()) {
                warn.accept(p.address().hostPort() + " did not answer: " + p.error());
                errors.add(p.address().hostPort());
                continue;
            }
            long id = p.status().nodeId();
            String other = ids.putIfAbsent(id, p.address().hostPort());
            if (other != null && !other.equals(p.address().hostPort())) {
                throw new ParameterException(cl, "--cluster: " + other + " and " + p.address().hostPort()
                        + " are both node " + id + "; give each node once");
            }
        }
        if (ids.isEmpty()) {
            throw new RaftException(RaftException.Reason.UNAVAILABLE, 0, "no node of cluster '" + clusterId + "' answered ("
                    + String.join(", ", errors) + "). Are the servers running, and are these their client addresses"
                    + " (--client-listen)?");
        }
        return ids;
    }
}
