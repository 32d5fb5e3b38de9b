package dev.raftkit.grpc;

import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.grpc.proto.SnapshotAck;
import dev.raftkit.grpc.proto.SnapshotChunk;
import dev.raftkit.grpc.proto.SnapshotData;
import dev.raftkit.grpc.proto.SnapshotHeader;
import dev.raftkit.spi.SnapshotWriter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives one snapshot transfer: a header (the {@link InstallSnapshot} message in its envelope,
 * the image's size and CRC32C), data chunks in order (each with its offset and CRC32C), a trailer.
 *
 * <p>Bytes go straight to the node's {@link SnapshotWriter}, chunk by chunk; gRPC asks for the
 * next chunk only after this one was written, so at most the HTTP/2 window and one chunk are in
 * memory. The writer is committed only once every chunk checked out and the whole image's size
 * and checksum match the header; only then is the message delivered. On any failure (a bad chunk,
 * a cancelled or broken call, a write error) the writer is aborted, so the next transfer starts
 * on a clean slate.
 *
 * <p>Runs on the transport's snapshot pool, one callback at a time, and may block there on I/O.
 */
final class SnapshotReceiver implements StreamObserver<SnapshotChunk> {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotReceiver.class);

    private final GrpcTransport transport;
    private final StreamObserver<SnapshotAck> responses;
    private final String remote;
    private final String host;
    private final CertificateIdentity proven;
    private final CRC32C whole = new CRC32C();
    private InstallSnapshot message;
    private SnapshotHeader header;
    private SnapshotWriter writer;
    private OutputStream out;
    private long received;
    private long chunks;
    private boolean ended;

    SnapshotReceiver(GrpcTransport transport, StreamObserver<SnapshotAck> responses, String remote, String host,
                     CertificateIdentity proven) {
        this.transport = transport;
        this.responses = responses;
        this.remote = remote;
        this.host = host;
        this.proven = proven;
    }

    @Override
    public void onNext(SnapshotChunk chunk) {
        if (ended) {
            return;
        }
        try {
            switch (chunk.getPartCase()) {
                case HEADER -> onHeader(chunk.getHeader());
                case DATA -> onData(chunk.getData());
                case TRAILER -> onTrailer(chunk.getTrailer().getChunks());
                case PART_NOT_SET -> throw fail(Status.INVALID_ARGUMENT, "a chunk with no content (unknown kind?)");
            }
        } catch (StatusRuntimeException e) {
            end(e.getStatus());
        } catch (IOException | RuntimeException e) {
            end(Status.INTERNAL.withDescription(where() + ": cannot write the snapshot locally: " + e
                    + "; the leader will retry").withCause(e));
        }
    }

    private void onHeader(SnapshotHeader h) throws IOException {
        if (header != null) {
            throw fail(Status.INVALID_ARGUMENT, "a second header");
        }
        PeerEnvelope e = h.getInstallSnapshot();
        Status refusal = PeerService.admit(transport, e, remote, host, proven);
        if (refusal != null) {
            throw refusal.asRuntimeException();
        }
        // The snapshot RPC admits InstallSnapshot only: every other kind has the message stream,
        // and one smuggled here would be delivered only after a transfer, out of order.
        if (e.getBodyCase() != PeerEnvelope.BodyCase.INSTALL_SNAPSHOT) {
            throw fail(Status.INVALID_ARGUMENT, "a header carrying " + e.getBodyCase()
                    + " instead of INSTALL_SNAPSHOT (other messages travel on the message stream)");
        }
        Message m;
        try {
            m = MessageCodec.decode(e);
        } catch (InvalidMessageException ex) {
            throw fail(Status.INVALID_ARGUMENT, "a malformed header: " + ex.getMessage());
        }
        if (!(m instanceof InstallSnapshot install)) {
            throw fail(Status.INVALID_ARGUMENT, "a header carrying " + e.getBodyCase() + " instead of INSTALL_SNAPSHOT");
        }
        if (h.getSizeBytes() < 0) {
            throw fail(Status.INVALID_ARGUMENT, "a negative size");
        }
        header = h;
        message = install;
        writer = transport.inbound().beginSnapshot(install);
        out = writer.output();
        LOG.info("node {}: receiving snapshot at {} ({} bytes) from node {}", transport.selfId(),
                install.snapshot().last(), h.getSizeBytes(), install.from());
    }

    private void onData(SnapshotData d) throws IOException {
        if (header == null) {
            throw fail(Status.INVALID_ARGUMENT, "data before the header");
        }
        if (d.getOffset() != received) {
            throw fail(Status.DATA_LOSS, "a chunk at offset " + d.getOffset() + " where " + received + " was expected");
        }
        long size = d.getData().size();
        if (received + size > header.getSizeBytes()) {
            throw fail(Status.DATA_LOSS, "more bytes than the " + header.getSizeBytes() + " announced");
        }
        CRC32C crc = new CRC32C();
        crc.update(d.getData().asReadOnlyByteBuffer());
        if ((int) crc.getValue() != d.getCrc32C()) {
            throw fail(Status.DATA_LOSS, "a corrupt chunk at offset " + d.getOffset() + " (CRC32C mismatch)");
        }
        whole.update(d.getData().asReadOnlyByteBuffer());
        d.getData().writeTo(out);
        received += size;
        chunks++;
    }

    private void onTrailer(long sentChunks) throws IOException {
        if (header == null) {
            throw fail(Status.INVALID_ARGUMENT, "a trailer before the header");
        }
        if (received != header.getSizeBytes() || sentChunks != chunks) {
            throw fail(Status.DATA_LOSS, received + " bytes in " + chunks + " chunks where " + header.getSizeBytes()
                    + " bytes in " + sentChunks + " chunks were sent");
        }
        if ((int) whole.getValue() != header.getCrc32C()) {
            throw fail(Status.DATA_LOSS, "an image whose CRC32C does not match the sender's descriptor");
        }
        writer.commit();
        ended = true;
        writer = null;
        LOG.info("node {}: snapshot at {} from node {} committed ({} bytes)", transport.selfId(),
                message.snapshot().last(), message.from(), received);
        // Delivered only now, after the bytes are durable and verified (Transport's contract).
        transport.inbound().receive(message);
        responses.onNext(SnapshotAck.newBuilder().setSizeBytes(received).build());
        responses.onCompleted();
    }

    private StatusRuntimeException fail(Status status, String what) {
        return status.withDescription(where() + ": the sender sent " + what + "; the transfer is aborted")
                .asRuntimeException();
    }

    private String where() {
        return "node " + transport.selfId() + " receiving a snapshot from " + remote
                + (message == null ? "" : " (node " + message.from() + ", snapshot at " + message.snapshot().last() + ")");
    }

    private void end(Status status) {
        ended = true;
        abort();
        PeerService.warn("snapshot:" + host + ":" + status.getCode(), transport,
                status.getCode() + ": " + status.getDescription());
        responses.onError(status.asRuntimeException());
    }

    private void abort() {
        if (writer != null) {
            writer.abort();
            writer = null;
        }
    }

    @Override
    public void onError(Throwable t) {
        // The sender cancelled or the connection broke: nothing of this transfer may remain.
        if (!ended) {
            ended = true;
            abort();
            LOG.info("node {}: snapshot transfer from {} interrupted after {} bytes ({}); aborted, the leader will retry",
                    transport.selfId(), remote, received, Status.fromThrowable(t).getCode());
        }
    }

    @Override
    public void onCompleted() {
        if (!ended) {
            end(Status.DATA_LOSS.withDescription(where() + ": the sender ended the transfer without a trailer after "
                    + received + " bytes; aborted"));
        }
    }
}
