package dev.raftkit.benchpeers.sofajraft;

import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.RaftGroupService;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.option.NodeOptions;
import dev.raftkit.benchpeers.PeerBench;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * SOFAJRaft 1.3.15.bugfix on raftkit bench's workload ({@link PeerBench}): 3 nodes in this JVM,
 * Bolt RPC between them on loopback, the default RocksDB log with {@code sync=true}, an
 * in-memory key-value state machine. One client mode, {@code in-process}: a client thread calls
 * {@code leader.apply(task)} and waits for the task's closure, which the leader's state machine
 * runs after commit and apply (SOFAJRaft has no client RPC of its own; compare with Raftkit's
 * in-process mode). SOFAJRaft exposes no sync count: those columns are NaN. Elections are the
 * highest term a state machine saw leadership start in.
 */
public final class SofaJraftBench implements PeerBench.Library {

    /** {@code java -jar bench-sofajraft.jar --help} lists the options. */
    public static void main(String[] args) {
        PeerBench.main(new SofaJraftBench(), args);
    }

    @Override
    public String name() {
        return "sofajraft";
    }

    @Override
    public List<String> modes() {
        return List.of("in-process");
    }

    @Override
    public PeerBench.Cluster start(Path dir) throws Exception {
        return new Cluster(dir);
    }

    /**
     * The key-value store: SOFAJRaft calls {@link #onApply} on its FSM caller thread, in log order,
     * and {@link #onLeaderStart} there too when this node becomes leader.
     */
    private static final class KvFsm extends StateMachineAdapter {
        final ConcurrentHashMap<String, byte[]> map = new ConcurrentHashMap<>();
        final AtomicLong leaderTerm;

        KvFsm(AtomicLong leaderTerm) {
            this.leaderTerm = leaderTerm;
        }

        @Override
        public void onApply(Iterator it) {
            while (it.hasNext()) {
                ByteBuffer data = it.getData();
                if (data != null && data.remaining() >= 2) {
                    ByteBuffer d = data.duplicate();
                    int keyLen = ((d.get() & 0xff) << 8) | (d.get() & 0xff);
                    byte[] k = new byte[keyLen];
                    d.get(k);
                    byte[] v = new byte[d.remaining()];
                    d.get(v);
                    map.put(new String(k, StandardCharsets.UTF_8), v);
                }
                if (it.done() != null) {
                    it.done().run(Status.OK());
                }
                it.next();
            }
        }

        @Override
        public void onLeaderStart(long term) {
            leaderTerm.accumulateAndGet(term, Math::max);
            super.onLeaderStart(term);
        }
    }

    private static final class Cluster implements PeerBench.Cluster {
        final List<RaftGroupService> services = new ArrayList<>();
        final List<Node> nodes = new ArrayList<>();
        final AtomicLong leaderTerm = new AtomicLong();
        final Node leader;

        Cluster(Path dir) throws Exception {
            int[] ports = PeerBench.freePorts(3);
            StringBuilder peers = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                peers.append(i == 0 ? "" : ",").append("127.0.0.1:").append(ports[i]);
            }
            Configuration conf = new Configuration();
            if (!conf.parse(peers.toString())) {
                throw new IllegalStateException("SOFAJRaft did not parse the configuration " + peers);
            }
            String group = "bench-" + Long.toHexString(System.nanoTime());
            for (int i = 0; i < 3; i++) {
                Path nd = Files.createDirectories(dir.resolve("n" + i));
                NodeOptions opts = new NodeOptions();
                opts.setFsm(new KvFsm(leaderTerm));
                opts.setLogUri(nd.resolve("log").toString());
                opts.setRaftMetaUri(nd.resolve("meta").toString());
                opts.setInitialConf(conf.copy());
                // No snapshot URI: snapshots off, as in the other harnesses (the log is the durable state).
                RaftGroupService svc = new RaftGroupService(group, new PeerId("127.0.0.1", ports[i]), opts);
                services.add(svc);
                nodes.add(svc.start());
            }
            leader = nodes.get(PeerBench.awaitLeader(() -> {
                for (int i = 0; i < nodes.size(); i++) {
                    if (nodes.get(i).isLeader()) {
                        return i;
                    }
                }
                return -1;
            }));
        }

        @Override
        public PeerBench.Client client(String mode, int thread) {
            return cmd -> {
                CompletableFuture<Status> done = new CompletableFuture<>();
                leader.apply(new Task(ByteBuffer.wrap(cmd), done::complete));
                return done.get(10, TimeUnit.SECONDS).isOk();
            };
        }

        @Override
        public long term() {
            return leaderTerm.get();
        }

        @Override
        public void close() {
            for (RaftGroupService svc : services) {
                try {
                    svc.shutdown();
                } catch (RuntimeException e) {
                    System.err.println("sofajraft: shutting a node down failed: " + e);
                }
            }
            for (RaftGroupService svc : services) {
                try {
                    svc.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
