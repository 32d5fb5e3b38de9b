package dev.raftkit.runtime;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The runtime's snapshot layout: a header with the replicated runtime state (log time, client
 * sessions, §6.3), then the state machine's own image to the end of the stream.
 *
 * <pre>[magic "RKSN":4][version:4][logTimeMillis:8][sessions…][state machine image…]</pre>
 */
final class SnapshotImage {

    static final int MAGIC = 0x524B534E;
    static final int VERSION = 1;

    private SnapshotImage() {
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
}
