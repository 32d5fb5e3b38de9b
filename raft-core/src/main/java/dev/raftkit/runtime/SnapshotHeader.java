package dev.raftkit.runtime;

import dev.raftkit.spi.SnapshotReader;
import dev.raftkit.spi.StateMachine;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The header the runtime writes before the state machine's image in every snapshot: the
 * replicated runtime state (log time, client sessions, §6.3). The state machine's own image
 * follows it to the end of the stream.
 *
 * <pre>[magic "RKSN":4][version:4][logTimeMillis:8][sessions…][state machine image…]</pre>
 */
final class SnapshotHeader {

    static final int MAGIC = 0x524B534E;
    static final int VERSION = 1;

    private SnapshotHeader() {
    }

    /** Encodes the header now, on the apply thread, so it is a point-in-time copy like the image. */
    static byte[] header(long logTime, SessionTable sessions) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeLong(logTime);
            sessions.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Reads the header into {@code sessions}; returns the log time. */
    static long readHeader(DataInputStream in, SessionTable sessions, String where) throws IOException {
        int magic = in.readInt();
        int version = in.readInt();
        if (magic != MAGIC || version != VERSION) {
            throw new IOException(where + " is not a Raftkit runtime snapshot of version " + VERSION + " (magic "
                    + Integer.toHexString(magic) + ", version " + version + "); it cannot be restored");
        }
        long logTime = in.readLong();
        sessions.readFrom(in);
        return logTime;
    }

    /**
     * Restores a stored snapshot: the header into {@code sessions}, then the rest of the stream
     * into {@code sm} at {@code index}; returns the log time. At start-up (the caller's thread) and
     * for a snapshot installed from the leader (the apply thread).
     */
    static long restore(SnapshotReader r, StateMachine sm, SessionTable sessions, long index, String where,
                         boolean forgetResponses) throws IOException {
        try (InputStream raw = r.input()) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 64 * 1024));
            long logTime = SnapshotHeader.readHeader(in, sessions, where);
            if (forgetResponses) {
                sessions.forgetResponses(); // TestingHooks.forgetSessionResponsesOnRestore: testing only
            }
            sm.restore(index, new FilterInputStream(in) {
                @Override
                public void close() {
                    // The runtime closes the snapshot stream, not the state machine.
                }
            });
            return logTime;
        }
    }
}
