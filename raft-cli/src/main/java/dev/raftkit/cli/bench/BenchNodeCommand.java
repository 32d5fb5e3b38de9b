package dev.raftkit.cli.bench;

import dev.raftkit.cli.node.StateMachineKind;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code raftkit bench-node} (hidden): one node of {@code raftkit bench --processes}. Prints
 * {@code READY} once started; answers each {@code stats} line on stdin with
 * {@code STATS <leader 0|1> <syncs> <entries> <elections won> <cpu nanos> <gc millis> <context switches>}; shuts
 * down gracefully at the end of its input.
 */
@Command(name = "bench-node", hidden = true, mixinStandardHelpOptions = true,
        description = "One node of 'raftkit bench --processes' (internal).")
public final class BenchNodeCommand implements Callable<Integer> {

    @Option(names = "--id", required = true, description = "This node's id (1..3).")
    long id;

    @Option(names = "--dir", required = true, description = "Data directory.")
    Path dir;

    @Option(names = "--peers", required = true, split = ",", description = "id=host:port of every node's peer listener.")
    Map<Long, String> peers;

    @Option(names = "--clients", required = true, split = ",", description = "id=host:port of every node's client listener.")
    Map<Long, String> clients;

    @Option(names = "--sm", defaultValue = "kv", description = "State machine: kv (default) or sql.")
    String stateMachine;

    @Option(names = "--metrics", defaultValue = "off", description = "on: record metrics into a registry (default off).")
    String metrics;

    @Override
    public Integer call() throws Exception {
        Map<Long, InetSocketAddress> others = new HashMap<>();
        peers.forEach((k, v) -> {
            if (k != id) {
                others.put(k, parse(v));
            }
        });
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (BenchNode node = BenchNode.start(id, BenchCluster.VOTERS, dir, parse(peers.get(id)), parse(clients.get(id)),
                others, StateMachineKind.parse(stateMachine), metrics.equals("on"))) {
            clients.forEach((k, v) -> {
                if (k != id) {
                    node.addPeer(k, others.get(k), v);
                }
            });
            out.println("READY");
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.trim().equals("stats")) {
                    out.println("STATS " + (node.server().status().isLeader() ? 1 : 0) + " " + node.syncs() + " "
                            + node.entries() + " " + node.elected() + " " + BenchCommand.processCpuNanos() + " "
                            + BenchCommand.gcMillis() + " " + BenchCommand.contextSwitches());
                }
            }
        }
        return 0;
    }

    private static InetSocketAddress parse(String hostPort) {
        int c = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, c), Integer.parseInt(hostPort.substring(c + 1)));
    }
}
