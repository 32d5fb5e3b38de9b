package dev.raftkit.cli.jepsen;

import dev.raftkit.runtime.RaftListener;
import dev.raftkit.cli.node.StateMachineKind;
import dev.raftkit.jepsen.real.BackupNemesis;
import dev.raftkit.jepsen.real.DiskControl;
import dev.raftkit.jepsen.real.PowerLossFileIo;
import dev.raftkit.node.BackupPolicy;
import dev.raftkit.node.RaftNode;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.sql.SqlStateMachine;
import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.SegmentedLogStorage;
import dev.raftkit.storage.StorageTestingHooks;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One node process (key-value or SQL) for the real-process Jepsen harness ({@code raftkit jepsen}); not a
 * user-facing command. It runs a {@code RaftNode} with small log segments (so segments roll and
 * the disk nemesis finds closed ones to corrupt) and small caches (so five of them fit in a
 * 2-core CI box), and it exits when the runner that started it is gone.
 * {@code raftkit jepsen --node server} runs {@code raftkit server} instead: the harness only needs
 * a command line.
 *
 * <p>Arguments ({@code --name value}): {@code --id}, {@code --cluster-id}, {@code --data},
 * {@code --listen host:port} (peers), {@code --client-listen host:port},
 * {@code --peers 2=host:port,3=host:port}, {@code --clients 1=host:port,…},
 * optional {@code --bootstrap 1,2,3}, {@code --segment-bytes}, {@code --tick-ms},
 * {@code --sm kv|sql} (the state machine, {@link StateMachineKind}; default kv), and the
 * testing-only {@code --testing-disk-control FILE}: the log opens over a {@link DiskControl},
 * through which the harness stalls its fsyncs or reports its disk filled at run time; the
 * testing-only {@code --testing-lose-unsynced true}: the log and the snapshots go through a
 * {@link PowerLossFileIo}, so a SIGKILL loses what a power cut would (rolled back at the next
 * start, before the node opens anything); and the testing-only planted bug {@code
 * --testing-lazy-fsync-ms N} ({@link StorageTestingHooks#lazyEntriesFsyncMillis}: the log forces
 * its entries at most every N ms and acknowledges the rest), which only a power loss can expose; and
 * {@code --testing-split-sql-transactions true} (with {@code --sm sql} only): the planted
 * isolation bug {@link SqlStateMachine#testingOnlySplitTransactions}, which the harness's
 * transactional checker must name.
 * Serves the admin service, whose {@code AddPeer} lets the harness introduce a new node, and
 * whose backup calls write under the backup root {@code DATA-backups} (a sibling of the data
 * directory, so the backup nemesis's chains outlive a wiped node).
 * Prints {@code READY} on stdout once both listeners are up. Exit code 3: the node could not
 * start (for example its log is corrupt); the reason is on stderr. Exit code 4: the harness that
 * started it is gone. Exit code 5: the node failed stop while running (the reason is on stderr).
 */
public final class JepsenNodeMain {

    private JepsenNodeMain() {
    }

    public static void main(String[] args) {
        Map<String, String> a = parse(args);
        long id = Long.parseLong(required(a, "id"));
        try {
            String clusterId = required(a, "cluster-id");
            long segmentBytes = Long.parseLong(a.getOrDefault("segment-bytes", String.valueOf(1 << 20)));
            Map<Long, InetSocketAddress> peers = new TreeMap<>();
            hostPorts(a.getOrDefault("peers", "")).forEach((peer, hp) -> peers.put(peer, address(hp)));
            Set<Long> voters = new TreeSet<>();
            for (String v : a.getOrDefault("bootstrap", "").split(",")) {
                if (!v.isBlank()) {
                    voters.add(Long.parseLong(v.trim()));
                }
            }
            Path data = Path.of(required(a, "data"));
            String control = a.get("testing-disk-control");
            FileIo disk = control == null ? FileIo.real() : new DiskControl(Path.of(control));
            // TESTING ONLY: opened (and the last process's unsynced writes rolled back) before
            // anything of the node reads its data directory.
            PowerLossFileIo powerLoss = flag(a, "testing-lose-unsynced")
                    ? PowerLossFileIo.open(data, PowerLossFileIo.journalDir(data), disk) : null;
            long lazyFsync = Long.parseLong(a.getOrDefault("testing-lazy-fsync-ms", "0"));
            StorageTestingHooks hooks = lazyFsync == 0 ? StorageTestingHooks.NONE : new StorageTestingHooks() {
                @Override
                public long lazyEntriesFsyncMillis() {
                    return lazyFsync;
                }
            };
            RaftNode.Builder b = RaftNode.builder(clusterId, id).dataDir(Path.of(required(a, "data")))
                    .peerListen(address(required(a, "listen"))).clientListen(address(required(a, "client-listen")))
                    .bootstrap(voters).tickMillis(Long.parseLong(a.getOrDefault("tick-ms", "20")))
                    // The harness runs plaintext on loopback and changes membership and peers
                    // (admin calls, AddPeer among them) as its nemesis replaces nodes.
                    .insecureAdmin(true)
                    // A node that fails stop (a stuck disk, a failed write) exits, as raftkit server
                    // does, so the harness sees it dead and restarts it on healing.
                    .listener(new RaftListener() {
                        @Override
                        public void onStopped(Throwable cause) {
                            if (cause != null) {
                                System.err.println("node " + id + " failed stop: " + cause + "; exiting");
                                System.err.flush();
                                Runtime.getRuntime().halt(5);
                            }
                        }
                    })
                    .backups(BackupPolicy.open(BackupNemesis.backupRoot(Path.of(required(a, "data"))), null,
                            Path.of(required(a, "data"))))
                    .stateMachine(stateMachine(a))
                    .configure(c -> c.snapshotThresholds(20_000, 16L << 20).shutdownTimeout(Duration.ofSeconds(5)))
                    .logStorage(dir -> {
                        SegmentedLogStorage.Options options = SegmentedLogStorage.Options.defaults()
                                .withSegmentBytes(segmentBytes).withCacheBytes(8L << 20).withCompactionMargin(2_000);
                        // TESTING ONLY: the harness's injected stall and fill (DiskControl's javadoc),
                        // power loss (PowerLossFileIo's) and planted bug.
                        if (powerLoss != null) {
                            return SegmentedLogStorage.open(powerLoss, dir, options.withPreallocate(false), hooks);
                        }
                        return control == null && hooks == StorageTestingHooks.NONE
                                ? SegmentedLogStorage.open(dir, options)
                                : SegmentedLogStorage.open(disk, dir, options.withPreallocate(false), hooks);
                    });
            if (powerLoss != null) {
                b.snapshotFileIo(powerLoss);
            }
            Map<Long, String> clients = hostPorts(a.getOrDefault("clients", ""));
            peers.forEach((peer, address) -> {
                if (clients.containsKey(peer)) {
                    b.peer(peer, address, clients.get(peer));
                } else {
                    b.peer(peer, address);
                }
            });
            RaftNode node = b.start();
            // SIGTERM (the harness's orderly stop) closes files; SIGKILL is the nemesis and skips this.
            Runtime.getRuntime().addShutdownHook(new Thread(node::close, "jepsen-node-shutdown"));
            System.out.println("READY node " + id + " peers " + node.peerAddress() + " clients " + node.clientHostPort());
            System.out.flush();
            watchParent();
        } catch (Exception e) {
            System.err.println("node " + id + " could not start: " + e);
            e.printStackTrace();
            System.err.flush();
            Runtime.getRuntime().halt(3);
        }
    }

    /**
     * The state machine {@code --sm} names; with the testing-only split switch, the SQL state
     * machine with its planted isolation bug (it logs a warning that it is testing only).
     */
    private static StateMachine stateMachine(Map<String, String> a) {
        StateMachineKind kind = StateMachineKind.parse(a.getOrDefault("sm", "kv"));
        Path data = Path.of(required(a, "data"));
        boolean split = Boolean.parseBoolean(a.getOrDefault("testing-split-sql-transactions", "false"));
        if (!split) {
            return kind.create(data);
        }
        if (kind != StateMachineKind.SQL) {
            throw new IllegalArgumentException("--testing-split-sql-transactions plants a bug in the SQL state machine;"
                    + " it needs --sm sql, got --sm " + kind.cliName());
        }
        // TESTING ONLY: no table artifacts, as the workload takes no backups.
        return SqlStateMachine.testingOnlySplitTransactions(data.resolve("sql-backups"), null);
    }

    /**
     * Serves until the harness stops this process — or dies without doing so (SIGKILLed, say, so
     * its shutdown hook never ran): then this node exits too, rather than linger as a stray.
     */
    private static void watchParent() throws InterruptedException {
        java.util.Optional<ProcessHandle> parent = ProcessHandle.current().parent();
        while (parent.map(ProcessHandle::isAlive).orElse(false)) {
            Thread.sleep(1000);
        }
        System.err.println("the harness process is gone; node exiting");
        Runtime.getRuntime().halt(4);
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected '--name value' pairs, got '" + args[i] + "' at position " + i);
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }

    /** A testing-only switch, {@code --name true}; anything but true or false is refused. */
    private static boolean flag(Map<String, String> a, String name) {
        String v = a.getOrDefault(name, "false");
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException("--" + name + " takes true or false, got '" + v + "'");
        }
        return v.equals("true");
    }

    private static String required(Map<String, String> a, String name) {
        String v = a.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return v;
    }

    private static Map<Long, String> hostPorts(String list) {
        Map<Long, String> m = new TreeMap<>();
        for (String item : list.split(",")) {
            if (item.isBlank()) {
                continue;
            }
            int eq = item.indexOf('=');
            m.put(Long.parseLong(item.substring(0, eq).trim()), item.substring(eq + 1).trim());
        }
        return m;
    }

    private static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
