package dev.raftkit.grpc;

import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.grpc.proto.RaftPeerGrpc;
import dev.raftkit.grpc.proto.SnapshotAck;
import dev.raftkit.grpc.proto.SnapshotChunk;
import dev.raftkit.grpc.proto.SnapshotData;
import dev.raftkit.grpc.proto.SnapshotHeader;
import dev.raftkit.grpc.proto.SnapshotResume;
import dev.raftkit.grpc.proto.SnapshotTrailer;
import dev.raftkit.spi.SnapshotDescriptor;
import dev.raftkit.spi.SnapshotReader;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams snapshots to peers, one gRPC call per transfer, with bounded memory.
 *
 * <p>A pump on the snapshot pool reads the next chunk from the {@link SnapshotReader} only while
 * the call {@code isReady()} (gRPC buffers little beyond its flow-control window), and resumes
 * from the on-ready callback; so a 1 GiB image moves through a few hundred KiB of heap. It checks
 * the image against the reader's descriptor as it goes: a local snapshot that does not match its
 * own checksum is never sent as if it were good.
 *
 * <p>Each transfer first asks the receiver where to resume ({@code SnapshotResumePoint}): an
 * earlier transfer of the same image that was cut left its verified chunks there, and only the
 * bytes after them are sent. The receiver then checks the whole image, kept chunks included,
 * against the descriptor before it commits; the sender's own whole-image check covers only a
 * transfer from byte 0.
 */
final class SnapshotSender {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotSender.class);

    private final GrpcTransport transport;
    /** The outcome of a transfer that succeeded. */
    private static final Throwable SUCCESS = new Throwable("snapshot delivered", null, false, false) {
        private static final long serialVersionUID = 1L;
    };

    private final Set<Transfer> active = ConcurrentHashMap.newKeySet();

    SnapshotSender(GrpcTransport transport) {
        this.transport = transport;
    }

    CompletableFuture<Void> send(InstallSnapshot message, SnapshotReader data) {
        Transfer t = new Transfer(message, data);
        if (transport.isClosed()) {
            t.fail(new IOException("node " + transport.selfId() + ": transport closed; snapshot to node "
                    + message.to() + " not sent"));
            return t.future;
        }
        PeerLink link = transport.link(message.to());
        if (link == null) {
            t.fail(new IOException("node " + transport.selfId() + ": no address for node " + message.to()
                    + "; snapshot not sent"));
            return t.future;
        }
        active.add(t);
        t.future.whenComplete((ok, err) -> active.remove(t));
        try {
            // Wait for the channel rather than fail fast: a receiver that has just restarted (the
            // usual one that needs a snapshot) finds this node's channel to it in reconnect
            // backoff, and failing then would throw the transfer away (a peer asked to push one,
            // snapshot source PEERS, would leave the leader to send its own after its timeout).
            // The deadline bounds the wait, so a transfer to a dead node still fails, after it.
            RaftPeerGrpc.newStub(link.channel()).withWaitForReady()
                    .withDeadlineAfter(RESUME_POINT_DEADLINE_SECONDS, TimeUnit.SECONDS)
                    .snapshotResumePoint(t.header(0), new StreamObserver<>() {
                        private long offset;

                        @Override
                        public void onNext(SnapshotResume r) {
                            offset = r.getOffset();
                        }

                        @Override
                        public void onError(Throwable e) {
                            Status s = Status.fromThrowable(e);
                            if (s.getCode() == Status.Code.UNIMPLEMENTED) {
                                open(link, t, 0); // a receiver that cannot resume: the whole image
                                return;
                            }
                            // Unreachable, refused: a transfer would fail the same way, and one sent
                            // from byte 0 would make the receiver drop what it kept. The core retries.
                            t.fail(new IOException("node " + transport.selfId() + ": cannot ask node " + message.to()
                                    + " where to resume snapshot " + message.snapshot().last() + ": " + s.getCode()
                                    + (s.getDescription() == null ? "" : " (" + s.getDescription() + ")"), e));
                        }

                        @Override
                        public void onCompleted() {
                            open(link, t, offset);
                        }
                    });
        } catch (RuntimeException e) {
            t.fail(new IOException("node " + transport.selfId() + ": cannot ask node " + message.to()
                    + " where to resume a snapshot: " + e, e));
        }
        return t.future;
    }

    /**
     * How long the receiver may take to be reachable and to read its partial's chunk records:
     * long enough for a receiver that is restarting (the channel's first reconnect backoff is about
     * a second), short enough that a snapshot to a dead node fails soon and the core tries again.
     */
    private static final long RESUME_POINT_DEADLINE_SECONDS = 10;

    private void open(PeerLink link, Transfer t, long resumeOffset) {
        if (t.outcome != null) {
            return; // cancelled (transport closed) while the resume point was asked
        }
        if (resumeOffset < 0 || resumeOffset > t.descriptor.sizeBytes()) {
            resumeOffset = 0;
        }
        t.offset = resumeOffset;
        t.resumeOffset = resumeOffset;
        try {
            RaftPeerGrpc.newStub(link.channel()).installSnapshot(t);
        } catch (RuntimeException e) {
            t.fail(new IOException("node " + transport.selfId() + ": cannot open a snapshot stream to node "
                    + t.message.to() + ": " + e, e));
        }
    }

    void cancelAll() {
        for (Transfer t : active) {
            t.cancel("transport closed");
        }
    }

    /** One transfer: the pump, the call and the future. */
    private final class Transfer implements ClientResponseObserver<SnapshotChunk, SnapshotAck> {
        final CompletableFuture<Void> future = new CompletableFuture<>();
        private final InstallSnapshot message;
        private final SnapshotReader data;
        private final SnapshotDescriptor descriptor;
        private final AtomicInteger wip = new AtomicInteger();
        private final CRC32C whole = new CRC32C();
        private volatile ClientCallStreamObserver<SnapshotChunk> out;
        private volatile boolean done;
        private volatile boolean acked;
        private volatile Throwable outcome;
        private boolean settled;
        // Owned by the pump (set once before the call starts).
        private boolean headerSent;
        private long offset;
        private long resumeOffset;
        private long chunks;

        Transfer(InstallSnapshot message, SnapshotReader data) {
            this.message = message;
            this.data = data;
            this.descriptor = data.descriptor();
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<SnapshotChunk> requestStream) {
            out = requestStream;
            requestStream.setOnReadyHandler(this::requestPump);
        }

        private void requestPump() {
            if (wip.getAndIncrement() == 0) {
                try {
                    transport.snapshotExecutor().execute(this::pumpLoop);
                } catch (RejectedExecutionException e) {
                    cancel("transport closed");
                }
            }
        }

        private void pumpLoop() {
            int missed = 1;
            do {
                try {
                    pump();
                } catch (IOException | RuntimeException e) {
                    cancel("cannot read the local snapshot at " + message.snapshot().last() + ": " + e);
                }
                if (outcome != null) {
                    settle();
                }
                missed = wip.addAndGet(-missed);
            } while (missed != 0);
        }

        private void pump() throws IOException {
            if (done) {
                return;
            }
            int chunkBytes = transport.config().snapshotChunkBytes();
            while (!done && out.isReady()) {
                if (!headerSent) {
                    out.onNext(SnapshotChunk.newBuilder().setHeader(header(resumeOffset)).build());
                    headerSent = true;
                    continue;
                }
                byte[] bytes = data.chunk(offset, chunkBytes);
                if (bytes.length == 0) {
                    finish();
                    return;
                }
                CRC32C crc = new CRC32C();
                crc.update(bytes);
                whole.update(bytes);
                out.onNext(SnapshotChunk.newBuilder().setData(SnapshotData.newBuilder()
                        .setOffset(offset).setData(MessageCodec.wrap(bytes)).setCrc32C((int) crc.getValue())).build());
                offset += bytes.length;
                chunks++;
            }
        }

        SnapshotHeader header(long resume) {
            return SnapshotHeader.newBuilder()
                    .setInstallSnapshot(MessageCodec.encode(transport.clusterId(), message))
                    .setSizeBytes(descriptor.sizeBytes()).setCrc32C(descriptor.crc32c())
                    .setResumeOffset(resume).build();
        }

        /**
         * Closes the reader and completes the future, on the pump's thread: the reader is used by
         * one thread at a time, and a gRPC callback may end the transfer while a chunk is read.
         */
        private void settle() {
            if (settled) {
                return;
            }
            settled = true;
            try {
                data.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("node {}: could not close the snapshot reader: {}", transport.selfId(), e.toString());
            }
            Throwable failure = outcome == SUCCESS ? null : outcome;
            if (failure == null) {
                LOG.info("node {}: snapshot at {} ({} bytes) delivered to node {}", transport.selfId(),
                        message.snapshot().last(), descriptor.sizeBytes(), message.to());
                future.complete(null);
            } else {
                LOG.warn("{}", failure.getMessage());
                future.completeExceptionally(failure);
            }
        }

        /** Records how the transfer ended (first outcome wins) and lets the pump settle it. */
        private void end(Throwable result) {
            synchronized (this) {
                if (outcome != null) {
                    return;
                }
                outcome = result;
            }
            done = true;
            if (wip.getAndIncrement() == 0) {
                try {
                    transport.snapshotExecutor().execute(this::pumpLoop);
                } catch (RejectedExecutionException e) {
                    // The pool is gone (transport closed), so no pump can be running: settle here.
                    settle();
                }
            }
        }

        private void finish() {
            // From byte 0 the whole image passed through here; a resumed one is checked whole by
            // the receiver before it commits.
            boolean crcOk = resumeOffset > 0 || (int) whole.getValue() == descriptor.crc32c();
            if (offset != descriptor.sizeBytes() || !crcOk) {
                cancel("the local snapshot at " + message.snapshot().last() + " does not match its descriptor ("
                        + offset + " bytes read of " + descriptor.sizeBytes() + ", CRC32C "
                        + (crcOk ? "matches" : "differs")
                        + "); it is corrupt and was not sent");
                return;
            }
            out.onNext(SnapshotChunk.newBuilder().setTrailer(SnapshotTrailer.newBuilder().setChunks(chunks)).build());
            out.onCompleted();
            // Nothing more to pump; the future completes on the receiver's acknowledgement.
            done = true;
        }

        void cancel(String why) {
            ClientCallStreamObserver<SnapshotChunk> o = out;
            if (o != null && outcome == null) {
                o.cancel(why, null);
            }
            fail(new IOException("node " + transport.selfId() + ": snapshot transfer to node " + message.to()
                    + " failed: " + why));
        }

        void fail(Throwable t) {
            end(t);
        }

        @Override
        public void onNext(SnapshotAck ack) {
            acked = true;
        }

        @Override
        public void onError(Throwable t) {
            Status s = Status.fromThrowable(t);
            fail(new IOException("node " + transport.selfId() + ": snapshot transfer to node " + message.to()
                    + " failed after " + offset + " of " + descriptor.sizeBytes() + " bytes: " + s.getCode()
                    + (s.getDescription() == null ? "" : " (" + s.getDescription() + ")"), t));
        }

        @Override
        public void onCompleted() {
            if (!acked) {
                onError(Status.INTERNAL.withDescription("the receiver ended the call without acknowledging")
                        .asRuntimeException());
                return;
            }
            end(SUCCESS);
        }
    }
}
