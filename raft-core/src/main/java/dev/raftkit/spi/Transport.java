package dev.raftkit.spi;

import dev.raftkit.core.message.InstallSnapshot;
import dev.raftkit.core.message.Message;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Carries messages between nodes.
 *
 * <ul>
 *   <li><b>Thread:</b> {@link #send} and {@link #sendSnapshot} are called by the raft-loop thread
 *       (and the log-writer thread for after-persist messages); {@link Inbound} is called by the
 *       transport's own threads. {@link #start} and {@link #close} by the owner of the server.
 *   <li><b>Blocking:</b> {@code send} and {@code sendSnapshot} never block: they queue and return.
 *       Inbound methods must not block either (they hand off to the raft-loop's bounded inbox).
 *   <li><b>Durability:</b> none. Messages may be lost, duplicated or reordered; Raft tolerates all
 *       three. A snapshot is handed to {@link Inbound#receive} only after its bytes were written to
 *       a {@link SnapshotWriter} and committed (durable) and their checksum verified.
 *   <li><b>Exceptions:</b> {@code send} never throws (a message that cannot go is dropped, and the
 *       peer reported unreachable through {@link Inbound#unreachable}); {@code sendSnapshot}'s future
 *       completes exceptionally if the transfer failed (the runtime then reports it to the core,
 *       which retries later); {@code start} throws {@link IOException} if it cannot listen.
 * </ul>
 */
public interface Transport extends AutoCloseable {

    /** Where the transport delivers what arrives. */
    interface Inbound {

        /** A message for this node. May drop it if the node is overloaded (Raft retries). */
        void receive(Message message);

        /** Messages to {@code peer} are failing; the leader goes back to probing it. */
        void unreachable(long peer);

        /**
         * A snapshot stream is starting for {@code message}: where to write its bytes. The transport
         * commits the writer once every chunk arrived and the checksum matches, then calls
         * {@link #receive} with the message; on any failure it aborts the writer.
         */
        SnapshotWriter beginSnapshot(InstallSnapshot message) throws IOException;

        /**
         * A snapshot stream is starting for {@code message}, whose image the sender says has
         * {@code sizeBytes} bytes with CRC32C {@code crc32c}: where to write it, possibly continuing
         * an interrupted receipt of the same image from {@link ResumableSnapshotWriter#resumeOffset()}.
         * The transport {@linkplain ResumableSnapshotWriter#checkpoint() checkpoints} after each
         * chunk it verified, commits at the end, {@linkplain ResumableSnapshotWriter#suspend()
         * suspends} when the transfer is cut (connection, sender), and aborts on anything else.
         * The default cannot resume ({@link ResumableSnapshotWriter#fromScratch}).
         */
        default ResumableSnapshotWriter beginSnapshot(InstallSnapshot message, long sizeBytes, int crc32c)
                throws IOException {
            return ResumableSnapshotWriter.fromScratch(beginSnapshot(message), sizeBytes, crc32c);
        }

        /**
         * Where a sender of that image should start: the bytes an interrupted receipt left
         * verified ({@link SnapshotStore#receivedBytes}), 0 if none. May touch the disk briefly;
         * the transport calls it from its snapshot pool. The default keeps nothing: 0.
         */
        default long snapshotResumePoint(InstallSnapshot message, long sizeBytes, int crc32c) throws IOException {
            return 0;
        }
    }

    /** Starts accepting connections and delivering to {@code inbound}. */
    void start(Inbound inbound) throws IOException;

    /**
     * Queues messages for sending; never blocks, never throws. An {@link InstallSnapshot} is not
     * sent this way (it travels only with its bytes, through {@link #sendSnapshot}): a transport
     * drops one given here, with a log line, and delivers the others.
     */
    void send(List<Message> messages);

    /**
     * Streams the snapshot named by {@code message} to its recipient, reading from {@code data},
     * in checksummed chunks with bounded memory. Completes when the recipient has the snapshot
     * durable (and has been handed the message), or exceptionally on failure. The transport closes
     * {@code data} when done.
     */
    CompletableFuture<Void> sendSnapshot(InstallSnapshot message, SnapshotReader data);

    /** Stops sending and receiving; idempotent. */
    @Override
    void close();
}
