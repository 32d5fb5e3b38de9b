package dev.raftkit.cli;

import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.core.Role;
import dev.raftkit.core.SnapshotSource;
import dev.raftkit.grpc.TlsConfig;
import dev.raftkit.node.BackupPolicy;
import dev.raftkit.node.HostPort;
import dev.raftkit.node.RaftNode;
import dev.raftkit.runtime.RaftListener;
import dev.raftkit.runtime.ServerStatus;
import dev.raftkit.storage.PrivateFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code raftkit server}: runs one node (key-value or SQL, {@code --sm}) until SIGTERM or Ctrl-C.
 * Its client port also serves the admin service (backups into a directory under
 * {@code --backup-root} on this host, peers added at run time).
 */
@Command(name = "server", mixinStandardHelpOptions = true,
        description = {"Run one node of a key-value (--sm kv, default) or SQL (--sm sql) cluster until SIGTERM or Ctrl-C (then shut down gracefully). "
                + "Prints one line when it is ready, then a line whenever its role, term or leader changes. "
                + "Its client port serves clients (raftkit kv or sql, status, member, transfer) and the node's admin calls "
                + "(raftkit backup full|differential|incremental: the backup is written by this node, on this host, only under its --backup-root; "
                + "with --backup-schedule the node also takes them itself, raftkit backup policy shows what it did)."},
        footer = {"", "Peers: ID=PEER_HOST:PEER_PORT/CLIENT_PORT (client port on the same host) or",
                "       ID=PEER_HOST:PEER_PORT/CLIENT_HOST:CLIENT_PORT, comma-separated.",
                "A node with no state founds the cluster with --bootstrap (every founder names",
                "the same voters); without it, it waits to be added (raftkit member add).",
                "--bootstrap is ignored once a node has state.",
                "", "Security: with --tls-cert/--tls-key/--tls-ca (mutual TLS; mint the files with",
                "raftkit certs) the certificate must name this node (raftkit://CLUSTER/node/ID);",
                "the peer port admits only node certificates, and only as the node they name;",
                "admin calls need an admin certificate. Without TLS, admin calls are refused",
                "unless --insecure-admin is given. Certificate files are re-read when they change.",
                "--http serves metrics and status read-only, to anyone who reaches it: keep it",
                "on loopback or a trusted network.",
                "", "Exit codes: 0 stopped by a signal, 1 the node failed (or could not start),",
                "2 bad arguments.",
                "", "Example (node 1 of 3; nodes 2 and 3 likewise, see the README):",
                "  raftkit server --id 1 --listen 127.0.0.1:7001 --client-listen 127.0.0.1:8001 \\",
                "      --peers 2=127.0.0.1:7002/8002,3=127.0.0.1:7003/8003 \\",
                "      --data data/n1 --cluster-id demo --bootstrap 1,2,3"})
final class ServerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--id", required = true, paramLabel = "N", description = "This node's id (a positive number, unique in the cluster).")
    long id;

    @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", description = "Address for the other nodes (Raft traffic).")
    String listen;

    @Option(names = "--client-listen", required = true, paramLabel = "HOST:PORT", description = "Address for clients and admin calls.")
    String clientListen;

    @Option(names = "--peers", paramLabel = "LIST", defaultValue = "",
            description = "The other nodes: ID=HOST:PORT/CLIENT_PORT or ID=HOST:PORT/CLIENT_HOST:CLIENT_PORT, comma-separated.")
    String peers;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Data directory (log/ and snapshots/); created if missing.")
    Path data;

    @Option(names = "--cluster-id", required = true, paramLabel = "NAME", description = "The cluster's name; nodes and clients of other clusters are refused.")
    String clusterId;

    @Option(names = "--bootstrap", paramLabel = "IDS", split = ",",
            description = "Found a new cluster of these voters (comma-separated ids, this node among them) if this node has no state.")
    List<Long> bootstrap = List.of();

    @Option(names = "--sm", paramLabel = "KIND", defaultValue = "kv",
            description = "State machine: kv (the key-value store, default) or sql (replicated SQLite; use raftkit sql)."
                    + " Every node of a cluster runs the same one.")
    String stateMachine;

    @Option(names = "--tick-ms", paramLabel = "MS", defaultValue = "100",
            description = "Tick length in ms; elections time out after 10-20 ticks (default 100).")
    long tickMillis;

    @Option(names = "--disk-stall-ticks", paramLabel = "TICKS", defaultValue = "20",
            description = "Ticks the log writer may hold a write unfinished (a hung fsync) before the node counts its disk"
                    + " as stalled: a leader then steps down, handing leadership to a caught-up follower, and the node"
                    + " stays out of elections until a write finishes (default 20, two election timeouts). Set it above"
                    + " the slowest fsync the disk takes when healthy.")
    int diskStallTicks;

    @Option(names = "--disk-slow", paramLabel = "DURATION", defaultValue = "1s", converter = DurationConverter.class,
            description = "The longest one log write or fsync may take: a leader whose write takes longer steps down,"
                    + " handing leadership to a caught-up follower (default 1s; a healthy SSD syncs in under 10ms, a"
                    + " loaded spinning disk in about 100ms).")
    Duration diskSlow;

    @Option(names = "--snapshot-source", paramLabel = "leader|peers", defaultValue = "leader",
            description = "Who streams a lagging follower the snapshot it needs while this node leads: leader (default),"
                    + " or peers: an up-to-date follower or learner the leader names streams its own snapshot, sparing"
                    + " the leader's bandwidth; the leader sends its own when none qualifies or the peer's transfer is"
                    + " not acknowledged within 100 ticks. Give every node the same value.")
    String snapshotSource;

    @Option(names = "--disk-stuck-ticks", paramLabel = "TICKS", defaultValue = "300",
            description = "Ticks the log writer may hold a write unfinished before the node fails stop (exit 1) so a"
                    + " supervisor restarts it; above --disk-stall-ticks (default 300, thirty election timeouts).")
    int diskStuckTicks;

    @Option(names = "--min-free-disk", paramLabel = "BYTES", defaultValue = "256MiB",
            description = "Free-space watermark of the --data disk: below it, a leader refuses new writes with DISK_FULL"
                    + " (retryable; replication and elections go on, nothing accepted is lost) until a quarter more is"
                    + " free. Bytes, or with KiB, MiB, GiB; 0 turns it off (default 256MiB).")
    String minFreeDisk;

    @Option(names = "--backup-root", paramLabel = "DIR",
            description = "Allow backups (raftkit backup full|incremental), written only under DIR on this host (created"
                    + " if missing, private to this user; outside --data). Without it, the node refuses backup calls.")
    Path backupRoot;

    @Option(names = "--backup-schedule", paramLabel = "KIND=EVERY,...",
            description = "Take backups on a schedule into --backup-root, e.g. full=7d,differential=1d,incremental=1h"
                    + " (kinds full, differential, incremental; a kind left out is not scheduled). Run by this node's"
                    + " scheduler thread; every node given a schedule backs itself up into its own root. raftkit backup"
                    + " policy shows what ran, failed and is due.")
    String backupSchedule;

    @Option(names = "--backup-keep-chains", paramLabel = "N", defaultValue = "0",
            description = "With --backup-schedule: after each scheduled backup keep the N newest chains (a full backup"
                    + " and the backups that follow it) and delete older whole chains, full backup first (default 0:"
                    + " keep all).")
    int backupKeepChains;

    @Option(names = "--backup-stall", paramLabel = "DURATION", defaultValue = "10m", converter = DurationConverter.class,
            description = "Fail a backup once the node has waited this long on its own server with nothing done (no"
                    + " snapshot, no batch of entries); there is no limit on a backup's total time (default 10m: above"
                    + " the time a large state takes to snapshot).")
    java.time.Duration backupStall;

    @Option(names = "--backup-key", paramLabel = "FILE",
            description = "Encrypt every backup with the key in FILE (AES-256-GCM, authenticated manifests; create one"
                    + " with raftkit backup keygen --out FILE). Reading them needs the same file: --key on backup verify"
                    + " and restore.")
    Path backupKey;

    @Mixin
    TlsOptions tlsOptions;

    private SnapshotSource snapshotSource(CommandLine cl) {
        return switch (snapshotSource) {
            case "leader" -> SnapshotSource.LEADER;
            case "peers" -> SnapshotSource.PEERS;
            default -> throw new ParameterException(cl, "--snapshot-source must be leader or peers, got '"
                    + snapshotSource + "'");
        };
    }

    @Option(names = "--http", paramLabel = "HOST:PORT",
            description = "Serve the read-only HTTP port here: /metrics (Prometheus), /health (200 ready, 503 not),"
                    + " /status (JSON) and a status page at /. No authentication and no TLS: bind it to loopback or a"
                    + " trusted network. Off by default.")
    String http;

    @Option(names = "--insecure-admin",
            description = "Let callers without a certificate make admin calls (member, transfer, backup, peers) on the"
                    + " client port. Without TLS these are refused unless this is given; use it only on a network"
                    + " where everyone is trusted. Logged as a warning at start.")
    boolean insecureAdmin;

    /** Completes with the node once it serves (tests wait on it); fails if it could not start. */
    final CompletableFuture<RaftNode> ready = new CompletableFuture<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile RaftNode node;
    private volatile BackupPolicy backupPolicy = BackupPolicy.none();
    private StateMachineKind kind;
    private Thread hook;
    private boolean closed;

    @Override
    public Integer call() {
        CommandLine cl = spec.commandLine();
        RaftNode.Builder nodeSpec = nodeSpec(cl);
        PrintWriter out = cl.getOut();
        try {
            PrivateFiles.createDirectories(data);
        } catch (IOException e) {
            ready.completeExceptionally(e);
            return fail("cannot create the data directory " + data.toAbsolutePath() + ": " + e.getMessage());
        }
        BackupPolicy backups;
        try {
            backups = BackupPolicy.open(backupRoot, backupKey, data);
        } catch (IllegalArgumentException e) {
            ready.completeExceptionally(e);
            throw new ParameterException(cl, e.getMessage());
        } catch (IOException e) {
            ready.completeExceptionally(e);
            return fail("cannot create the backup root " + backupRoot.toAbsolutePath() + ": " + e.getMessage());
        }
        backupPolicy = backups;
        if (backupSchedule != null) {
            if (!backups.enabled()) {
                ready.completeExceptionally(new IllegalArgumentException("--backup-schedule without --backup-root"));
                throw new ParameterException(cl, "--backup-schedule needs --backup-root DIR: the directory the scheduled"
                        + " backups go into");
            }
            if (backupKeepChains < 0) {
                ready.completeExceptionally(new IllegalArgumentException("--backup-keep-chains"));
                throw new ParameterException(cl, "--backup-keep-chains must not be negative, got " + backupKeepChains);
            }
            try {
                nodeSpec.backupSchedule(dev.raftkit.storage.backup.BackupSchedule.parse(backupSchedule),
                        backupKeepChains);
            } catch (IllegalArgumentException e) {
                ready.completeExceptionally(e);
                throw new ParameterException(cl, "--backup-schedule: " + e.getMessage());
            }
        } else if (backupKeepChains != 0) {
            ready.completeExceptionally(new IllegalArgumentException("--backup-keep-chains without --backup-schedule"));
            throw new ParameterException(cl, "--backup-keep-chains is applied after each scheduled backup: give"
                    + " --backup-schedule too");
        }
        if (backupStall.isNegative() || backupStall.isZero()) {
            ready.completeExceptionally(new IllegalArgumentException("--backup-stall"));
            throw new ParameterException(cl, "--backup-stall must be positive, got " + backupStall);
        }
        nodeSpec.backupStall(backupStall);
        try {
            // A live restore rebuilds the backup's state in a fresh state machine of the same kind
            // that writes no files (SQL's table backups) of its own, never into the node's.
            node = nodeSpec.backups(backups).stateMachine(kind.create(data, clusterId, backups))
                    .stateMachineFactory(kind::createScratch).listener(new Narrator(out)).start();
        } catch (IOException | UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
            ready.completeExceptionally(e);
            return fail("node " + id + " could not start: " + e.getMessage());
        }
        hook = new Thread(this::shutdown, "raftkit-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.println(readyLine(node));
        out.flush();
        ready.complete(node);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Stopped by a signal (already closed), by stop(), or by a failure (closed here, not on
        // the server's events thread that reported it).
        removeHook();
        closeNode();
        Throwable cause = failure.get();
        if (cause != null) {
            return fail("node " + id + " stopped after a failure: " + cause);
        }
        out.println("node " + id + " stopped");
        out.flush();
        return 0;
    }

    /** Stops the node as SIGTERM would (tests); returns once it is down. */
    void stop() {
        removeHook();
        shutdown();
    }

    /** The shutdown hook's work: close the node, then let {@link #call} return. */
    private void shutdown() {
        closeNode();
        stopped.countDown();
    }

    private synchronized void closeNode() {
        if (!closed && node != null) {
            closed = true;
            node.close();
        }
    }

    private void removeHook() {
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is exiting: the hook runs (or ran) anyway.
            }
        }
    }

    private int fail(String message) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("raftkit server: " + message);
        err.flush();
        return 1;
    }

    private String readyLine(RaftNode n) {
        ServerStatus s = n.server().status();
        String state;
        if (s.lastIndex() == 0 && s.recovering() && !n.bootstrap().isEmpty()) {
            state = "RECOVERING: the data directory is empty but the cluster already exists, so it was not founded"
                    + " again; this node neither votes nor counts toward commits until a leader has caught it up."
                    + " Start it without --bootstrap from now on";
        } else if (s.lastIndex() == 0) {
            state = "no state yet: waiting to be added (raftkit member add " + id + " --address ...)";
        } else {
            // The configuration is known once applied; a founder has only just written its entries.
            state = (s.conf().voters().isEmpty() ? "" : "voters " + s.conf().voters() + ", ") + "log to "
                    + s.lastIndex() + ", applied " + s.applied();
        }
        return "node " + id + " of cluster '" + clusterId + "' (" + kind.cliName()
                + ") ready: peers on " + HostPort.format(n.peerAddress())
                + ", clients on " + n.clientHostPort()
                + (n.httpPort() == null ? "" : ", HTTP on http://" + n.httpPort().hostPort() + "/")
                + ", data " + data.toAbsolutePath()
                + (backupPolicy.enabled() ? ", backups under " + backupPolicy.root()
                        + (backupPolicy.key() == null ? "" : " (encrypted, key id " + backupPolicy.key().id() + ")")
                        : ", backups off (no --backup-root)") + "; " + state;
    }

    /** The node's settings from the options, refusing bad ones; its state machine and backups come once the directories exist. */
    /** {@code 268435456}, {@code 256MiB}, {@code 64KiB}, {@code 1GiB}: a byte count for {@code option}. */
    static long bytes(CommandLine cl, String value, String option) {
        String v = value.trim();
        long unit = 1;
        for (String[] u : new String[][] {{"KiB", "1024"}, {"MiB", "1048576"}, {"GiB", "1073741824"}}) {
            if (v.endsWith(u[0])) {
                unit = Long.parseLong(u[1]);
                v = v.substring(0, v.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            long n = Long.parseLong(v);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new ParameterException(cl, option + ": '" + value + "' is not a byte count; give a whole number of"
                    + " bytes, or one with KiB, MiB or GiB (256MiB), or 0 for off");
        }
    }

    private RaftNode.Builder nodeSpec(CommandLine cl) {
        if (id <= 0) {
            throw new ParameterException(cl, "--id must be a positive number, got " + id);
        }
        try {
            kind = StateMachineKind.parse(stateMachine);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, "--sm: " + e.getMessage());
        }
        if (diskStallTicks < 1) {
            throw new ParameterException(cl, "--disk-stall-ticks must be at least 1, got " + diskStallTicks);
        }
        if (diskStuckTicks <= diskStallTicks) {
            throw new ParameterException(cl, "--disk-stuck-ticks (" + diskStuckTicks + ") must exceed --disk-stall-ticks ("
                    + diskStallTicks + "): a stalled disk first makes the node step down, only a stuck one stops it");
        }
        if (diskSlow.toMillis() < 1) {
            throw new ParameterException(cl, "--disk-slow must be at least 1ms, got " + diskSlow.toMillis() + "ms");
        }
        long minFree = bytes(cl, minFreeDisk, "--min-free-disk");
        if (tickMillis < 1 || tickMillis > 10_000) {
            throw new ParameterException(cl, "--tick-ms must be in 1..10000, got " + tickMillis);
        }
        if (Files.exists(data) && !Files.isDirectory(data)) {
            throw new ParameterException(cl, "--data: " + data.toAbsolutePath() + " exists and is not a directory");
        }
        if (clusterId.isBlank()) {
            throw new ParameterException(cl, "--cluster-id must not be empty");
        }
        InetSocketAddress peerListen = address(cl, listen, "--listen");
        InetSocketAddress clientAddress = address(cl, clientListen, "--client-listen");
        InetSocketAddress httpAddress = http == null ? null : address(cl, http, "--http");
        if (httpAddress != null && httpAddress.isUnresolved()) {
            throw new ParameterException(cl, "--http '" + http + "': host '" + httpAddress.getHostString()
                    + "' is unknown; name an address of this host (for example 127.0.0.1:9001)");
        }
        Map<Long, InetSocketAddress> peerAddresses = new TreeMap<>();
        Map<Long, String> clientAddresses = new TreeMap<>();
        parsePeers(cl, peerAddresses, clientAddresses);
        Set<Long> founders = new LinkedHashSet<>(bootstrap);
        if (!founders.isEmpty()) {
            if (!founders.contains(id)) {
                throw new ParameterException(cl, "--bootstrap " + bootstrap + " does not include this node (--id " + id
                        + "); a founder is one of the voters it names");
            }
            for (long f : founders) {
                if (f <= 0) {
                    throw new ParameterException(cl, "--bootstrap: node ids are positive, got " + f);
                }
                if (f != id && !peerAddresses.containsKey(f)) {
                    throw new ParameterException(cl, "--bootstrap names node " + f + " but --peers does not say where it"
                            + " listens; add " + f + "=HOST:PORT/CLIENT_PORT to --peers");
                }
            }
        }
        TlsConfig tls = tlsOptions.config(cl);
        if (tls != null) {
            tlsOptions.checkNodeCertificate(cl, clusterId, id);
        }
        try {
            RaftNode.Builder b = RaftNode.builder(clusterId, id).dataDir(data).peerListen(peerListen)
                    .clientListen(clientAddress).bootstrap(founders).tls(tls).tickMillis(tickMillis)
                    .insecureAdmin(insecureAdmin).diskStallTicks(diskStallTicks).diskSlowMillis(diskSlow.toMillis())
                    .diskStuckTicks(diskStuckTicks).minFreeDiskBytes(minFree)
                    .snapshotSource(snapshotSource(cl));
            peerAddresses.forEach((peer, address) -> b.peer(peer, address, clientAddresses.get(peer)));
            if (httpAddress != null) {
                b.http(httpAddress);
            }
            return b;
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
    }

    private void parsePeers(CommandLine cl, Map<Long, InetSocketAddress> peerAddresses, Map<Long, String> clientAddresses) {
        if (peers.isBlank()) {
            return;
        }
        for (String item : peers.split(",")) {
            String entry = item.trim();
            int eq = entry.indexOf('=');
            int slash = entry.indexOf('/');
            if (eq <= 0 || slash < eq) {
                throw new ParameterException(cl, "--peers: '" + entry + "' is not ID=HOST:PORT/CLIENT_PORT (for example"
                        + " 2=127.0.0.1:7002/8002)");
            }
            long peer;
            try {
                peer = Long.parseLong(entry.substring(0, eq));
            } catch (NumberFormatException e) {
                throw new ParameterException(cl, "--peers: '" + entry + "': node id '" + entry.substring(0, eq)
                        + "' is not a number");
            }
            if (peer <= 0 || peer == id) {
                throw new ParameterException(cl, "--peers: '" + entry + "': a peer id is positive and not this node's"
                        + " own (--id " + id + ")");
            }
            if (peerAddresses.containsKey(peer)) {
                throw new ParameterException(cl, "--peers names node " + peer + " twice");
            }
            InetSocketAddress peerAddress = address(cl, entry.substring(eq + 1, slash), "--peers: node " + peer + "'s peer address");
            String client = entry.substring(slash + 1);
            String clientHostPort;
            if (client.contains(":")) {
                clientHostPort = HostPort.format(address(cl, client, "--peers: node " + peer + "'s client address"));
            } else {
                try {
                    clientHostPort = peerAddress.getHostString() + ":"
                            + HostPort.port(client, "--peers: node " + peer + "'s client port");
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(cl, e.getMessage());
                }
            }
            peerAddresses.put(peer, peerAddress);
            clientAddresses.put(peer, clientHostPort);
        }
    }

    private static InetSocketAddress address(CommandLine cl, String text, String what) {
        try {
            return HostPort.parse(text, what);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(cl, e.getMessage());
        }
    }

    /** Prints role, term and leader changes, and a failure that stops the node. */
    private final class Narrator implements RaftListener {
        private final PrintWriter out;

        Narrator(PrintWriter out) {
            this.out = out;
        }

        @Override
        public void onRoleChange(Role role, long term, long leader) {
            out.println("node " + id + ": " + role.name().toLowerCase() + " in term " + term + ", leader "
                    + (leader == 0 ? "unknown" : String.valueOf(leader)));
            out.flush();
        }

        @Override
        public void onStopped(Throwable cause) {
            if (cause != null) {
                failure.compareAndSet(null, cause);
                stopped.countDown();
            }
        }
    }
}
