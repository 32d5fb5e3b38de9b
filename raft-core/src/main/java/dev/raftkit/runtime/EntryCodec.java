package dev.raftkit.runtime;

import dev.raftkit.spi.StagedState;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The runtime's framing of NORMAL entry payloads. Every framed entry starts with its kind and the
 * leader's clock reading; the state machine sees only the client's payload.
 *
 * <pre>
 *   [kind:1][leaderMillis:8]                                          OPEN_SESSION
 *   [kind:1][leaderMillis:8][payload…]                                COMMAND
 *   [kind:1][leaderMillis:8][client:8][seq:8][lowestUnacked:8][payload…]  SESSION_COMMAND
 *   [kind:1][leaderMillis:8][client:8]                                CLOSE_SESSION
 *   [kind:1][leaderMillis:8][idLength:1][id…][origin:8][sourceIndex:8][size:8][sha256:32]  SWITCH_STATE
 * </pre>
 *
 * SWITCH_STATE is a live restore: every replica replaces its state machine's state, at that
 * entry's index, with the staged image it names ({@link dev.raftkit.spi.StagedState}); the image
 * itself never goes through the log.
 *
 * An empty payload is the leader's no-op (§8), which the core writes unframed. The client thread
 * frames a command with a zero timestamp; the raft loop stamps the leader's clock into it just
 * before proposing ({@link #stamp}), so only a leader ever stamps and followers apply the stamped
 * value (the state machine must not read its own clock: {@code StateMachine} javadoc).
 */
final class EntryCodec {

    static final byte OPEN_SESSION = 1;
    static final byte COMMAND = 2;
    static final byte SESSION_COMMAND = 3;
    static final byte CLOSE_SESSION = 4;
    static final byte SWITCH_STATE = 5;

    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final int HEADER = 9;
    static final int SESSION_HEADER = HEADER + 24;

    private EntryCodec() {
    }

    static byte[] command(byte[] payload) {
        byte[] out = new byte[HEADER + payload.length];
        out[0] = COMMAND;
        System.arraycopy(payload, 0, out, HEADER, payload.length);
        return out;
    }

    static byte[] sessionCommand(long client, long seq, long lowestUnacked, byte[] payload) {
        byte[] out = new byte[SESSION_HEADER + payload.length];
        out[0] = SESSION_COMMAND;
        LONG.set(out, HEADER, client);
        LONG.set(out, HEADER + 8, seq);
        LONG.set(out, HEADER + 16, lowestUnacked);
        System.arraycopy(payload, 0, out, SESSION_HEADER, payload.length);
        return out;
    }

    static byte[] openSession() {
        byte[] out = new byte[HEADER];
        out[0] = OPEN_SESSION;
        return out;
    }

    static byte[] closeSession(long client) {
        byte[] out = new byte[HEADER + 8];
        out[0] = CLOSE_SESSION;
        LONG.set(out, HEADER, client);
        return out;
    }

    static byte[] switchState(StagedState state) {
        byte[] id = state.id().getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[HEADER + 1 + id.length + 24 + 32];
        out[0] = SWITCH_STATE;
        out[HEADER] = (byte) id.length;
        System.arraycopy(id, 0, out, HEADER + 1, id.length);
        int at = HEADER + 1 + id.length;
        LONG.set(out, at, state.origin());
        LONG.set(out, at + 8, state.sourceIndex());
        LONG.set(out, at + 16, state.sizeBytes());
        System.arraycopy(state.sha256(), 0, out, at + 24, 32);
        return out;
    }

    /** The staged state a SWITCH_STATE entry names; {@code index} is the entry's, for the error. */
    static StagedState stagedState(byte[] data, long index) {
        int idLength = data[HEADER] & 0xff;
        int at = HEADER + 1 + idLength;
        if (data.length != at + 24 + 32) {
            throw new IllegalStateException("log entry " + index + " is a live-restore entry of " + data.length
                    + " bytes, not the " + (at + 56) + " its id length says; it is corrupt or was written by an"
                    + " incompatible version; the node stops rather than diverge from its peers");
        }
        try {
            return new StagedState(new String(data, HEADER + 1, idLength, StandardCharsets.US_ASCII),
                    (long) LONG.get(data, at), (long) LONG.get(data, at + 8), (long) LONG.get(data, at + 16),
                    Arrays.copyOfRange(data, at + 24, at + 56));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("log entry " + index + " is a live-restore entry with invalid fields ("
                    + e.getMessage() + "); the node stops rather than diverge from its peers", e);
        }
    }

    /** Writes the leader's clock reading into a framed entry (raft-loop thread, leader only). */
    static void stamp(byte[] framed, long leaderMillis) {
        LONG.set(framed, 1, leaderMillis);
    }

    static byte kind(byte[] data) {
        return data[0];
    }

    static long timestamp(byte[] data) {
        return (long) LONG.get(data, 1);
    }

    static long client(byte[] data) {
        return (long) LONG.get(data, HEADER);
    }

    static long sequence(byte[] data) {
        return (long) LONG.get(data, HEADER + 8);
    }

    static long lowestUnacked(byte[] data) {
        return (long) LONG.get(data, HEADER + 16);
    }

    /** The client's payload of a COMMAND or SESSION_COMMAND entry. */
    static byte[] payload(byte[] data) {
        int from = data[0] == SESSION_COMMAND ? SESSION_HEADER : HEADER;
        return Arrays.copyOfRange(data, from, data.length);
    }

    /** Checks the frame's length for its kind; a bad frame is corruption (or a newer writer). */
    static void validate(byte[] data, long index) {
        int min = switch (data[0]) {
            case OPEN_SESSION, COMMAND -> HEADER;
            case SESSION_COMMAND -> SESSION_HEADER;
            case CLOSE_SESSION -> HEADER + 8;
            case SWITCH_STATE -> HEADER + 1 + 1 + 24 + 32;
            default -> -1;
        };
        if (min < 0 || data.length < min) {
            throw new IllegalStateException("log entry " + index + " has an unknown or truncated runtime frame (kind "
                    + data[0] + ", " + data.length + " bytes); it was written by an incompatible version or is corrupt;"
                    + " the node stops rather than diverge from its peers");
        }
    }
}
