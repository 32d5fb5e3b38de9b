package dev.raftkit.storage.backup;

import dev.raftkit.storage.FileIo;
import dev.raftkit.storage.ForwardingFileIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.function.LongConsumer;

/**
 * A {@link FileIo} that reports every byte read through it, so a restore can show how far it has
 * got without each of its readers (verification, the snapshot copy, the entry scan) counting on
 * its own: they all read through {@link FileIo#open} handles. Everything else is the underlying
 * file system's, unchanged. Called on the reading thread; {@code onRead} must not block.
 */
final class ReadCountingFileIo extends ForwardingFileIo {

    private final LongConsumer onRead;

    ReadCountingFileIo(FileIo io, LongConsumer onRead) {
        super(io);
        this.onRead = onRead;
    }

    /** The file system under the count: a restore's own check of what it wrote is not reading the chain. */
    static FileIo uncounted(FileIo io) {
        return io instanceof ReadCountingFileIo counted ? counted.delegate : io;
    }

    @Override
    public Handle open(Path file) throws IOException {
        return new ForwardingHandle(delegate.open(file)) {
            @Override
            public int read(ByteBuffer dst, long position) throws IOException {
                int n = delegate.read(dst, position);
                if (n > 0) {
                    onRead.accept(n);
                }
                return n;
            }
        };
    }
}
