package dev.raftkit.node.cluster;

import com.google.protobuf.ByteString;
import dev.raftkit.core.SnapshotMeta;
import dev.raftkit.core.confchange.ConfState;
import dev.raftkit.core.log.EntryId;
import dev.raftkit.grpc.MessageCodec;
import dev.raftkit.grpc.proto.AppendEntriesProto;
import dev.raftkit.grpc.proto.AppendEntriesResponseProto;
import dev.raftkit.grpc.proto.EntryIdProto;
import dev.raftkit.grpc.proto.EntryProto;
import dev.raftkit.grpc.proto.EntryTypeProto;
import dev.raftkit.grpc.proto.HeartbeatProto;
import dev.raftkit.grpc.proto.HeartbeatResponseProto;
import dev.raftkit.grpc.proto.InstallSnapshotProto;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.grpc.proto.RaftPeerGrpc;
import dev.raftkit.grpc.proto.ReadConsistencyProto;
import dev.raftkit.grpc.proto.ReadIndexRequestProto;
import dev.raftkit.grpc.proto.ReadIndexResponseProto;
import dev.raftkit.grpc.proto.RequestVoteProto;
import dev.raftkit.grpc.proto.RequestVoteResponseProto;
import dev.raftkit.grpc.proto.SnapshotAck;
import dev.raftkit.grpc.proto.SnapshotChunk;
import dev.raftkit.grpc.proto.SnapshotData;
import dev.raftkit.grpc.proto.SnapshotHeader;
import dev.raftkit.grpc.proto.SnapshotTrailer;
import dev.raftkit.grpc.proto.StreamSummary;
import dev.raftkit.grpc.proto.TimeoutNowProto;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.zip.CRC32C;

/**
 * An attacker on the peer port of real nodes, for the stateful hostile tests: it opens its own
 * gRPC channels (plaintext) to each node's peer address and sends whole episodes, one message
 * stream or one snapshot transfer each, built from seeded choices, and tallies how each node
 * answered. It builds valid-looking envelopes with exactly the defects the caller asks for.
 */
final class HostilePeer implements AutoCloseable {

    /** Terms hostile messages carry: far above any term a healthy test cluster reaches, so adoption shows. */
    static final long HOSTILE_TERM = 1_000_000;
    /** The payload prefix of every entry an attacker sends, so its presence in a state machine shows. */
    static final String EVIL_KEY = "evil";

    private final Map<Long, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final Map<String, Integer> outcomes = new TreeMap<>();
    private long episodes;
    private long messages;

    HostilePeer(Map<Long, InetSocketAddress> peerAddresses) {
        peerAddresses.forEach((id, a) -> channels.put(id, ManagedChannelBuilder
                .forAddress(a.getHostString(), a.getPort()).usePlaintext().build()));
    }

    Set<Long> targets() {
        return channels.keySet();
    }

    /** Sends {@code envelopes} on one message stream to node {@code to}, and waits (bounded) for its answer. */
    void stream(long to, List<PeerEnvelope> envelopes) {
        CompletableFuture<String> done = new CompletableFuture<>();
        StreamObserver<PeerEnvelope> out = RaftPeerGrpc.newStub(channels.get(to)).stream(new StreamObserver<>() {
            @Override
            public void onNext(StreamSummary s) {
            }

            @Override
            public void onError(Throwable t) {
                done.complete("stream " + Status.fromThrowable(t).getCode());
            }

            @Override
            public void onCompleted() {
                done.complete("stream OK");
            }
        });
        for (PeerEnvelope e : envelopes) {
            out.onNext(e);
            messages++;
        }
        out.onCompleted();
        record(done);
    }

    /** Sends {@code chunks} as one snapshot transfer to node {@code to}, and waits (bounded) for its answer. */
    void snapshot(long to, List<SnapshotChunk> chunks, boolean complete) {
        CompletableFuture<String> done = new CompletableFuture<>();
        StreamObserver<SnapshotChunk> out = RaftPeerGrpc.newStub(channels.get(to)).installSnapshot(new StreamObserver<>() {
            @Override
            public void onNext(SnapshotAck a) {
            }

            @Override
            public void onError(Throwable t) {
                done.complete("snapshot " + Status.fromThrowable(t).getCode());
            }

            @Override
            public void onCompleted() {
                done.complete("snapshot OK");
            }
        });
        for (SnapshotChunk c : chunks) {
            out.onNext(c);
            messages++;
        }
        if (complete) {
            out.onCompleted();
        } else {
            out.onError(Status.CANCELLED.withDescription("the attacker went away").asRuntimeException());
            done.complete("snapshot cancelled by the attacker");
        }
        record(done);
    }

    private void record(CompletableFuture<String> done) {
        String outcome;
        try {
            outcome = done.get(5, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            outcome = "no answer within 5 s";
        } catch (Exception e) {
            outcome = "failed: " + e;
        }
        episodes++;
        outcomes.merge(outcome, 1, Integer::sum);
    }

    /** How the nodes answered, by outcome: {@code "stream PERMISSION_DENIED" -> 412}, ... */
    Map<String, Integer> outcomes() {
        return outcomes;
    }

    String summary() {
        return episodes + " episodes, " + messages + " messages; answers " + outcomes;
    }

    @Override
    public void close() {
        channels.values().forEach(c -> {
            c.shutdownNow();
            try {
                c.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    // ------------------------------------------------------------------ building hostile messages

    static EntryIdProto id(long term, long index) {
        return EntryIdProto.newBuilder().setTerm(term).setIndex(index).build();
    }

    /** An entry whose payload, once applied by the test state machine, sets key "evil". */
    static EntryProto evilEntry(long term, long index, Random rnd) {
        return EntryProto.newBuilder().setTerm(term).setIndex(index).setType(EntryTypeProto.ENTRY_TYPE_NORMAL)
                .setData(ByteString.copyFrom((EVIL_KEY + "=" + rnd.nextInt(1000)).getBytes(StandardCharsets.UTF_8)))
                .build();
    }

    /** A valid-looking envelope of a random kind, from {@code from} to {@code to} at {@code term}, in {@code cluster}. */
    static PeerEnvelope envelope(Random rnd, String cluster, long from, long to, long term, long nearIndex) {
        PeerEnvelope.Builder b = PeerEnvelope.newBuilder().setClusterId(cluster).setFrom(from).setTo(to).setTerm(term);
        long index = Math.max(0, nearIndex + rnd.nextInt(21) - 10);
        switch (rnd.nextInt(10)) {
            case 0 -> {
                AppendEntriesProto.Builder a = AppendEntriesProto.newBuilder()
                        .setPrev(id(Math.min(term, 1 + rnd.nextInt(3)), index)).setCommit(index + rnd.nextInt(5));
                for (int i = 0, n = rnd.nextInt(4); i < n; i++) {
                    a.addEntries(evilEntry(term, index + 1 + i, rnd));
                }
                b.setAppendEntries(a);
            }
            case 1 -> b.setAppendEntriesResponse(AppendEntriesResponseProto.newBuilder().setReject(rnd.nextBoolean())
                    .setIndex(index).setHint(id(1, index)));
            case 2 -> b.setRequestVote(RequestVoteProto.newBuilder().setLastLog(id(term, index + 1000))
                    .setPreVote(rnd.nextBoolean()).setTransfer(rnd.nextBoolean()));
            case 3 -> b.setRequestVoteResponse(RequestVoteResponseProto.newBuilder().setGranted(true)
                    .setPreVote(rnd.nextBoolean()));
            case 4 -> b.setHeartbeat(HeartbeatProto.newBuilder().setCommit(index + rnd.nextInt(1000))
                    .setContext(rnd.nextLong()));
            case 5 -> b.setHeartbeatResponse(HeartbeatResponseProto.newBuilder().setContext(rnd.nextLong()));
            case 6 -> b.setInstallSnapshot(InstallSnapshotProto.newBuilder().setSnapshot(MessageCodec.encode(
                    new SnapshotMeta(new EntryId(Math.min(term, 2), 1_000_000), ConfState.ofVoters(Set.of(1L, 2L, 3L))))));
            case 7 -> b.setTimeoutNow(TimeoutNowProto.getDefaultInstance());
            case 8 -> b.setReadIndexRequest(ReadIndexRequestProto.newBuilder().setRequestId(rnd.nextLong())
                    .setConsistency(ReadConsistencyProto.READ_CONSISTENCY_SAFE));
            default -> b.setReadIndexResponse(ReadIndexResponseProto.newBuilder().setRequestId(rnd.nextLong())
                    .setIndex(index));
        }
        return b.build();
    }

    /** {@code e} made definitely invalid for the codec, in one of several ways. */
    static PeerEnvelope malformed(Random rnd, PeerEnvelope e) {
        PeerEnvelope.Builder b = e.toBuilder();
        switch (rnd.nextInt(7)) {
            case 0 -> b.setTo(e.getFrom()); // to itself
            case 1 -> b.setFrom(0);
            case 2 -> b.setTerm(-1 - rnd.nextInt(5)); // a uint64 above Long.MAX_VALUE
            case 3 -> b.clearBody(); // no body
            case 4 -> b.setAppendEntries(AppendEntriesProto.newBuilder().setPrev(id(1, 5)) // a gap
                    .addEntries(evilEntry(1, 6, rnd)).addEntries(evilEntry(1, 8, rnd)));
            case 5 -> b.setAppendEntries(AppendEntriesProto.newBuilder().setPrev(id(1, 5)) // an entry above the term
                    .addEntries(evilEntry(e.getTerm() + 1, 6, rnd)));
            default -> b.setAppendEntries(AppendEntriesProto.newBuilder() // no prev
                    .addEntries(evilEntry(1, 1, rnd)));
        }
        return b.build();
    }

    /**
     * A snapshot transfer that must never be installed: it ends without a trailer, or with a wrong
     * trailer, or carries a corrupt chunk, a gap, data before the header, or a second header.
     */
    static List<SnapshotChunk> brokenTransfer(Random rnd, PeerEnvelope header) {
        byte[] image = new byte[1 + rnd.nextInt(5000)];
        rnd.nextBytes(image);
        CRC32C whole = new CRC32C();
        whole.update(image);
        SnapshotChunk h = SnapshotChunk.newBuilder().setHeader(SnapshotHeader.newBuilder().setInstallSnapshot(header)
                .setSizeBytes(image.length).setCrc32C((int) whole.getValue())).build();
        CRC32C c = new CRC32C();
        c.update(image);
        SnapshotData.Builder data = SnapshotData.newBuilder().setOffset(0).setData(ByteString.copyFrom(image))
                .setCrc32C((int) c.getValue());
        SnapshotChunk trailer = SnapshotChunk.newBuilder().setTrailer(SnapshotTrailer.newBuilder().setChunks(1)).build();
        return switch (rnd.nextInt(6)) {
            case 0 -> List.of(h, SnapshotChunk.newBuilder().setData(data.setCrc32C((int) c.getValue() ^ 1)).build(), trailer);
            case 1 -> List.of(h, SnapshotChunk.newBuilder().setData(data.setOffset(7)).build(), trailer);
            case 2 -> List.of(SnapshotChunk.newBuilder().setData(data).build(), h, trailer);
            case 3 -> List.of(h, SnapshotChunk.newBuilder().setData(data).build(),
                    SnapshotChunk.newBuilder().setTrailer(SnapshotTrailer.newBuilder().setChunks(2)).build());
            case 4 -> List.of(h, h);
            default -> List.of(h, SnapshotChunk.newBuilder().setData(data).build()); // no trailer
        };
    }
}
