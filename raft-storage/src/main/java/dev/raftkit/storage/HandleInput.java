package dev.raftkit.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.function.LongFunction;

/**
 * Reads an open {@link FileIo.Handle} from its start up to {@code end} bytes, positionally (so other
 * readers of the same handle are unaffected). A file shorter than {@code end} ends the stream
 * early, or, with {@code shortFile} given, fails with the exception it makes of the offset reached.
 */
final class HandleInput extends InputStream {

    private final FileIo.Handle handle;
    private final long end;
    private final LongFunction<RuntimeException> shortFile;
    private final boolean closesHandle;
    private long pos;

    HandleInput(FileIo.Handle handle, long end, LongFunction<RuntimeException> shortFile, boolean closesHandle) {
        this.handle = handle;
        this.end = end;
        this.shortFile = shortFile;
        this.closesHandle = closesHandle;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (pos >= end) {
            return -1;
        }
        int n = handle.read(ByteBuffer.wrap(b, off, (int) Math.min(len, end - pos)), pos);
        if (n < 0) {
            if (shortFile != null) {
                throw shortFile.apply(pos);
            }
            return -1;
        }
        pos += n;
        return n;
    }

    @Override
    public void close() throws IOException {
        if (closesHandle) {
            handle.close();
        }
    }
}
