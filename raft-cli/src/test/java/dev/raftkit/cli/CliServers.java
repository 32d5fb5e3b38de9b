package dev.raftkit.cli;

import dev.raftkit.testkit.net.FreePorts;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/**
 * {@code raftkit server} commands in this JVM over loopback gRPC, as a person would start them
 * in separate terminals, and client commands pointed at them. One per test; {@link #close} stops
 * every server still running.
 */
final class CliServers implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(30);
    static final String CLUSTER = "cli-test";

    private final Map<Long, int[]> ports = new HashMap<>();
    /**
     * Whether {@link #start} gives each server {@code --backup-root} next to its data directory
     * ({@code DATA/../backups}), unless the extra arguments name one.
     */
    boolean defaultBackupRoot = true;
    private final Map<Long, Running> servers = new HashMap<>();
    private boolean insecureAdmin = true;

    /** A server command on its own thread. */
    record Running(ServerCommand command, CompletableFuture<Integer> exit, StringWriter out) {
    }

    /** Reserves a peer port and a client port for each of {@code ids}. */
    CliServers(long... ids) throws IOException {
        for (long id : ids) {
            ports.put(id, new int[] {FreePorts.next(), FreePorts.next()});
        }
    }

    /**
     * Whether servers started from now on get {@code --insecure-admin} (default true: plaintext on
     * loopback, and most tests add members and take backups, which are admin calls).
     */
    CliServers insecureAdmin(boolean allow) {
        insecureAdmin = allow;
        return this;
    }


    /** Node {@code id}'s client address. */
    String client(long id) {
        return "127.0.0.1:" + ports.get(id)[1];
    }

    /** Node {@code id}'s address as {@code member add --address} takes it. */
    String memberAddress(long id) {
        return "127.0.0.1:" + ports.get(id)[0] + "/" + ports.get(id)[1];
    }

    /** The client addresses of {@code ids}, comma-separated (for {@code -c}). */
    String cluster(long... ids) {
        List<String> parts = new ArrayList<>();
        for (long id : ids) {
            parts.add(client(id));
        }
        return String.join(",", parts);
    }

    /**
     * Starts node {@code id} on {@code data}, founding a cluster of {@code bootstrap} (null: none),
     * with {@code peers}' addresses and {@code extra} arguments ({@code --sm sql}); returns once it serves.
     */
    Running start(long id, Path data, String bootstrap, List<String> extra, long... peers) throws Exception {
        List<String> peerList = new ArrayList<>();
        for (long p : peers) {
            peerList.add(p + "=" + memberAddress(p));
        }
        List<String> args = new ArrayList<>(List.of("--id", String.valueOf(id), "--listen", "127.0.0.1:" + ports.get(id)[0],
                "--client-listen", client(id), "--peers", String.join(",", peerList), "--data", data.toString(),
                "--cluster-id", CLUSTER, "--tick-ms", "50"));
        if (insecureAdmin) {
            args.add("--insecure-admin");
        }
        if (bootstrap != null) {
            args.addAll(List.of("--bootstrap", bootstrap));
        }
        if (defaultBackupRoot && !extra.contains("--backup-root")) {
            args.addAll(List.of("--backup-root", data.toAbsolutePath().resolveSibling("backups").toString()));
        }
        args.addAll(extra);
        ServerCommand command = new ServerCommand();
        CommandLine cl = new CommandLine(command);
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread t = new Thread(() -> exit.complete(cl.execute(args.toArray(String[]::new))), "server-" + id);
        t.setDaemon(true);
        t.start();
        command.ready.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        Running r = new Running(command, exit, out);
        servers.put(id, r);
        return r;
    }

    /** Node {@code id}'s running server command. */
    Running running(long id) {
        return servers.get(id);
    }

    /** Stops node {@code id} as SIGTERM would and checks it exited 0. */
    void stop(long id) throws Exception {
        Running r = servers.remove(id);
        r.command().stop();
        assertEquals(0, r.exit().get(WAIT.toSeconds(), TimeUnit.SECONDS), r.out().toString());
    }

    /** A client command against {@code addresses}, with a generous timeout. */
    static CliRun cliAt(String addresses, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-c", addresses, "--cluster-id", CLUSTER, "--timeout", "20"));
        return CliRun.of(all.toArray(String[]::new));
    }

    @Override
    public void close() {
        servers.values().forEach(r -> r.command().stop());
        servers.clear();
    }
}
