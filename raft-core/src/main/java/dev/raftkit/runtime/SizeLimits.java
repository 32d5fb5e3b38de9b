package dev.raftkit.runtime;

import dev.raftkit.core.RaftException;

/**
 * The one place the size limits of a command's path are derived from, so they agree end to end:
 * a command the client port accepts always fits a log record and a peer's AppendEntries, and a
 * command that does not fit is refused before anything is appended.
 *
 * <p>The chain, for a configured {@code maxCommandBytes} (default {@value #DEFAULT_MAX_COMMAND_BYTES}):
 * <ul>
 *   <li>the server refuses larger commands ({@link RaftServer#submit(byte[])}: {@link
 *       RaftException.Reason#TOO_LARGE}, not retryable);
 *   <li>the client port accepts gRPC messages up to {@link #clientMessageBytes(int)}, so a command
 *       slightly too large still gets that clear refusal, and a much larger one is cut off by gRPC
 *       before it is buffered whole;
 *   <li>a peer must accept messages of at least {@link #peerMessageBytes(int)}: the command, the
 *       runtime's session frame and the envelope of one AppendEntries ({@link #checkPeerLimit}).
 * </ul>
 * A log record holds up to 256 MiB, far above {@link #MAX_COMMAND_BYTES_LIMIT}.
 */
public final class SizeLimits {

    /** Default largest client command (payload bytes, before the runtime's framing). */
    public static final int DEFAULT_MAX_COMMAND_BYTES = 8 << 20;
    /** The largest value {@code maxCommandBytes} may be configured to. */
    public static final int MAX_COMMAND_BYTES_LIMIT = 64 << 20;
    /** What the runtime adds to a command in the log: the largest frame, a session command's. */
    public static final int RUNTIME_FRAME_BYTES = EntryCodec.SESSION_HEADER;
    /**
     * Headroom for everything around one entry in a peer message (cluster id of up to 128 bytes,
     * term, index, commit, entry tags) or around a command in a client request; generous on purpose.
     */
    public static final int ENVELOPE_BYTES = 64 << 10;
    /** Default largest peer message: room for a default-sized command and for batching. */
    public static final int DEFAULT_PEER_MESSAGE_BYTES = 16 << 20;

    private SizeLimits() {
    }

    /** Checks a configured command limit; returns it. */
    public static int checkMaxCommandBytes(int maxCommandBytes) {
        if (maxCommandBytes < 1 || maxCommandBytes > MAX_COMMAND_BYTES_LIMIT) {
            throw new IllegalArgumentException("maxCommandBytes must be between 1 and " + MAX_COMMAND_BYTES_LIMIT
                    + " (64 MiB), got " + maxCommandBytes);
        }
        return maxCommandBytes;
    }

    /** The smallest peer message limit that carries a command of {@code maxCommandBytes} in one AppendEntries. */
    public static int peerMessageBytes(int maxCommandBytes) {
        return checkMaxCommandBytes(maxCommandBytes) + RUNTIME_FRAME_BYTES + ENVELOPE_BYTES;
    }

    /** The gRPC inbound limit of the client port for commands of up to {@code maxCommandBytes}. */
    public static int clientMessageBytes(int maxCommandBytes) {
        // The slack lets a command a little over the limit reach the service, which refuses it by
        // name with both sizes, instead of gRPC's bare RESOURCE_EXHAUSTED.
        return checkMaxCommandBytes(maxCommandBytes) + Math.max(ENVELOPE_BYTES, 1 << 20);
    }

    /**
     * Refuses a configuration whose peers could not carry its largest command: such a command
     * would be appended on the leader but never replicated, stalling every write behind it.
     *
     * @throws IllegalArgumentException naming both limits and what to change
     */
    public static void checkPeerLimit(int maxCommandBytes, int peerMaxMessageBytes) {
        int needed = peerMessageBytes(maxCommandBytes);
        if (peerMaxMessageBytes < needed) {
            throw new IllegalArgumentException("the peer message limit (" + peerMaxMessageBytes + " bytes) is below "
                    + needed + " bytes, what one AppendEntries needs to carry a command of maxCommandBytes ("
                    + maxCommandBytes + "): such a command would be appended but never replicated. Raise the peer"
                    + " limit (maxMessageBytes) on every node, or lower maxCommandBytes");
        }
    }

    /** The refusal of a command of {@code size} bytes over {@code maxCommandBytes}, at node {@code nodeId}. */
    public static RaftException tooLarge(long nodeId, long size, int maxCommandBytes) {
        return new RaftException(RaftException.Reason.TOO_LARGE, 0, "node " + nodeId + ": the command is "
                + size + " bytes, over the limit of " + maxCommandBytes + " bytes (maxCommandBytes); it was not"
                + " proposed. Split it into smaller commands, or raise maxCommandBytes on every node");
    }
}
