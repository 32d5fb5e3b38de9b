package dev.raftkit.runtime;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client's exactly-once session (thesis §6.3) on top of {@link RaftServer#submit(long, long,
 * long, byte[])}: numbers commands, tells the cluster which results it still needs, and retries
 * with the same number so a command is applied at most once however often it is sent.
 * Thread-safe.
 */
public final class ClientSession {

    private final RaftServer server;
    private final long clientId;
    private final AtomicLong nextSequence = new AtomicLong(1);
    private final ConcurrentSkipListSet<Long> unacknowledged = new ConcurrentSkipListSet<>();

    ClientSession(RaftServer server, long clientId) {
        this.server = server;
        this.clientId = clientId;
    }

    public long clientId() {
        return clientId;
    }

    /** Takes the next sequence number for a new command. */
    public long nextSequence() {
        long seq = nextSequence.getAndIncrement();
        unacknowledged.add(seq);
        return seq;
    }

    /** Submits a new command with the next sequence number. */
    public CompletableFuture<byte[]> submit(byte[] command) {
        return submit(nextSequence(), command);
    }

    /**
     * Submits (or re-submits, after a failure) command {@code sequence} through {@code via} (any
     * server of the cluster, normally the leader). A command already applied returns its first result.
     */
    public CompletableFuture<byte[]> submit(RaftServer via, long sequence, byte[] command) {
        Long lowest = unacknowledged.isEmpty() ? sequence : unacknowledged.first();
        return via.submit(clientId, sequence, Math.min(lowest, sequence), command).whenComplete((r, e) -> {
            if (e == null) {
                unacknowledged.remove(sequence);
            }
        });
    }

    /** {@link #submit(RaftServer, long, byte[])} through the server that opened the session. */
    public CompletableFuture<byte[]> submit(long sequence, byte[] command) {
        return submit(server, sequence, command);
    }
}
