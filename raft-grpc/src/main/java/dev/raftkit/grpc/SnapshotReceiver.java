package dev.raftkit.grpc;

import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import dev.raftkit.grpc.proto.PeerEnvelope;
import dev.raftkit.grpc.proto.SnapshotAck;
import dev.raftkit.grpc.proto.SnapshotChunk;
import dev.raftkit.grpc.proto.SnapshotData;
import dev.raftkit.grpc.proto.SnapshotHeader;
import dev.raftkit.spi.ResumableSnapshotWriter;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.ClosedByInterruptException;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives one snapshot transfer: a header (the {@link InstallSnapshot} message in its envelope,
 * the image's size and CRC32C, and the offset the transfer resumes at), data chunks in order (each
 * with its offset and CRC32C), a trailer.
 *
 * <p>Bytes go straight to the node's {@link ResumableSnapshotWriter}, chunk by chunk, each chunk
 * made durable and recorded once its CRC32C checked out; gRPC asks for the next chunk only after
 * this one was written, so at most the HTTP/2 window and one chunk are in memory. The writer is
 * committed only once every chunk checked out and the whole image's size and checksum match the
 * header; only then is the message delivered. A transfer that is cut (the connection breaks, the
 * sender stops, a chunk arrives damaged) suspends the writer: the verified chunks stay, and the
 * next transfer of the same image resumes after them ({@code SnapshotResumePoint}). Anything else
 * (a malformed header or trailer, a write error, an image that does not match) aborts it; a
 * write that fails because the pool thread was interrupted (the node shutting down) is a cut too.
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
    private InstallSnapshot message;
    private SnapshotHeader header;
    private ResumableSnapshotWriter writer;
    private OutputStream out;
    private long received;
    private long chunks;
    private boolean trailerSeen;
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
            // A damaged chunk or a resume offset that is not ours: the verified chunks stay good.
            Status.Code c = e.getStatus().getCode();
            end(e.getStatus(), c == Status.Code.DATA_LOSS && !trailerSeen || c == Status.Code.FAILED_PRECONDITION);
        } catch (IOException | RuntimeException e) {
            if (interrupted(e)) {
                // The pool is being shut down (the node stops or is killed) and its interrupt closed
                // the partial's files: that is a cut, not a bad write. The chunks recorded before it
                // stay; resuming re-checks each against its CRC32C, so a torn last one is dropped then.
                end(Status.UNAVAILABLE.withDescription(where() + ": the receipt was interrupted after " + received
                        + " bytes (this node is shutting down); the verified bytes are kept and the next transfer"
                        + " of this image resumes after them").withCause(e), true);
                return;
            }
            end(Status.INTERNAL.withDescription(where() + ": cannot write the snapshot locally: " + e
                    + "; the leader will retry").withCause(e), false);
        }
    }

    /**
     * Whether {@code e} comes from this thread being interrupted (a {@link ClosedByInterruptException}
     * from the partial's files, possibly wrapped, or the interrupt flag still set) rather than from
     * the disk or the data. A {@code SocketTimeoutException} is an {@code InterruptedIOException}
     * too, hence the narrower check.
     */
    static boolean interrupted(Throwable e) {
        if (Thread.currentThread().isInterrupted()) {
            return true;
        }
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ClosedByInterruptException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Admits a transfer's header (or a resume-point request's): the envelope's routing, then an
     * {@code InstallSnapshot} body and a sane size. Returns the message; throws the refusal.
     */
    static InstallSnapshot admitHeader(GrpcTransport transport, SnapshotHeader h, String remote, String host,
                                       CertificateIdentity proven) {
        PeerEnvelope e = h.getInstallSnapshot();
        Status refusal = PeerService.admit(transport, e, remote, host, proven);
        if (refusal != null) {
            throw refusal.asRuntimeException();
        }
        String where = "node " + transport.selfId() + " receiving a snapshot from " + remote;
        // The snapshot RPC admits InstallSnapshot only: every other kind has the message stream,
        // and one smuggled here would be delivered only after a transfer, out of order.
        if (e.getBodyCase() != PeerEnvelope.BodyCase.INSTALL_SNAPSHOT) {
            throw refuse(where, Status.INVALID_ARGUMENT, "a header carrying " + e.getBodyCase()
                    + " instead of INSTALL_SNAPSHOT (other messages travel on the message stream)");
        }
        Message m;
        try {
            m = MessageCodec.decode(e);
        } catch (InvalidMessageException ex) {
            throw refuse(where, Status.INVALID_ARGUMENT, "a malformed header: " + ex.getMessage());
        }
        if (!(m instanceof InstallSnapshot install)) {
            throw refuse(where, Status.INVALID_ARGUMENT, "a header carrying " + e.getBodyCase()
                    + " instead of INSTALL_SNAPSHOT");
        }
        if (h.getSizeBytes() < 0) {
            throw refuse(where, Status.INVALID_ARGUMENT, "a negative size");
        }
        if (h.getResumeOffset() < 0 || h.getResumeOffset() > h.getSizeBytes()) {
            throw refuse(where, Status.INVALID_ARGUMENT, "a resume offset " + h.getResumeOffset()
                    + " outside the image's " + h.getSizeBytes() + " bytes");
        }
        return install;
    }

    private static StatusRuntimeException refuse(String where, Status status, String what) {
        return status.withDescription(where + ": the sender sent " + what + "; the transfer is aborted")
                .asRuntimeException();
    }

    private void onHeader(SnapshotHeader h) throws IOException {
        if (header != null) {
            throw fail(Status.INVALID_ARGUMENT, "a second header");
        }
        InstallSnapshot install = admitHeader(transport, h, remote, host, proven);
        header = h;
        message = install;
        writer = transport.inbound().beginSnapshot(install, h.getSizeBytes(), h.getCrc32C());
        out = writer.output();
        long verified = writer.resumeOffset();
        long resume = h.getResumeOffset();
        if (resume == 0 && verified > 0) {
            // A sender that did not ask where to resume (or could not): start over.
            LOG.info("node {}: snapshot at {} from node {} starts over although {} bytes of it were kept from an"
                    + " interrupted transfer", transport.selfId(), install.snapshot().last(), install.from(), verified);
            writer.restart();
        } else if (resume != verified) {
            throw fail(Status.FAILED_PRECONDITION, "a transfer resuming at byte " + resume + " where " + verified
                    + " bytes are verified here (the partial changed since it asked); it asks again on the next try");
        }
        received = resume;
        if (resume > 0) {
            LOG.info("node {}: resuming snapshot at {} from node {} at byte {} of {}", transport.selfId(),
                    install.snapshot().last(), install.from(), resume, h.getSizeBytes());
        } else {
            LOG.info("node {}: receiving snapshot at {} ({} bytes) from node {}", transport.selfId(),
                    install.snapshot().last(), h.getSizeBytes(), install.from());
        }
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
        d.getData().writeTo(out);
        // Durable and recorded before the next chunk is asked for: a cut from here on resumes after it.
        writer.checkpoint();
        received += size;
        chunks++;
    }

    private void onTrailer(long sentChunks) throws IOException {
        if (header == null) {
            throw fail(Status.INVALID_ARGUMENT, "a trailer before the header");
        }
        trailerSeen = true;
        if (received != header.getSizeBytes() || sentChunks != chunks) {
            throw fail(Status.DATA_LOSS, received + " bytes (" + chunks + " chunks in this transfer) where "
                    + header.getSizeBytes() + " bytes (" + sentChunks + " chunks) were sent");
        }
        try {
            // Checks the whole image, the chunks kept from an interrupted transfer included,
            // against the sender's size and CRC32C before it becomes visible.
            writer.commit();
        } catch (dev.raftkit.spi.StorageException e) {
            throw fail(Status.DATA_LOSS, "an image whose CRC32C does not match the sender's descriptor ("
                    + e.getMessage() + ")");
        }
        ended = true;
        writer = null;
        LOG.info("node {}: snapshot at {} from node {} committed ({} bytes, {} in this transfer)", transport.selfId(),
                message.snapshot().last(), message.from(), received, received - header.getResumeOffset());
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

    private void end(Status status, boolean keepVerified) {
        ended = true;
        if (keepVerified) {
            suspend();
        } else {
            abort();
        }
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

    /** Keeps the verified chunks for the next transfer of this image (a store that cannot, aborts). */
    private void suspend() {
        if (writer != null) {
            writer.suspend();
            writer = null;
        }
    }

    @Override
    public void onError(Throwable t) {
        // The sender cancelled or the connection broke: the verified chunks stay for a resume.
        if (!ended) {
            ended = true;
            suspend();
            LOG.info("node {}: snapshot transfer from {} interrupted after {} bytes ({}); the verified bytes are kept"
                    + " and the next transfer of this image resumes after them", transport.selfId(), remote, received,
                    Status.fromThrowable(t).getCode());
        }
    }

    @Override
    public void onCompleted() {
        if (!ended) {
            end(Status.DATA_LOSS.withDescription(where() + ": the sender ended the transfer without a trailer after "
                    + received + " bytes; the verified bytes are kept for the next transfer"), true);
        }
    }
}
