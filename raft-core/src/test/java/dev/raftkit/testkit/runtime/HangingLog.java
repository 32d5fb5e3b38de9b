package dev.raftkit.testkit.runtime;

import dev.raftkit.runtime.MemoryLogStorage;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/**
 * An in-memory log whose {@code sync} blocks, once {@link #hang} is set, until that latch is
 * released: a disk that stopped answering, for tests of stall detection. The log writer is the
 * only caller of {@code sync}; a test sets {@link #hang} from its own thread and releases (and
 * clears) it in a {@code finally}, or the writer stays blocked.
 */
public final class HangingLog extends ForwardingLogStorage {

    /** While non-null, {@code sync} waits for it; read at each sync. */
    public volatile CountDownLatch hang;

    public HangingLog() {
        super(new MemoryLogStorage());
    }

    @Override
    public void sync() throws IOException {
        CountDownLatch h = hang;
        if (h != null) {
            try {
                h.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted in a hung fsync", e);
            }
        }
        super.sync();
    }
}
