package dev.raftkit.benchpeers.ratis;

import dev.raftkit.benchpeers.PeerBench;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.metrics.RatisMetrics;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Apache Ratis 3.3.0 on raftkit bench's workload ({@link PeerBench}): 3 servers in this JVM, gRPC
 * between them on loopback, Ratis' default segmented log (fsync before an entry counts as
 * flushed, group commit), {@link KvStateMachine}. Client modes: {@code grpc}, a Ratis
 * {@code RaftClient} per client thread with blocking {@code io().send()} (as Raftkit's
 * per-thread gRPC clients); {@code in-process}, {@code submitClientRequestAsync} on the leader
 * (no client RPC). Syncs are Ratis' {@code flushCount} log metric.
 */
public final class RatisBench implements PeerBench.Library {

    /** {@code java -jar bench-ratis.jar --help} lists the options. */
    public static void main(String[] args) {
        PeerBench.main(new RatisBench(), args);
    }

    @Override
    public String name() {
        return "ratis";
    }

    @Override
    public List<String> modes() {
        return List.of("grpc", "in-process");
    }

    @Override
    public PeerBench.Cluster start(Path dir) throws Exception {
        return new Cluster(dir);
    }

    private static final class Cluster implements PeerBench.Cluster {
        final RaftGroup group;
        final List<RaftPeer> peers = new ArrayList<>();
        final List<RaftServer> servers = new ArrayList<>();
        final int leader;

        Cluster(Path dir) throws Exception {
            int[] ports = PeerBench.freePorts(3);
            for (int i = 0; i < 3; i++) {
                peers.add(RaftPeer.newBuilder().setId("n" + i).setAddress("127.0.0.1:" + ports[i]).build());
            }
            group = RaftGroup.valueOf(RaftGroupId.randomId(), peers);
            for (int i = 0; i < 3; i++) {
                RaftProperties props = new RaftProperties();
                RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
                GrpcConfigKeys.Server.setPort(props, ports[i]);
                RaftServerConfigKeys.setStorageDir(props, List.of(dir.resolve("n" + i).toFile()));
                servers.add(RaftServer.newBuilder().setServerId(peers.get(i).getId()).setGroup(group)
                        .setProperties(props).setStateMachine(new KvStateMachine())
                        .setOption(RaftStorage.StartupOption.FORMAT).build());
            }
            for (RaftServer s : servers) {
                s.start();
            }
            leader = PeerBench.awaitLeader(() -> {
                for (int i = 0; i < 3; i++) {
                    try {
                        var info = division(i).getInfo();
                        if (info.isLeader() && info.isLeaderReady()) {
                            return i;
                        }
                    } catch (IOException e) {
                        return -1;
                    }
                }
                return -1;
            });
        }

        RaftServer.Division division(int i) throws IOException {
            return servers.get(i).getDivision(group.getGroupId());
        }

        @Override
        public PeerBench.Client client(String mode, int thread) {
            RaftPeerId leaderId = peers.get(leader).getId();
            if (mode.equals("in-process")) {
                RaftServer server = servers.get(leader);
                ClientId id = ClientId.randomId();
                long[] call = {0};
                return cmd -> server.submitClientRequestAsync(RaftClientRequest.newBuilder().setClientId(id)
                                .setServerId(leaderId).setGroupId(group.getGroupId()).setCallId(++call[0])
                                .setMessage(Message.valueOf(ByteString.copyFrom(cmd)))
                                .setType(RaftClientRequest.writeRequestType()).build())
                        .get(10, TimeUnit.SECONDS).isSuccess();
            }
            RaftProperties props = new RaftProperties();
            RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
            RaftClient client = RaftClient.newBuilder().setProperties(props).setRaftGroup(group).setLeaderId(leaderId)
                    .build();
            return new PeerBench.Client() {
                @Override
                public boolean write(byte[] cmd) throws Exception {
                    return client.io().send(Message.valueOf(ByteString.copyFrom(cmd))).isSuccess();
                }

                @Override
                public void close() {
                    try {
                        client.close();
                    } catch (IOException e) {
                        // best effort, the cluster is closed next
                    }
                }
            };
        }

        @Override
        public long term() throws IOException {
            return division(leader).getInfo().getCurrentTerm();
        }

        @Override
        public long leaderSyncs() {
            return flushCount(leader);
        }

        @Override
        public long allSyncs() {
            long sum = 0;
            for (int i = 0; i < 3; i++) {
                long f = flushCount(i);
                if (f < 0) {
                    return -1;
                }
                sum += f;
            }
            return sum;
        }

        @Override
        public long committed() {
            try {
                return division(leader).getRaftLog().getLastCommittedIndex();
            } catch (IOException e) {
                return -1;
            }
        }

        long flushCount(int i) {
            try {
                if (division(i).getRaftLog().getRaftLogMetrics() instanceof RatisMetrics m) {
                    return m.getRegistry().counter("flushCount").getCount();
                }
            } catch (Exception e) {
                // the metric is not there in this version: unknown
            }
            return -1;
        }

        @Override
        public void close() {
            for (RaftServer s : servers) {
                try {
                    s.close();
                } catch (IOException e) {
                    System.err.println("ratis: closing a server failed: " + e);
                }
            }
        }
    }
}
