package dev.raftkit.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import dev.raftkit.core.RaftConfig;
import dev.raftkit.grpc.proto.MembershipChangeProto;
import dev.raftkit.grpc.proto.MembershipRequest;
import dev.raftkit.grpc.proto.OpenSessionRequest;
import dev.raftkit.grpc.proto.ReadModeProto;
import dev.raftkit.grpc.proto.ReadRequest;
import dev.raftkit.grpc.proto.Refusal;
import dev.raftkit.grpc.proto.StatusRequest;
import dev.raftkit.grpc.proto.SubmitRequest;
import dev.raftkit.grpc.proto.TransferRequest;
import dev.raftkit.runtime.MemoryLogStorage;
import dev.raftkit.runtime.RaftServer;
import dev.raftkit.runtime.RaftServerBuilder;
import dev.raftkit.spi.StateMachine;
import dev.raftkit.testkit.fuzz.Fuzz;
import dev.raftkit.testkit.runtime.LocalNetwork;
import dev.raftkit.testkit.runtime.MemorySnapshotStore;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the client port's request handling: the bytes of every client request kind
 * (open session, submit, read, status) parsed as protobuf and handed to {@link ClientService} of a
 * live single-node leader, and of the admin kinds on it (membership, transfer) handed to a node
 * that leads nothing (so a fuzzed request cannot change a configuration the rest of the run
 * needs). The first input byte picks the kind, the rest is the request. The property: every
 * request that parses is answered exactly once, in bounded time, with a response or a refusal
 * with a definite status (never UNKNOWN or INTERNAL), and the node keeps serving.
 */
class ClientRequestFuzzTest {

    static final String CLUSTER = "fuzz-cluster";

    /** Applies nothing but never fails: the fuzz is about the port, not a state machine. */
    static final class EchoMachine implements StateMachine {
        private volatile long applied;

        @Override
        public List<byte[]> apply(List<Command> commands) {
            List<byte[]> out = new ArrayList<>();
            for (Command c : commands) {
                out.add(Arrays.copyOf(c.payload(), Math.min(16, c.payload().length)));
                applied = c.index();
            }
            return out;
        }

        @Override
        public long lastApplied() {
            return applied;
        }

        @Override
        public Snapshot snapshot() {
            long at = applied;
            return new Snapshot() {
                @Override
                public long index() {
                    return at;
                }

                @Override
                public void writeTo(OutputStream out) {
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public void restore(long index, InputStream in) {
            applied = index;
        }

        @Override
        public byte[] query(byte[] query) {
            return Arrays.copyOf(query, Math.min(16, query.length));
        }
    }

    static LocalNetwork net;
    static RaftServer leader;
    static RaftServer loner;
    static ClientService leaderService;
    static ClientService lonerService;

    static RaftServer server(long id, boolean bootstrap) throws java.io.IOException {
        RaftServerBuilder b = RaftServer.builder(RaftConfig.builder(id).electionTicks(10).heartbeatTicks(2)
                        .randomSeed(id).build())
                .logStorage(new MemoryLogStorage()).snapshotStore(new MemorySnapshotStore())
                .stateMachine(new EchoMachine()).transport(net.transport(id)).tickMillis(10);
        if (bootstrap) {
            b.bootstrap(Set.of(id));
        }
        return b.start();
    }

    @BeforeAll
    static void start() throws java.io.IOException {
        net = new LocalNetwork();
        leader = server(1, true);
        loner = server(7, false);
        leaderService = new ClientService(CLUSTER, leader, Map.of());
        lonerService = new ClientService(CLUSTER, loner, Map.of());
        await().atMost(Duration.ofSeconds(20)).until(() -> leader.status().isLeader());
    }

    @AfterAll
    static void stop() {
        leader.close();
        loner.close();
        net.close();
    }

    /** What the service answered. */
    record Answer(Object response, Status error) {
    }

    /** Collects one call's answer and fails on a second one. */
    static final class Recorder<T> implements StreamObserver<T> {
        final CompletableFuture<Answer> done = new CompletableFuture<>();
        private Object response;
        private int terminal;

        @Override
        public synchronized void onNext(T value) {
            if (response != null || terminal > 0) {
                done.completeExceptionally(new AssertionError("a second response (or one after the end): " + value));
            }
            response = value;
        }

        @Override
        public synchronized void onError(Throwable t) {
            if (terminal++ > 0) {
                done.completeExceptionally(new AssertionError("a second end of the call: " + t));
            }
            done.complete(new Answer(null, Status.fromThrowable(t)));
        }

        @Override
        public synchronized void onCompleted() {
            if (terminal++ > 0 || response == null) {
                done.completeExceptionally(new AssertionError("completed without exactly one response"));
            }
            done.complete(new Answer(response, null));
        }
    }

    static final int KINDS = 6;

    static Answer call(byte[] input) throws Exception {
        if (input.length == 0) {
            throw new InvalidProtocolBufferException("empty fuzz input (no kind byte)");
        }
        byte[] body = Arrays.copyOfRange(input, 1, input.length);
        Recorder<Object> out = new Recorder<>();
        @SuppressWarnings({"unchecked", "rawtypes"})
        StreamObserver raw = out;
        switch ((input[0] & 0xFF) % KINDS) {
            case 0 -> leaderService.openSession(OpenSessionRequest.parseFrom(body), raw);
            case 1 -> leaderService.submit(SubmitRequest.parseFrom(body), raw);
            case 2 -> leaderService.read(ReadRequest.parseFrom(body), raw);
            case 3 -> leaderService.status(StatusRequest.parseFrom(body), raw);
            case 4 -> lonerService.changeMembership(MembershipRequest.parseFrom(body), raw);
            default -> lonerService.transferLeadership(TransferRequest.parseFrom(body), raw);
        }
        Answer a = out.done.get(20, TimeUnit.SECONDS);
        if (a.error() != null) {
            Status.Code code = a.error().getCode();
            assertTrue(code != Status.Code.UNKNOWN && code != Status.Code.INTERNAL,
                    "an undefined failure status " + a.error());
        } else if (a.response() instanceof MessageLite m) {
            Refusal r = refusal(m);
            if (r != null) {
                assertTrue(!r.getReason().isEmpty() && !r.getReason().equals("INTERNAL"),
                        "a refusal without a definite reason: " + r);
            }
        }
        return a;
    }

    /** The refusal in a response, if it is one. */
    static Refusal refusal(MessageLite m) {
        for (var f : ((com.google.protobuf.Message) m).getAllFields().entrySet()) {
            if (f.getValue() instanceof Refusal r) {
                return r;
            }
        }
        return null;
    }

    static byte[] framed(int kind, MessageLite request) {
        byte[] body = request.toByteArray();
        byte[] out = new byte[body.length + 1];
        out[0] = (byte) kind;
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }

    static List<byte[]> corpus() {
        return List.of(
                framed(0, OpenSessionRequest.newBuilder().setClusterId(CLUSTER).build()),
                framed(1, SubmitRequest.newBuilder().setClusterId(CLUSTER).setCommand(ByteString.copyFromUtf8("x=1"))
                        .build()),
                framed(1, SubmitRequest.newBuilder().setClusterId(CLUSTER).setClientId(99).setSequence(1)
                        .setLowestUnacked(1).setCommand(ByteString.copyFromUtf8("y")).build()),
                framed(2, ReadRequest.newBuilder().setClusterId(CLUSTER).setQuery(ByteString.copyFromUtf8("q"))
                        .setMode(ReadModeProto.READ_MODE_LINEARIZABLE).build()),
                framed(2, ReadRequest.newBuilder().setClusterId(CLUSTER).setMode(ReadModeProto.READ_MODE_STALE)
                        .setMinIndex(1).build()),
                framed(3, StatusRequest.newBuilder().setClusterId(CLUSTER).build()),
                framed(4, MembershipRequest.newBuilder().setClusterId(CLUSTER)
                        .setChange(MembershipChangeProto.MEMBERSHIP_CHANGE_ADD_LEARNER).setNodeId(4).build()),
                framed(5, TransferRequest.newBuilder().setClusterId(CLUSTER).setTo(2).build()));
    }

    static long hostile(Random rnd) {
        return switch (rnd.nextInt(5)) {
            case 0 -> rnd.nextInt(4);
            case 1 -> -1;
            case 2 -> Long.MAX_VALUE;
            case 3 -> Long.MIN_VALUE;
            default -> rnd.nextLong();
        };
    }

    /** Requests with hostile field values: unknown sessions, extreme sequences and indexes, unknown enums. */
    static byte[] randomRequest(Random rnd) {
        String cluster = rnd.nextInt(8) == 0 ? "other" : CLUSTER;
        ByteString payload = ByteString.copyFrom(new byte[rnd.nextInt(rnd.nextInt(16) == 0 ? 100_000 : 32)]);
        return switch (rnd.nextInt(KINDS)) {
            case 0 -> framed(0, OpenSessionRequest.newBuilder().setClusterId(cluster).build());
            case 1 -> framed(1, SubmitRequest.newBuilder().setClusterId(cluster).setClientId(hostile(rnd))
                    .setSequence(hostile(rnd)).setLowestUnacked(hostile(rnd)).setCommand(payload).build());
            case 2 -> framed(2, ReadRequest.newBuilder().setClusterId(cluster).setQuery(payload)
                    .setModeValue(rnd.nextInt(5)).setMinIndex(rnd.nextBoolean() ? rnd.nextInt(3) : hostile(rnd))
                    .build());
            case 3 -> framed(3, StatusRequest.newBuilder().setClusterId(cluster).build());
            case 4 -> framed(4, MembershipRequest.newBuilder().setClusterId(cluster).setChangeValue(rnd.nextInt(6))
                    .setNodeId(hostile(rnd)).build());
            default -> framed(5, TransferRequest.newBuilder().setClusterId(cluster).setTo(hostile(rnd)).build());
        };
    }

    /**
     * Found by {@code client-request} (seed 3792441570983720833): a membership change naming node
     * 2^63 (a uint64 above Long.MAX_VALUE, negative in Java) or node 0 makes
     * {@code ConfChange.Step} throw IllegalArgumentException out of {@link ClientService}, which
     * gRPC answers as UNKNOWN with a stack trace in the log. It must be refused as INVALID_ARGUMENT
     * (or a non-retryable refusal) naming the node id. Fails until ClientService checks node ids
     * (another part of issue 12 owns ClientService).
     */
    @Test
    void aMembershipChangeForNodeIdZeroOrAbove2To63IsRefusedAsInvalid() throws Exception {
        for (long node : new long[] {Long.MIN_VALUE, 0}) {
            byte[] input = framed(4, MembershipRequest.newBuilder().setClusterId(CLUSTER)
                    .setChange(MembershipChangeProto.MEMBERSHIP_CHANGE_ADD_VOTER).setNodeId(node).build());
            Answer a;
            try {
                a = call(input);
            } catch (IllegalArgumentException e) {
                throw new AssertionError("node id " + Long.toUnsignedString(node) + ": the service threw " + e
                        + " (gRPC answers UNKNOWN and logs a stack trace)", e);
            }
            if (a.error() != null) {
                assertEquals(Status.Code.INVALID_ARGUMENT, a.error().getCode(), a.error().toString());
            } else {
                Refusal r = refusal((MessageLite) a.response());
                assertTrue(r != null && !r.getRetryable(), "refused, not retryable: " + a.response());
            }
        }
    }

    @Test
    void everyParsedClientRequestIsAnsweredOnceWithADefiniteStatusAndTheNodeKeepsServing() throws Exception {
        Fuzz.target("client-request", ClientRequestFuzzTest::call)
                .corpus(corpus())
                .generator(ClientRequestFuzzTest::randomRequest)
                .refusesWith(InvalidProtocolBufferException.class)
                .allocationLimit(64L << 20)
                .iterations(8_000)
                .run();
        assertTrue(leader.status().isLeader() && leader.status().running(), "the leader still leads and runs");
        Answer after = call(corpus().get(1));
        assertEquals(null, after.error(), "a valid submit is still served");
    }
}
